package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"

	"infobus/schema"
)

// Sample data for the demo, and for the tests and benchmarks that need
// visits as varied as real ones: compression and search behave differently
// on identical copies.

var (
	sampleBusinessFirst = []string{"Kapsalon", "Bakkerij", "Slagerij", "Café", "Toko", "Fietsenmaker", "Bloemenhuis", "Schoenmakerij",
		"Snackbar", "Reisbureau", "Kledingzaak", "Lunchroom", "Drogisterij", "Boekhandel", "Belhuis", "Juwelier", "Nagelstudio", "Garage"}
	sampleBusinessLast = []string{"Noor", "De Hofstad", "Aydın", "Het Zuiden", "Van Dijk", "Mokum", "El Amrani", "De Zeester", "Jansen",
		"Sahin", "Duinzicht", "Bij Fatima", "Het Plein", "De Molen", "Kaya", "Suriname", "Oranje", "De Vries & Zn"}
	sampleStreets = []string{"Weimarstraat", "Paul Krugerlaan", "Hoefkade", "Vaillantlaan", "Hobbemastraat", "Stationsweg", "Prinsegracht",
		"Loosduinseweg", "Frederik Hendriklaan", "Keizerstraat", "Leyweg", "Dierenselaan", "Beeklaan", "Goudenregenstraat",
		"Elandstraat", "Spui", "Wagenstraat", "Herengracht", "Zoutmanstraat", "Fahrenheitstraat"}
	sampleCrew  = []string{"Sanne", "Mohamed", "Lotte", "Yusuf", "Priya", "Daan", "Fatma", "Joost"}
	sampleStops = []string{"Haagse Markt", "Fred Hendriklaan bij de kiosk", "Leyweg bij het stadsdeelkantoor", "Keizerstraat haven",
		"Paul Krugerplein", "Hobbemaplein", "Spuiplein", "Loosduinen centrum"}
	sampleNotes = []string{
		"Wil een terras aanvragen voor de zomer en weet niet welke vergunning nodig is.",
		"Klaagt over overlast van hangjongeren 's avonds bij de ingang van de winkel.",
		"Vraagt of er subsidie is voor het verduurzamen van de verlichting.",
		"Heeft al drie keer het Ondernemersloket gebeld zonder antwoord.",
		"Parkeren voor leveranciers is lastig sinds de herinrichting van de straat.",
		"Zoekt personeel en wil weten of de gemeente kan helpen met werkzoekenden.",
		"De stoep voor de zaak is al maanden kapot; klanten met een rollator struikelen.",
		"Overweegt uit te breiden naar het pand ernaast en vraagt naar bestemmingsplan.",
		"Positief over de bus: fijn dat de gemeente langskomt.",
		"Wil graag meedoen aan het ondernemerspanel.",
		"Vraagt hoe de reclamebelasting berekend wordt.",
		"Heeft last van inbraken; vraagt naar het keurmerk veilig ondernemen.",
		"Afvalophaling voor bedrijven is onduidelijk sinds de nieuwe regels.",
		"Spreekt beperkt Nederlands; gesprek deels in het Engels gevoerd.",
		"Wil een evenement organiseren op het plein en vraagt naar de procedure.",
		"Heeft een brief over een naheffing ontvangen en begrijpt die niet.",
		"Vraagt of de ingang toegankelijk gemaakt kan worden met een hellingbaan.",
		"Is tevreden over het contact met de accountmanager.",
		"Vraagt naar mogelijkheden voor een laadpaal voor de bestelbus.",
		"Meldt leegstand in de straat en zorgen over de aantrekkelijkheid van het winkelgebied.",
		"Twijfelt of een horecavergunning nodig is voor koffie to go.",
		"Wil weten wanneer de werkzaamheden aan de tramlijn klaar zijn.",
		"Vraagt om een gesprek met de wijkagent over winkeldiefstal.",
		"Heeft hulp nodig bij de aanvraag van een exploitatievergunning.",
	}
	sampleFollowUps = []string{
		"Terugbellen over de vergunningaanvraag en de benodigde stukken.",
		"Informatie sturen over de subsidieregeling verduurzaming mkb.",
		"Doorverwijzen naar de accountmanager van het winkelgebied.",
		"Melding doorzetten naar stadsbeheer over de kapotte stoep.",
		"Afspraak maken voor een bezoek van de wijkagent.",
		"Uitleg sturen over de reclamebelasting en de bezwaartermijn.",
		"Contact opnemen over de procedure voor evenementen op het plein.",
	}
	sampleFirstNames = []string{"Noor", "Ahmet", "Petra", "Kees", "Samira", "Wim", "Ayşe", "Ricardo", "Ingrid", "Karim"}
	sampleLastNames  = []string{"Bakker", "Yılmaz", "de Jong", "El Idrissi", "Visser", "Ramdin", "Smit", "Öztürk", "Mulder", "Bouzid"}
)

// sampleVisit makes a valid, varied visit with UUIDv7 ids, visited around at.
func sampleVisit(rng *rand.Rand, at time.Time) schema.Visit {
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	visitedAt := at.Add(-time.Duration(rng.IntN(8*3600)) * time.Second).Truncate(time.Second)
	w := schema.Ref.Wijken[rng.IntN(len(schema.Ref.Wijken))]
	letters := "ABCEGHJKLMNPRTVWXZ"
	postcode := fmt.Sprintf("25%02d%c%c", 1+rng.IntN(98), letters[rng.IntN(len(letters))], letters[rng.IntN(len(letters))])
	v := schema.Visit{
		ID:        newV7(),
		DeviceID:  sampleDevices[rng.IntN(len(sampleDevices))],
		Crew:      pick(sampleCrew),
		Stop:      pick(sampleStops),
		VisitedAt: visitedAt.Format(time.RFC3339),
		Business: schema.Business{
			Name: pick(sampleBusinessFirst) + " " + pick(sampleBusinessLast),
			KvK:  fmt.Sprintf("%08d", 10000000+rng.IntN(89999999)),
			Address: schema.Address{Street: pick(sampleStreets), Number: fmt.Sprint(1 + rng.IntN(240)),
				Postcode: postcode, City: "Den Haag"},
		},
		Wijk:     w.Code,
		Sector:   schema.Ref.Sectors[rng.IntN(len(schema.Ref.Sectors))].Code,
		Language: schema.Ref.Languages[rng.IntN(min(4, len(schema.Ref.Languages)))].Code,
		Rev:      1,
	}
	for _, i := range rng.Perm(len(schema.Ref.Topics))[:1+rng.IntN(3)] {
		v.Topics = append(v.Topics, schema.Ref.Topics[i].Code)
	}
	var notes []string
	for _, i := range rng.Perm(len(sampleNotes))[:1+rng.IntN(3)] {
		notes = append(notes, sampleNotes[i])
	}
	v.Notes = strings.Join(notes, " ")
	if rng.IntN(10) < 6 {
		v.Consent = schema.Consent{Given: true, TextVersion: schema.ConsentTextVersion, At: visitedAt.Format(time.RFC3339)}
		first, last := pick(sampleFirstNames), pick(sampleLastNames)
		v.Contact = &schema.Contact{Name: first + " " + last, Phone: fmt.Sprintf("06%08d", rng.IntN(100000000))}
		if rng.IntN(2) == 0 {
			v.Contact.Email = strings.ToLower(strings.ReplaceAll(first, "ş", "s")) + fmt.Sprintf("%d@example.nl", rng.IntN(1000))
		}
		v.PanelOptIn = rng.IntN(4) == 0
	}
	if rng.IntN(3) > 0 {
		r := 3 + rng.IntN(8)
		v.Rating = &r
	}
	for range rng.IntN(3) {
		f := schema.FollowUp{
			ID:          newV7(),
			Kind:        schema.KindInformation,
			Description: pick(sampleFollowUps),
			Department:  schema.Ref.Departments[rng.IntN(len(schema.Ref.Departments))].Code,
			DueDate:     visitedAt.AddDate(0, 0, 7+rng.IntN(21)).Format(time.DateOnly),
		}
		if v.Contact != nil {
			f.Kind = []string{schema.KindCallback, schema.KindVisit, schema.KindReferral, schema.KindInformation}[rng.IntN(4)]
			if v.Contact.Email != "" && rng.IntN(3) == 0 {
				f.Kind = schema.KindEmail
			}
		}
		v.FollowUps = append(v.FollowUps, f)
	}
	v.CreatedAt = visitedAt.Add(time.Duration(5+rng.IntN(600)) * time.Second).Format(time.RFC3339)
	v.UpdatedAt = v.CreatedAt
	v.Normalize()
	return v
}

// sampleEdit returns the next rev of v with the crew's typical change: a
// note added, a rating given.
func sampleEdit(rng *rand.Rand, v schema.Visit) schema.Visit {
	v.Rev++
	v.Notes = strings.TrimSpace(v.Notes + " Aanvulling: " + sampleNotes[rng.IntN(len(sampleNotes))])
	if len([]rune(v.Notes)) > schema.MaxNotes {
		v.Notes = sampleNotes[rng.IntN(len(sampleNotes))]
	}
	r := 1 + rng.IntN(10)
	v.Rating = &r
	v.FollowUps = append([]schema.FollowUp(nil), v.FollowUps...)
	return v
}

var sampleDevices = []string{newV7(), newV7(), newV7()}

func newV7() string {
	id, err := uuid.NewV7()
	if err != nil {
		panic(err) // only when the system's random source fails
	}
	return id.String()
}

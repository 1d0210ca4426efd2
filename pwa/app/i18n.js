// The one string catalogue of the tablet app: every key has its Dutch text
// first and its English text second. Elements carry data-i18n="key" (text),
// data-i18n-aria="key" (aria-label) or data-i18n-title="key"; apply() fills
// them, so switching language never touches what the crew typed.

const catalogue = {
  'app.title': ['Infobus', 'Infobus'],
  skip: ['Naar de inhoud', 'Skip to content'],
  'lang.other': ['English', 'Nederlands'],
  'lang.switch': ['Switch to English', 'Schakel naar Nederlands'],
  'nav.label': ['Hoofdmenu', 'Main menu'],
  'nav.list': ['Bezoeken', 'Visits'],
  'nav.new': ['Nieuw bezoek', 'New visit'],
  'nav.settings': ['Instellingen', 'Settings'],
  required: ['verplicht', 'required'],
  optional: ['mag leeg blijven', 'may stay empty'],
  none: ['— geen —', '— none —'],
  choose: ['— kies —', '— choose —'],
  loading: ['Laden…', 'Loading…'],

  'update.text': ['Er is een nieuwe versie van de app.', 'A new version of the app is ready.'],
  'update.reload': ['Nu laden', 'Load it now'],

  'pair.title': ['Tablet koppelen aan de bus', 'Connect this tablet to the bus'],
  'pair.intro': ['Scan de QR-code op de laptop van de bus met de camera van de tablet. Of typ hieronder de koppelcode. De coördinator van de bus geeft je de code.', 'Scan the QR code on the bus laptop with the camera of the tablet. Or type the pairing code below. The bus coordinator gives you the code.'],
  'pair.code': ['Koppelcode', 'Pairing code'],
  'pair.hint': ['Acht tekens, bijvoorbeeld ABCD-EFGH.', 'Eight characters, for example ABCD-EFGH.'],
  'pair.name': ['Naam van deze tablet', 'Name of this tablet'],
  'pair.name.hint': ['Mag leeg blijven. Dan geeft de bus de tablet een nummer, zoals Tablet 3.', 'May stay empty. The bus then gives the tablet a number, such as Tablet 3.'],
  'pair.submit': ['Koppelen', 'Connect'],
  'pair.busy': ['Bezig met koppelen…', 'Connecting…'],
  'pair.empty': ['Typ de koppelcode.', 'Type the pairing code.'],
  'pair.offline': ['Er is geen verbinding met de bus. Kijk of de tablet op de wifi van de bus zit en probeer het opnieuw.', 'There is no connection with the bus. Check that the tablet is on the Wi-Fi of the bus and try again.'],
  'pair.failed': ['Koppelen is niet gelukt. Probeer het opnieuw of vraag de coördinator om een nieuwe code.', 'Connecting did not work. Try again, or ask the coordinator for a new code.'],
  'pair.revoked': ['Deze tablet is niet meer gekoppeld aan de bus. Koppel hem opnieuw. De bezoeken op deze tablet blijven bewaard.', 'This tablet is no longer connected to the bus. Connect it again. The visits on this tablet are kept.'],
  'pair.queued': [['1 bezoek staat nog op deze tablet. Het blijft bewaard en gaat naar de bus zodra de tablet gekoppeld is.', '{n} bezoeken staan nog op deze tablet. Ze blijven bewaard en gaan naar de bus zodra de tablet gekoppeld is.'], ['1 visit is still on this tablet. It is kept and goes to the bus once the tablet is connected.', '{n} visits are still on this tablet. They are kept and go to the bus once the tablet is connected.']],
  'pair.already': ['Deze tablet is al gekoppeld. Koppel je opnieuw, dan wordt het een nieuwe tablet voor de bus. De bezoeken op deze tablet blijven bewaard.', 'This tablet is already connected. If you connect again, the bus sees a new tablet. The visits on this tablet are kept.'],
  'pair.done': ['De tablet is gekoppeld aan de bus.', 'The tablet is connected to the bus.'],

  'status.label': ['Versturen', 'Sending'],
  'status.tablet': ['Nog op deze tablet', 'Still on this tablet'],
  'status.aside': ['Apart gezet', 'Set aside'],
  'status.bus': ['Op de bus, nog niet verstuurd', 'On the bus, not sent yet'],
  'status.last': ['Laatst verstuurd naar kantoor', 'Last sent to the office'],
  'status.never': ['nog nooit', 'never'],
  'status.unknown': ['onbekend', 'unknown'],
  'status.reachable': ['Verbinding met de bus', 'Connected to the bus'],
  'status.unreachable': ['Geen verbinding met de bus', 'No connection with the bus'],
  'sync.now': ['Nu versturen naar kantoor', 'Send to the office now'],
  'sync.busy': ['Bezig met versturen…', 'Sending…'],
  'sync.done': ['De bus verstuurt de bezoeken nu naar kantoor.', 'The bus is sending the visits to the office now.'],
  'sync.offline': ['Er is geen verbinding met de bus. De bezoeken blijven op deze tablet en gaan later mee.', 'There is no connection with the bus. The visits stay on this tablet and go along later.'],
  'sync.unavailable': ['Deze bus kan nog niet op verzoek versturen. Hij verstuurt vanzelf, elke paar minuten.', 'This bus cannot send on request yet. It sends by itself every few minutes.'],
  'sync.failed': ['Versturen is niet gelukt. Probeer het later opnieuw.', 'Sending did not work. Try again later.'],
  'offline.banner': ['Geen verbinding met de bus. Wat je opslaat, blijft op deze tablet. Het gaat vanzelf naar de bus als de verbinding terug is.', 'No connection with the bus. What you save stays on this tablet. It goes to the bus by itself when the connection is back.'],
  'sync.needsbus': ['Versturen kan pas als er weer verbinding met de bus is.', 'You can send once the tablet is connected to the bus again.'],
  'storage.notice': ['Deze browser belooft niet dat hij de bezoeken op deze tablet bewaart. Zet de app op het beginscherm: tik op Delen en dan op ‘Zet op beginscherm’. Open de app daarna via het beginscherm.', 'This browser does not promise to keep the visits on this tablet. Add the app to the Home Screen: tap Share, then ‘Add to Home Screen’. Then open the app from the Home Screen.'],
  'sync.error': ['De laatste keer versturen naar kantoor lukte niet. De bus probeert het opnieuw.', 'The last attempt to send to the office did not work. The bus tries again.'],

  'list.title': ['Bezoeken', 'Visits'],
  'list.search': ['Zoeken', 'Search'],
  'list.search.hint': ['Naam, KvK-nummer, adres, wijk of notitie.', 'Name, KvK number, address, wijk or note.'],
  'list.range': ['Tonen', 'Show'],
  'list.range.today': ['Vandaag', 'Today'],
  'list.range.all': ['Alle bezoeken', 'All visits'],
  'list.range.hint': ['Vandaag: ook oudere bezoeken die nog op deze tablet staan of apart gezet zijn.', 'Today: also older visits still on this tablet or set aside.'],
  'list.empty': ['Nog geen bezoeken.', 'No visits yet.'],
  'list.nomatch': ['Geen bezoeken gevonden.', 'No visits found.'],
  'list.count': [['1 bezoek', '{n} bezoeken'], ['1 visit', '{n} visits']],

  'state.tablet': ['nog op deze tablet', 'still on this tablet'],
  'state.bus': ['op de bus', 'on the bus'],
  'state.office': ['verstuurd naar kantoor', 'sent to the office'],
  'state.handled': ['afgerond', 'done'],
  'state.set_aside': ['apart gezet', 'set aside'],

  'form.new': ['Nieuw bezoek', 'New visit'],
  'form.edit': ['Bezoek bewerken', 'Edit visit'],
  'form.notfound': ['Dit bezoek staat niet op deze tablet.', 'This visit is not on this tablet.'],
  'form.noref': ['De lijsten met wijken en onderwerpen zijn nog niet geladen. Maak één keer verbinding met de bus.', 'The lists of wijken and topics have not loaded yet. Connect to the bus once.'],
  'form.errors': [['Controleer 1 veld:', 'Controleer {n} velden:'], ['Check 1 field:', 'Check {n} fields:']],
  'form.saved': ['Opgeslagen op de tablet.', 'Saved on the tablet.'],
  'form.setaside': ['Apart gezet door de bus: {message}', 'Set aside by the bus: {message}'],
  'form.setaside.fix': ['Pas het bezoek aan en sla het opnieuw op. Het gaat dan opnieuw naar de bus.', 'Correct the visit and save it again. It then goes to the bus again.'],
  'form.setaside.office': ['Apart gezet door het kantoor: {message}', 'Set aside by the office: {message}'],
  'list.aside.bus': ['Geweigerd door de bus: {message}', 'Refused by the bus: {message}'],
  'list.aside.office': ['Geweigerd door het kantoor: {message}', 'Refused by the office: {message}'],
  // Why the office set a visit aside, by the reason codes of sync/protocol.go.
  // The office's own message is English only.
  'aside.validation': ['Niet alle velden zijn goed ingevuld. Verbeter de gemarkeerde velden en sla het bezoek opnieuw op.', 'Some fields are not filled in correctly. Correct the marked fields and save the visit again.'],
  'aside.conflict': ['Op kantoor staat dit bezoek al, met andere gegevens. Kijk bij de gemarkeerde velden en sla het bezoek opnieuw op.', 'The office already has this visit, with other details. Check the marked fields and save the visit again.'],
  'aside.foreign_id': ['Het kantoor heeft al een bezoek met dit nummer van een andere bus. Opnieuw opslaan helpt niet. Neem contact op met het kantoor.', 'The office already has a visit with this number from another bus. Saving again does not help. Contact the office.'],
  'aside.foreign_followup': ['Een vervolgafspraak heeft een nummer dat op kantoor al bij een ander bezoek hoort. Verwijder die vervolgafspraak, voeg haar opnieuw toe en sla het bezoek op.', 'A follow-up has a number that belongs to another visit at the office. Remove that follow-up, add it again and save the visit.'],
  'aside.malformed': ['Het kantoor kon dit bezoek niet lezen. Sla het opnieuw op. Helpt dat niet? Neem dan contact op met het kantoor.', 'The office could not read this visit. Save it again. If that does not help, contact the office.'],
  'aside.other': ['Het kantoor heeft dit bezoek niet aangenomen. Controleer het en sla het opnieuw op.', 'The office did not take this visit. Check it and save it again.'],
  'path.id': ['Nummer van het bezoek', 'Visit number'],
  'path.rev': ['Versie', 'Revision'],
  'form.state': ['Waar is dit bezoek: {state}.', 'Where this visit is: {state}.'],
  'form.dirty': ['Je wijzigingen zijn nog niet opgeslagen. Toch weggaan?', 'Your changes are not saved yet. Leave anyway?'],
  'form.business': ['Onderneming', 'Business'],
  'form.address': ['Adres', 'Address'],
  'business.name': ['Naam onderneming', 'Business name'],
  'business.kvk': ['KvK-nummer', 'KvK number'],
  'business.kvk.hint': ['8 cijfers.', '8 digits.'],
  'business.address.street': ['Straat', 'Street'],
  'business.address.number': ['Huisnummer', 'House number'],
  'business.address.postcode': ['Postcode', 'Postcode'],
  'business.address.postcode.hint': ['Zoals 2511 AB.', 'Like 2511 AB.'],
  'business.address.city': ['Plaats', 'City'],
  wijk: ['Wijk', 'Wijk (neighbourhood)'],
  sector: ['Sector', 'Sector'],
  topics: ['Onderwerpen', 'Topics'],
  'topics.hint': ['Kies minstens één onderwerp.', 'Choose at least one topic.'],
  notes: ['Notities', 'Notes'],
  'notes.count': ['{n} van {max} tekens', '{n} of {max} characters'],
  language: ['Taal van het gesprek', 'Language of the conversation'],
  visited_at: ['Datum en tijd van het bezoek', 'Date and time of the visit'],
  consent: ['Toestemming', 'Permission'],
  'consent.hint': ['Zonder toestemming bewaren we geen naam, telefoonnummer of e-mailadres.', 'Without permission we keep no name, phone number or e-mail address.'],
  'contact.name': ['Naam contactpersoon', 'Contact name'],
  'contact.phone': ['Telefoonnummer', 'Phone number'],
  'contact.phone.hint': ['Zoals 06 12345678 of +31 70 1234567.', 'Like 06 12345678 or +31 70 1234567.'],
  'contact.email': ['E-mailadres', 'E-mail address'],
  panel_opt_in: ['Wil meedoen met het ondernemerspanel', 'Wants to join the entrepreneurs’ panel'],
  rating: ['Rapportcijfer van de ondernemer voor de dienstverlening van de gemeente', 'The entrepreneur’s mark for the municipality’s service'],
  'rating.hint': ['1 is heel slecht, 10 is uitstekend. Dit hoeft niet.', '1 is very poor, 10 is excellent. You may leave this out.'],
  'rating.clear': ['Geen cijfer', 'No mark'],
  followups: ['Vervolgafspraken', 'Follow-ups'],
  'followups.none': ['Geen vervolgafspraken.', 'No follow-ups.'],
  'followups.add': ['Andere vervolgafspraak', 'Other follow-up'],
  'followups.item': ['Vervolgafspraak {n}', 'Follow-up {n}'],
  'followups.remove': ['Vervolgafspraak {n} verwijderen', 'Remove follow-up {n}'],
  'followups.max': ['Een bezoek heeft hoogstens {max} vervolgafspraken.', 'A visit has at most {max} follow-ups.'],
  'followup.kind': ['Soort', 'Kind'],
  'followup.description': ['Omschrijving', 'Description'],
  'followup.department': ['Afdeling', 'Department'],
  'followup.due_date': ['Klaar op', 'Done by'],
  'followup.code': ['Code op de kaart', 'Code on the card'],
  'followup.code.hint': ['De code op de kaart die de ondernemer krijgt.', 'The code on the card the entrepreneur gets.'],
  'followup.status': ['Kantoor: {status}', 'Office: {status}'],
  'kind.callback': ['terugbellen', 'call back'],
  'kind.email': ['e-mail sturen', 'send an e-mail'],
  'kind.visit': ['langsgaan', 'visit'],
  'kind.referral': ['doorverwijzen', 'refer'],
  'kind.information': ['informatie sturen', 'send information'],
  'quick.callback': ['Terugbellen', 'Call back'],
  'quick.email': ['E-mail sturen', 'Send an e-mail'],
  'quick.visit': ['Langsgaan', 'Visit'],
  'quick.referral': ['Doorverwijzen', 'Refer'],
  'quick.information': ['Informatie sturen', 'Send information'],
  'followups.quick': ['Vervolgafspraak toevoegen:', 'Add a follow-up:'],
  'followup.resolution': ['Wat het kantoor deed: {resolution}', 'What the office did: {resolution}'],
  'list.followup': ['Vervolgafspraak: {status}', 'Follow-up: {status}'],
  'contact.withheld': ['De contactgegevens staan alleen op de tablet waarop dit bezoek is gemaakt, en op de bus. Ze blijven bewaard als je opslaat.', 'The contact details are only on the tablet this visit was made on, and on the bus. They are kept when you save.'],
  'form.other': ['Dit bezoek is gemaakt op een andere tablet. Je kunt het bekijken en aanpassen.', 'This visit was made on another tablet. You can look at it and change it.'],
  'fstatus.open': ['nog niet begonnen', 'not started'],
  'fstatus.in_progress': ['we zijn ermee bezig', 'in progress'],
  'fstatus.done': ['afgerond', 'done'],
  'fstatus.cancelled': ['gestopt', 'stopped'],
  'fstatus.waiting': ['wacht op de ondernemer', 'waiting for the entrepreneur'],
  'fstatus.reopen_requested': ['ondernemer vraagt om opnieuw te openen', 'the entrepreneur asks to reopen'],
  'followup.code.scan': ['Kaart scannen', 'Scan a card'],
  // A typed code, worded as schema.ParseCode words it.
  'code.empty': ['Vul de code in.', 'Enter the code.'],
  'code.character': ['Het teken „{char}” komt niet voor in een code. Een code heeft alleen cijfers en letters.', 'The character “{char}” does not occur in a code. A code has only digits and letters.'],
  'code.u': ['De letter U komt niet voor in een code. Misschien is het een V.', 'The letter U does not occur in a code. Perhaps it is a V.'],
  'code.length': ['Een code heeft {max} tekens. U hebt er {n} ingevuld.', 'A code has {max} characters. You entered {n}.'],
  'code.toolong': ['Een code heeft {max} tekens. Dit is veel te lang.', 'A code has {max} characters. This is far too long.'],
  'code.check': ['Deze code klopt niet. Vergelijk elk teken met de kaart.', 'This code is not right. Check each character against the card.'],
  'code.ok': ['De code klopt.', 'The code is right.'],
  'feedback.title': ['Reactie van de ondernemer: cijfer {rating} van 10', 'Feedback from the entrepreneur: {rating} out of 10'],
  'feedback.pref.phone': ['Wil gebeld worden', 'Would like a phone call'],
  'feedback.pref.email': ['Wil een e-mail', 'Would like an e-mail'],
  'feedback.pref.none': ['Wil geen contact', 'Wants no contact'],
  'list.feedback': ['Reactie: {rating}', 'Feedback: {rating}'],

  'qr.title': ['Code voor de ondernemer', 'Code for the entrepreneur'],
  'qr.line': ['Scan deze code met uw telefoon. Dan ziet u wat de gemeente met uw vraag doet.', 'Scan this code with your phone to see what the municipality does with your question.'],
  'qr.alt': ['QR-code {code}', 'QR code {code}'],
  'qr.oncard': ['Deze code staat op de kaart van de ondernemer. De QR-code is te zien als de tablet verbinding heeft met de bus.', 'This code is on the entrepreneur’s card. The QR code shows when the tablet is connected to the bus.'],
  'qr.missing': [['1 vervolgafspraak heeft geen code: de tablet heeft geen codes meer. Geef de ondernemer een kaart. Of maak verbinding met de bus en sla het bezoek opnieuw op.', '{n} vervolgafspraken hebben geen code: de tablet heeft geen codes meer. Geef de ondernemer een kaart. Of maak verbinding met de bus en sla het bezoek opnieuw op.'], ['1 follow-up has no code: the tablet has no codes left. Give the entrepreneur a card. Or connect to the bus and save the visit again.', '{n} follow-ups have no code: the tablet has no codes left. Give the entrepreneur a card. Or connect to the bus and save the visit again.']],
  'qr.nocode': ['Dit bezoek heeft geen code.', 'This visit has no code.'],
  'qr.back': ['Terug naar de lijst', 'Back to the list'],
  'qr.open': ['Bezoek openen', 'Open the visit'],
  'qr.show': ['QR-code groot tonen', 'Show the QR code large'],
  'scan.title': ['Kaart scannen', 'Scan a card'],
  'scan.aim': ['Houd de QR-code op de kaart voor de camera.', 'Hold the QR code on the card in front of the camera.'],
  'scan.nocamera': ['De camera werkt niet. Typ de code van de kaart.', 'The camera does not work. Type the code from the card.'],
  'scan.close': ['Sluiten', 'Close'],
  'cards.title': ['Kaarten printen', 'Print cards'],
  'cards.intro': ['Kaarten met een code voor ondernemers, 8 op een A4. Het vel opent in een nieuw tabblad. Print het daar.', 'Cards with a code for entrepreneurs, 8 on an A4 sheet. The sheet opens in a new tab. Print it there.'],
  'cards.count': ['Aantal kaarten', 'Number of cards'],
  'cards.print': ['Vel met kaarten openen', 'Open a sheet of cards'],
  'cards.busy': ['Bezig…', 'Working…'],
  'cards.opened': ['Het vel met kaarten is geopend in een nieuw tabblad.', 'The sheet of cards has opened in a new tab.'],
  'cards.offline': ['De bus is niet bereikbaar. Kaarten maken kan alleen met verbinding met de bus.', 'The bus cannot be reached. Cards can only be made when connected to the bus.'],
  'cards.failed': ['Kaarten maken lukte niet (status {status}).', 'Making cards failed (status {status}).'],
  save: ['Opslaan', 'Save'],
  cancel: ['Annuleren', 'Cancel'],

  'settings.title': ['Instellingen', 'Settings'],
  'settings.crew': ['Namen van de bemanning', 'Names of the crew'],
  'settings.stop': ['Standplaats van de bus', 'Where the bus stands'],
  'settings.wijk': ['Wijk van de standplaats', 'Wijk of the stop'],
  'settings.wijk.hint': ['Nieuwe bezoeken krijgen deze wijk. Je kunt hem per bezoek aanpassen.', 'New visits get this wijk. You can change it per visit.'],
  'settings.stop.hint': ['Bijvoorbeeld Markt Leyweg.', 'For example Markt Leyweg.'],
  // The bus's day (stops.js).
  'nav.day': ['Vandaag', 'Today'],
  'day.title': ['Vandaag', 'Today'],
  'day.choose': ['Waar staat de bus vandaag?', 'Where is the bus today?'],
  'day.nostops': ['Het kantoor heeft voor vandaag geen standplaats gepland. Voeg hieronder de plek toe waar de bus staat.', 'The office planned no stop for today. Add the place where the bus stands below.'],
  'day.current': ['Nieuwe bezoeken krijgen deze standplaats: {stop}.', 'New visits get this stop: {stop}.'],
  'day.current.none': ['Kies eerst de standplaats van vandaag.', 'First choose today\'s stop.'],
  'day.unplanned': ['ter plekke toegevoegd', 'added on the spot'],
  'day.add': ['Standplaats toevoegen die niet gepland was', 'Add a stop that was not planned'],
  'day.place': ['Plek', 'Place'],
  'day.add.save': ['Toevoegen en kiezen', 'Add and choose'],
  'day.add.noplace': ['Vul de plek in.', 'Fill in the place.'],
  'day.add.nowijk': ['Kies de wijk.', 'Choose the wijk.'],
  'day.chosen': ['Standplaats gekozen', 'Stop chosen'],
  'quick.title': ['Kort contact', 'Short contact'],
  'quick.hint': ['Geen gesprek, wel contact? Tik één keer. Er worden geen namen bewaard.', 'No conversation, but contact? Tap once. No names are kept.'],
  'quick.flyer': ['Folder gegeven', 'Flyer handed over'],
  'quick.no_time': ['Geen tijd nu', 'No time now'],
  'quick.not_interested': ['Geen interesse', 'Not interested'],
  'quick.come_back': ['Later terugkomen', 'Come back later'],
  'quick.saved': ['Geteld: {kind}. Vandaag hier {n} keer.', 'Counted: {kind}. Here today {n} times.'],
  'quick.nostop': ['Kies eerst de standplaats van vandaag. Dan tellen we het contact.', 'First choose today\'s stop. Then the contact is counted.'],
  'history.title': ['Eerder bezocht', 'Visited before'],
  'history.open': ['Open vragen in deze wijk', 'Open questions in this wijk'],
  'history.open.none': ['Geen open vragen in deze wijk.', 'No open questions in this wijk.'],
  'history.open.nowijk': ['Kies een standplaats om de open vragen in de wijk te zien.', 'Choose a stop to see the open questions in the wijk.'],
  'history.visit': ['{date}: {topics}', '{date}: {topics}'],
  'history.followup': ['{kind} ({department}): {status}', '{kind} ({department}): {status}'],
  'settings.save': ['Instellingen opslaan', 'Save settings'],
  'settings.saved': ['Instellingen opgeslagen.', 'Settings saved.'],
  'settings.device': ['Deze tablet', 'This tablet'],
  'settings.device_name': ['Naam van deze tablet', 'Name of this tablet'],
  'settings.device_id': ['Nummer van deze tablet', 'Number of this tablet'],
  'settings.version': ['Versie van de app', 'App version'],
  'settings.storage': ['Opslag', 'Storage'],
  'settings.storage.persistent': ['De browser bewaart de bezoeken op deze tablet. Hij wist ze niet vanzelf.', 'The browser keeps the visits on this tablet. It does not clear them by itself.'],
  'settings.storage.best': ['De browser belooft niet dat hij de bezoeken bewaart. Zet de app op het beginscherm.', 'The browser does not promise to keep the visits. Add the app to the Home Screen.'],
  'settings.codes': ['Vervolgcodes op de tablet', 'Follow-up codes on the tablet'],
  'settings.codes.none': ['de bus geeft nu geen codes', 'the bus gives no codes now'],
  'settings.unpair': ['Tablet loskoppelen', 'Disconnect this tablet'],
  'settings.unpair.confirm': ['Deze tablet loskoppelen van de bus?', 'Disconnect this tablet from the bus?'],
  'settings.unpair.queued': [['Let op: 1 bezoek staat nog niet op de bus. Het blijft op deze tablet en gaat mee als je opnieuw koppelt. Toch loskoppelen?', 'Let op: {n} bezoeken staan nog niet op de bus. Ze blijven op deze tablet en gaan mee als je opnieuw koppelt. Toch loskoppelen?'], ['Note: 1 visit is not on the bus yet. It stays on this tablet and goes along when you connect again. Disconnect anyway?', 'Note: {n} visits are not on the bus yet. They stay on this tablet and go along when you connect again. Disconnect anyway?']],
  'crew.unset': ['Bemanning niet ingevuld', 'Crew not filled in'],
  'leave.unsent': ['Je wijzigingen zijn nog niet opgeslagen.', 'Your changes are not saved yet.'],
};

const langs = ['nl', 'en'];

/** Every text of the catalogue in both languages, for the tests' checks of wording. */
export const allTexts = () => Object.values(catalogue).flat(2);
let current = 'nl';

/** Returns the language in use: 'nl' or 'en'. */
export function lang() {
  return current;
}

/** Returns the locale for dates and numbers in the language in use. */
export function locale() {
  return current === 'nl' ? 'nl-NL' : 'en-GB';
}

/** Sets the language and updates <html lang> and every marked element. */
export function setLang(l) {
  current = langs.includes(l) ? l : 'nl';
  document.documentElement.lang = current;
  apply(document);
}

// A text with a count is a pair [one, other]: real plurals, never "(en)".
const plural = { nl: new Intl.PluralRules('nl'), en: new Intl.PluralRules('en') };

/**
 * Returns the text for key in the language in use (or l), with {name}
 * filled from vars; a text with a singular and a plural picks by vars.n.
 */
export function t(key, vars, l = current) {
  const entry = catalogue[key];
  let s = entry ? entry[langs.indexOf(l)] : key;
  if (Array.isArray(s)) s = s[plural[l].select(Number(vars && vars.n)) === 'one' ? 0 : 1];
  if (vars) {
    s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  }
  return s;
}

/** Picks the label of a reference term ({code, nl, en}) or a {nl, en} problem. */
export function pick(term) {
  if (!term) return '';
  return term[current] || term.nl || term.en || term.code || '';
}

/** Picks the sentence of a bus answer or reason ({message, message_nl}). */
export function message(body) {
  if (!body) return '';
  return (current === 'nl' ? body.message_nl || body.message : body.message || body.message_nl) || '';
}

/**
 * Says why a visit is set aside ({by, reason, message, message_nl, fields}
 * from db.js): the bus's own sentence, or for the office's refusal a
 * sentence for its reason code.
 */
export function reason(why) {
  if (!why) return '';
  if (why.by !== 'office') return message(why);
  let key = `aside.${why.reason}`;
  if (why.reason === 'foreign_id' && Object.keys(why.fields || {}).some((p) => p.startsWith('followups['))) key = 'aside.foreign_followup';
  if (key in catalogue) return t(key);
  // A reason this app does not know yet: the office's own words, which it
  // gives in both languages.
  return (current === 'en' ? why.message : why.message_nl) || t('aside.other');
}

/** Fills every element under root marked with data-i18n attributes. */
export function apply(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}

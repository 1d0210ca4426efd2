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
  optional: ['optioneel', 'optional'],
  none: ['— geen —', '— none —'],
  choose: ['— kies —', '— choose —'],
  loading: ['Laden…', 'Loading…'],

  'update.text': ['Nieuwe versie', 'New version'],
  'update.reload': ['Herladen', 'Reload'],

  'pair.title': ['Tablet koppelen aan de bus', 'Pair this tablet with the bus'],
  'pair.intro': ['Scan de koppel-QR op de laptop van de bus met de camera van de tablet, of typ de koppelcode hieronder. Maak een code met „infobus bus pair”.', 'Scan the pairing QR on the bus laptop with the tablet camera, or type the pairing code below. Make a code with “infobus bus pair”.'],
  'pair.code': ['Koppelcode', 'Pairing code'],
  'pair.hint': ['Acht tekens, bijvoorbeeld ABCD-EFGH', 'Eight characters, for example ABCD-EFGH'],
  'pair.submit': ['Koppelen', 'Pair'],
  'pair.busy': ['Bezig met koppelen…', 'Pairing…'],
  'pair.empty': ['Typ de koppelcode.', 'Type the pairing code.'],
  'pair.offline': ['De bus is niet bereikbaar. Controleer de wifi-verbinding met de bus en probeer het opnieuw.', 'The bus cannot be reached. Check the Wi-Fi connection to the bus and try again.'],
  'pair.failed': ['Koppelen lukte niet (status {status}).', 'Pairing failed (status {status}).'],
  'pair.revoked': ['Dit apparaat is niet meer gekoppeld aan de bus. Koppel het opnieuw; bezoeken op de tablet blijven bewaard.', 'This device is no longer paired with the bus. Pair it again; visits on the tablet are kept.'],
  'pair.queued': ['{n} bezoek(en) wachten op de tablet. Ze blijven bewaard en gaan naar de bus zodra de tablet gekoppeld is.', '{n} visit(s) are waiting on the tablet. They are kept and go to the bus once the tablet is paired.'],
  'pair.already': ['Deze tablet is al gekoppeld. Opnieuw koppelen maakt er een nieuw apparaat van; bezoeken op de tablet blijven bewaard.', 'This tablet is already paired. Pairing again makes it a new device; visits on the tablet are kept.'],
  'pair.done': ['Gekoppeld met de bus.', 'Paired with the bus.'],

  'status.label': ['Synchronisatie', 'Synchronisation'],
  'status.tablet': ['Wachten op tablet', 'Waiting on tablet'],
  'status.aside': ['Apart gezet', 'Set aside'],
  'status.bus': ['Op bus, nog niet op kantoor', 'On bus, not yet at office'],
  'status.last': ['Laatste sync met kantoor', 'Last sync with office'],
  'status.never': ['nog nooit', 'never'],
  'status.unknown': ['onbekend', 'unknown'],
  'status.reachable': ['Bus bereikbaar', 'Bus reachable'],
  'status.unreachable': ['Bus niet bereikbaar', 'Bus not reachable'],
  'sync.now': ['Nu synchroniseren', 'Sync now'],
  'sync.busy': ['Bezig…', 'Working…'],
  'sync.done': ['Synchronisatie met kantoor gestart.', 'Sync with the office started.'],
  'sync.offline': ['De bus is niet bereikbaar; bezoeken blijven op de tablet en gaan later mee.', 'The bus cannot be reached; visits stay on the tablet and go along later.'],
  'sync.unavailable': ['Deze bus biedt nog geen synchronisatie op verzoek.', 'This bus does not offer sync on request yet.'],
  'sync.failed': ['Synchroniseren lukte niet (status {status}).', 'Sync failed (status {status}).'],
  'sync.error': ['Laatste fout: {error}', 'Last error: {error}'],

  'list.title': ['Bezoeken', 'Visits'],
  'list.search': ['Zoeken', 'Search'],
  'list.search.hint': ['Naam, KvK, adres, wijk of notitie', 'Name, KvK, address, wijk or note'],
  'list.range': ['Tonen', 'Show'],
  'list.range.today': ['Vandaag', 'Today'],
  'list.range.all': ['Alle bezoeken', 'All visits'],
  'list.range.hint': ['Ook oudere bezoeken die nog op de tablet wachten of apart gezet zijn.', 'Also older visits still waiting on the tablet or set aside.'],
  'list.empty': ['Nog geen bezoeken.', 'No visits yet.'],
  'list.nomatch': ['Geen bezoeken gevonden.', 'No visits found.'],
  'list.count': ['{n} bezoek(en)', '{n} visit(s)'],

  'state.tablet': ['op tablet', 'on tablet'],
  'state.bus': ['op bus', 'on bus'],
  'state.office': ['op kantoor', 'at office'],
  'state.handled': ['afgehandeld', 'handled'],
  'state.set_aside': ['apart gezet', 'set aside'],

  'form.new': ['Nieuw bezoek', 'New visit'],
  'form.edit': ['Bezoek bewerken', 'Edit visit'],
  'form.notfound': ['Dit bezoek staat niet op deze tablet.', 'This visit is not on this tablet.'],
  'form.noref': ['De lijsten (wijken, onderwerpen) zijn nog niet geladen. Maak één keer verbinding met de bus.', 'The lists (wijken, topics) have not been loaded yet. Connect to the bus once.'],
  'form.errors': ['Controleer {n} veld(en):', 'Check {n} field(s):'],
  'form.saved': ['Opgeslagen op de tablet.', 'Saved on the tablet.'],
  'form.setaside': ['Apart gezet door de bus: {message}', 'Set aside by the bus: {message}'],
  'form.setaside.fix': ['Pas het bezoek aan en sla het opnieuw op; het gaat dan opnieuw naar de bus.', 'Correct the visit and save it again; it then goes to the bus again.'],
  'form.setaside.office': ['Apart gezet door het kantoor: {message}', 'Set aside by the office: {message}'],
  'list.aside.bus': ['Geweigerd door de bus: {message}', 'Refused by the bus: {message}'],
  'list.aside.office': ['Geweigerd door het kantoor: {message}', 'Refused by the office: {message}'],
  // Why the office set a visit aside, by the reason codes of sync/protocol.go.
  // The office's own message is English only.
  'aside.validation': ['Niet alle velden zijn goed ingevuld. Verbeter de gemarkeerde velden en sla het bezoek opnieuw op.', 'Some fields are not right. Correct the marked fields and save the visit again.'],
  'aside.conflict': ['Het kantoor heeft deze versie van het bezoek al, met andere inhoud. Controleer het bezoek en sla het opnieuw op.', 'The office already has this revision of the visit, with other content. Check the visit and save it again.'],
  'aside.foreign_id': ['Het kantoor heeft al een bezoek met dit nummer van een andere bus. Opnieuw opslaan helpt niet; neem contact op met het kantoor.', 'The office already has a visit with this number from another bus. Saving again does not help; contact the office.'],
  'aside.foreign_followup': ['Een vervolgactie heeft een nummer dat op kantoor al bij een ander bezoek hoort. Verwijder die vervolgactie, voeg haar opnieuw toe en sla het bezoek op.', 'A follow-up has a number that belongs to another visit at the office. Remove that follow-up, add it again and save the visit.'],
  'aside.malformed': ['Het kantoor kon dit bezoek niet lezen. Sla het opnieuw op; helpt dat niet, neem dan contact op met het kantoor.', 'The office could not read this visit. Save it again; if that does not help, contact the office.'],
  'aside.other': ['Het kantoor heeft dit bezoek niet aangenomen. Controleer het en sla het opnieuw op.', 'The office did not take this visit. Check it and save it again.'],
  'path.id': ['Nummer van het bezoek', 'Visit number'],
  'path.rev': ['Versie', 'Revision'],
  'form.state': ['Status: {state}', 'State: {state}'],
  'form.dirty': ['Je wijzigingen zijn nog niet opgeslagen. Toch weggaan?', 'Your changes are not saved yet. Leave anyway?'],
  'form.business': ['Onderneming', 'Business'],
  'form.address': ['Adres', 'Address'],
  'business.name': ['Naam onderneming', 'Business name'],
  'business.kvk': ['KvK-nummer', 'KvK number'],
  'business.kvk.hint': ['8 cijfers', '8 digits'],
  'business.address.street': ['Straat', 'Street'],
  'business.address.number': ['Huisnummer', 'House number'],
  'business.address.postcode': ['Postcode', 'Postcode'],
  'business.address.postcode.hint': ['Zoals 2511 AB', 'Like 2511 AB'],
  'business.address.city': ['Plaats', 'City'],
  wijk: ['Wijk', 'Wijk (neighbourhood)'],
  sector: ['Sector', 'Sector'],
  topics: ['Onderwerpen', 'Topics'],
  'topics.hint': ['Kies minstens één onderwerp.', 'Choose at least one topic.'],
  notes: ['Notities', 'Notes'],
  'notes.count': ['{n} van {max} tekens', '{n} of {max} characters'],
  language: ['Taal van het gesprek', 'Language of the conversation'],
  visited_at: ['Datum en tijd van het bezoek', 'Date and time of the visit'],
  consent: ['Toestemming', 'Consent'],
  'consent.hint': ['Zonder toestemming bewaren we geen naam, telefoonnummer of e-mailadres.', 'Without consent we keep no name, phone number or e-mail address.'],
  'contact.name': ['Naam contactpersoon', 'Contact name'],
  'contact.phone': ['Telefoonnummer', 'Phone number'],
  'contact.phone.hint': ['Zoals 06 12345678 of +31 70 1234567', 'Like 06 12345678 or +31 70 1234567'],
  'contact.email': ['E-mailadres', 'E-mail address'],
  panel_opt_in: ['Wil meedoen met het ondernemerspanel', 'Wants to join the entrepreneurs’ panel'],
  rating: ['Rapportcijfer van de ondernemer voor de dienstverlening van de gemeente', 'The entrepreneur’s mark for the municipality’s service'],
  'rating.hint': ['1 is zeer slecht, 10 is uitstekend. Niet verplicht.', '1 is very poor, 10 is excellent. Not required.'],
  'rating.clear': ['Geen cijfer', 'No mark'],
  followups: ['Vervolgacties', 'Follow-ups'],
  'followups.none': ['Geen vervolgacties.', 'No follow-ups.'],
  'followups.add': ['Vervolgactie toevoegen', 'Add a follow-up'],
  'followups.item': ['Vervolgactie {n}', 'Follow-up {n}'],
  'followups.remove': ['Vervolgactie {n} verwijderen', 'Remove follow-up {n}'],
  'followups.max': ['Hoogstens {max} vervolgacties.', 'At most {max} follow-ups.'],
  'followup.kind': ['Soort', 'Kind'],
  'followup.description': ['Omschrijving', 'Description'],
  'followup.department': ['Afdeling', 'Department'],
  'followup.due_date': ['Uiterlijk op', 'Due date'],
  'followup.code': ['Kaartcode (QR)', 'Card code (QR)'],
  'followup.code.hint': ['De code op de vervolgkaart die de ondernemer krijgt.', 'The code on the follow-up card the entrepreneur gets.'],
  'followup.status': ['Kantoor: {status}', 'Office: {status}'],
  'kind.callback': ['terugbellen', 'callback'],
  'kind.email': ['e-mail', 'e-mail'],
  'kind.visit': ['bezoek', 'visit'],
  'kind.referral': ['doorverwijzing', 'referral'],
  'kind.information': ['informatie', 'information'],
  'fstatus.open': ['open', 'open'],
  'fstatus.in_progress': ['in behandeling', 'in progress'],
  'fstatus.done': ['afgehandeld', 'done'],
  'fstatus.cancelled': ['geannuleerd', 'cancelled'],
  save: ['Opslaan', 'Save'],
  cancel: ['Annuleren', 'Cancel'],

  'settings.title': ['Instellingen', 'Settings'],
  'settings.crew': ['Ploeg (namen van de bemanning)', 'Crew (names)'],
  'settings.stop': ['Standplaats van de bus', 'Where the bus stands'],
  'settings.stop.hint': ['Bijvoorbeeld Markt Leyweg', 'For example Markt Leyweg'],
  'settings.save': ['Instellingen opslaan', 'Save settings'],
  'settings.saved': ['Instellingen opgeslagen.', 'Settings saved.'],
  'settings.device': ['Dit apparaat', 'This device'],
  'settings.device_id': ['Apparaat-id', 'Device id'],
  'settings.version': ['Versie van de app', 'App version'],
  'settings.storage': ['Opslag', 'Storage'],
  'settings.storage.persistent': ['blijvend (de browser wist niets vanzelf)', 'persistent (the browser clears nothing by itself)'],
  'settings.storage.best': ['niet gegarandeerd blijvend; installeer de app op het startscherm', 'not guaranteed persistent; install the app on the home screen'],
  'settings.unpair': ['Ontkoppelen', 'Unpair'],
  'settings.unpair.confirm': ['Deze tablet ontkoppelen van de bus?', 'Unpair this tablet from the bus?'],
  'settings.unpair.queued': ['Let op: {n} bezoek(en) zijn nog niet op de bus. Ze blijven op de tablet bewaard en gaan mee na opnieuw koppelen. Toch ontkoppelen?', 'Note: {n} visit(s) are not on the bus yet. They are kept on the tablet and go along after pairing again. Unpair anyway?'],
  'crew.unset': ['Ploeg niet ingesteld', 'Crew not set'],
  'leave.unsent': ['Er staan nog bezoeken op de tablet die niet op de bus zijn.', 'Some visits on the tablet are not on the bus yet.'],
};

const langs = ['nl', 'en'];
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

/** Returns the text for key in the language in use, with {name} filled from vars. */
export function t(key, vars) {
  const entry = catalogue[key];
  let s = entry ? entry[langs.indexOf(current)] : key;
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

// The bus's visit rules (schema/validate.go), mirrored so that the crew see
// every bad field before saving. The server stays the judge: its 400 answer
// uses the same field paths and the same wording.

/** Length bounds in characters, as on the server. */
export const MAX = {
  notes: 4000,
  description: 1000,
  name: 200,
  short: 100,
  email: 254,
  followups: 10,
  textVersion: 50,
  houseNumber: 20,
  code: 32,
};

/** The consent text the form shows; bump it whenever that text changes. */
export const CONSENT_TEXT_VERSION = '2026-1';

export const KINDS = ['callback', 'email', 'visit', 'referral', 'information'];

// Each rule in both languages, worded as the server words it.
const rule = (nl, en) => ({ nl, en });
const R = {
  required: rule('is verplicht', 'is required'),
  uuid: rule('moet een UUIDv7 zijn (kleine letters)', 'must be a UUIDv7 in lowercase hex'),
  rev: rule('moet 1 of hoger zijn', 'must be 1 or more'),
  time: rule('moet een datum en tijd zijn in RFC 3339 met tijdzone, zoals 2026-11-26T14:05:00+01:00', 'must be a date and time in RFC 3339 with offset, like 2026-11-26T14:05:00+01:00'),
  date: rule('moet een datum zijn zoals 2026-12-31', 'must be a date like 2026-12-31'),
  kvk: rule('moet uit 8 cijfers bestaan', 'must be 8 digits'),
  postcode: rule('moet een Nederlandse postcode zijn, zoals 2511 AB', 'must be a Dutch postcode like 2511 AB'),
  phone: rule('moet een Nederlands telefoonnummer zijn: 10 cijfers beginnend met 0, of +31 en 9 cijfers', 'must be a Dutch phone number: 10 digits starting with 0, or +31 and 9 digits'),
  email: rule('moet een e-mailadres zijn, zoals naam@voorbeeld.nl', 'must be an e-mail address like name@example.nl'),
  wijk: rule('moet een CBS-wijkcode van Den Haag zijn (WK051801–WK051844)', 'must be a CBS wijk code of The Hague (WK051801–WK051844)'),
  topic: rule('moet een bekend onderwerp zijn', 'must be a known topic'),
  topicTwice: rule('staat er twee keer in', 'is listed twice'),
  topicsNeeded: rule('kies minstens één onderwerp', 'needs at least one topic'),
  sector: rule('moet een bekende sector zijn', 'must be a known sector'),
  language: rule('moet een bekende taal zijn', 'must be a known language'),
  department: rule('moet een bekende afdeling zijn', 'must be a known department'),
  kind: rule('moet een van terugbellen, e-mail, bezoek, doorverwijzing, informatie zijn', 'must be one of callback, email, visit, referral, information'),
  rating: rule('moet een heel getal van 1 tot en met 10 zijn', 'must be a whole number from 1 to 10'),
  noConsent: rule('mag alleen worden ingevuld als de ondernemer toestemming gaf', 'may only be filled in when the entrepreneur gave consent'),
  panelConsent: rule('kan alleen met toestemming van de ondernemer', "needs the entrepreneur's consent"),
  callback: rule('voor terugbellen is een telefoonnummer bij de contactgegevens nodig', 'a callback needs a phone number in the contact details'),
  mailback: rule('voor een e-mail is een e-mailadres bij de contactgegevens nodig', 'an e-mail follow-up needs an e-mail address in the contact details'),
  idTwice: rule('wordt al door een andere vervolgactie gebruikt', 'is used by another follow-up'),
  code: rule('moet een vervolgcode van letters en cijfers zijn', 'must be a follow-up code of letters and digits'),
  control: rule('mag geen stuurtekens bevatten', 'must not contain control characters'),
};
const maxLen = (n) => rule(`mag hoogstens ${n} tekens lang zijn`, `must be at most ${n} characters`);
const tooMany = (n) => rule(`mag hoogstens ${n} items bevatten`, `may hold at most ${n} entries`);

const uuidv7Re = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const kvkRe = /^[0-9]{8}$/;
const postcodeRe = /^[1-9][0-9]{3}[A-Z]{2}$/;
const phoneRe = /^(0[1-9][0-9]{8}|\+31[1-9][0-9]{8})$/;
const codeRe = /^[0-9A-Z]+(-[0-9A-Z]+)*$/;
const timeRe = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/;
// An addr-spec of dot-atoms, as Go's net/mail reads a plain address.
const atext = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-\\u0080-\\uFFFF]+";
const emailRe = new RegExp(`^${atext}(\\.${atext})*@${atext}(\\.${atext})*$`);
const singleLineBad = /[\u0000-\u001f\u007f]/;
const multiLineBad = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** Length in characters (code points), as Go counts runes. */
export const charCount = (s) => [...(s || '')].length;

/** Postcode in stored form (1234AB): spaces removed, upper case. */
export const normalizePostcode = (s) => (s || '').trim().replaceAll(' ', '').toUpperCase();

/** A stored postcode as people write it: 1234 AB. */
export const formatPostcode = (s) => (s && s.length === 6 ? `${s.slice(0, 4)} ${s.slice(4)}` : s || '');

/** Reports whether a normalized postcode can exist. */
export function validPostcode(s) {
  return postcodeRe.test(s) && !['SA', 'SD', 'SS'].includes(s.slice(4));
}

/** Removes the separators people type and writes 0031 as +31. */
export function normalizePhone(s) {
  s = (s || '').replace(/[ \-.()\u00a0]/g, '');
  return s.startsWith('0031') ? `+31${s.slice(4)}` : s;
}

export const validPhone = (s) => phoneRe.test(s);

/** A sanity check, like the server's: one plain address with a dot in the domain. */
export function validEmail(s) {
  if (new TextEncoder().encode(s).length > MAX.email || !emailRe.test(s)) return false;
  const at = s.lastIndexOf('@');
  return at > 0 && at <= 64 && s.slice(at + 1).includes('.');
}

/** Reports whether s is an RFC 3339 time with offset. */
export function validTime(s) {
  const m = timeRe.exec(s || '');
  if (!m) return false;
  const [, y, mo, d, h, mi, se] = m.map(Number);
  return validYMD(y, mo, d) && h < 24 && mi < 60 && se < 60 && (!m[9] || (+m[9] < 24 && +m[10] < 60));
}

/** Reports whether s is a calendar date, YYYY-MM-DD. */
export function validDate(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || '');
  return !!m && validYMD(+m[1], +m[2], +m[3]);
}

function validYMD(y, m, d) {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

const trim = (s) => (s == null ? '' : String(s).trim());

/**
 * Normalize brings a visit into the form the server stores, in place, so
 * that what the tablet keeps is what the bus will keep. Call it before
 * validate.
 */
export function normalize(v) {
  for (const k of ['id', 'bus_id', 'device_id', 'crew', 'stop', 'visited_at', 'wijk', 'sector', 'language', 'created_at', 'updated_at', 'notes']) {
    v[k] = trim(v[k]);
  }
  v.id = v.id.toLowerCase();
  v.wijk = v.wijk.toUpperCase();
  const b = v.business;
  b.name = trim(b.name);
  b.kvk = (b.kvk || '').replace(/[ .\u00a0]/g, '');
  const a = b.address;
  for (const k of ['street', 'number', 'city']) a[k] = trim(a[k]);
  a.postcode = normalizePostcode(a.postcode);
  v.topics = (v.topics || []).map(trim);
  v.consent.text_version = trim(v.consent.text_version);
  v.consent.at = trim(v.consent.at);
  if (v.contact) {
    const c = v.contact;
    c.name = trim(c.name);
    c.phone = normalizePhone(c.phone);
    c.email = trim(c.email);
    if (!c.name && !c.phone && !c.email) v.contact = null;
  }
  v.followups = (v.followups || []).map((f) => ({
    ...f,
    id: trim(f.id).toLowerCase(),
    kind: trim(f.kind),
    description: trim(f.description),
    department: trim(f.department),
    due_date: trim(f.due_date),
    code: trim(f.code).toUpperCase(),
  }));
  return v;
}

/**
 * Validate checks a normalized visit against the server's rules and the
 * reference lists, and returns every bad field at once:
 * {"business.kvk": {nl, en}, ...}, empty when the visit is good.
 */
export function validate(v, ref) {
  const errs = {};
  const add = (field, p) => {
    if (!(field in errs)) errs[field] = p; // the first rule broken is the clearest
  };
  const text = (field, s, max) => {
    if (charCount(s) > max) add(field, maxLen(max));
    if (singleLineBad.test(s)) add(field, R.control);
  };
  const multiline = (field, s, max) => {
    if (charCount(s) > max) add(field, maxLen(max));
    if (multiLineBad.test(s)) add(field, R.control);
  };
  const requiredTime = (field, s) => {
    if (!s) add(field, R.required);
    else if (!validTime(s)) add(field, R.time);
  };
  const optionalTime = (field, s) => {
    if (s && !validTime(s)) add(field, R.time);
  };
  const codes = (list) => new Set((list || []).map((x) => x.code));
  const wijken = codes(ref.wijken);
  const topics = codes(ref.topics);

  if (!uuidv7Re.test(v.id)) add('id', R.uuid);
  if (!(v.rev >= 1)) add('rev', R.rev);
  requiredTime('visited_at', v.visited_at);
  optionalTime('created_at', v.created_at);
  optionalTime('updated_at', v.updated_at);
  text('device_id', v.device_id, MAX.short);
  text('crew', v.crew, MAX.short);
  text('stop', v.stop, MAX.name);

  const b = v.business;
  if (!b.name) add('business.name', R.required);
  text('business.name', b.name, MAX.name);
  if (b.kvk && !kvkRe.test(b.kvk)) add('business.kvk', R.kvk);
  const a = b.address;
  text('business.address.street', a.street, MAX.name);
  text('business.address.number', a.number, MAX.houseNumber);
  text('business.address.city', a.city, MAX.short);
  if (a.postcode && !validPostcode(a.postcode)) add('business.address.postcode', R.postcode);

  if (!v.wijk) add('wijk', R.required);
  else if (!wijken.has(v.wijk)) add('wijk', R.wijk);
  if (v.sector && !codes(ref.sectors).has(v.sector)) add('sector', R.sector);
  if (v.language && !codes(ref.languages).has(v.language)) add('language', R.language);
  if (v.topics.length === 0) add('topics', R.topicsNeeded);
  else if (v.topics.length > topics.size) add('topics', tooMany(topics.size));
  v.topics.forEach((tp, i) => {
    if (!topics.has(tp)) add(`topics[${i}]`, R.topic);
    else if (v.topics.indexOf(tp) < i) add(`topics[${i}]`, R.topicTwice);
  });
  multiline('notes', v.notes, MAX.notes);

  const c = v.consent;
  if (c.given) {
    if (!c.text_version) add('consent.text_version', R.required);
    requiredTime('consent.at', c.at);
  } else {
    optionalTime('consent.at', c.at);
  }
  text('consent.text_version', c.text_version, MAX.textVersion);
  const ct = v.contact;
  if (ct) {
    if (!c.given) {
      for (const k of ['name', 'phone', 'email']) if (ct[k]) add(`contact.${k}`, R.noConsent);
    }
    text('contact.name', ct.name, MAX.name);
    if (ct.phone && !validPhone(ct.phone)) add('contact.phone', R.phone);
    if (ct.email && !validEmail(ct.email)) add('contact.email', R.email);
  }
  if (v.panel_opt_in && !c.given) add('panel_opt_in', R.panelConsent);
  if (v.rating != null && !(Number.isInteger(v.rating) && v.rating >= 1 && v.rating <= 10)) add('rating', R.rating);

  if (v.followups.length > MAX.followups) add('followups', tooMany(MAX.followups));
  const departments = codes(ref.departments);
  v.followups.forEach((f, i) => {
    const p = `followups[${i}].`;
    if (!uuidv7Re.test(f.id)) add(`${p}id`, R.uuid);
    else if (v.followups.findIndex((o) => o.id === f.id) < i) add(`${p}id`, R.idTwice);
    if (!f.kind) add(`${p}kind`, R.required);
    else if (f.kind === 'callback' && !(ct && ct.phone)) add(`${p}kind`, R.callback);
    else if (f.kind === 'email' && !(ct && ct.email)) add(`${p}kind`, R.mailback);
    else if (!KINDS.includes(f.kind)) add(`${p}kind`, R.kind);
    if (!f.description) add(`${p}description`, R.required);
    multiline(`${p}description`, f.description, MAX.description);
    if (f.department && !departments.has(f.department)) add(`${p}department`, R.department);
    if (f.due_date && !validDate(f.due_date)) add(`${p}due_date`, R.date);
    if (f.code && (f.code.length > MAX.code || !codeRe.test(f.code))) add(`${p}code`, R.code);
  });
  return errs;
}

/** Turns the server's 400 body into the same shape validate returns. */
export function fromServer(body) {
  const out = {};
  const en = (body && body.fields) || {};
  const nl = (body && body.fields_nl) || {};
  for (const k of new Set([...Object.keys(en), ...Object.keys(nl)])) {
    out[k] = { nl: nl[k] || en[k], en: en[k] || nl[k] };
  }
  return out;
}

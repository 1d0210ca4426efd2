// The checker of a visit, by the rule catalogue the bus serves with the
// reference lists (schema/rules.go): patterns, bounds, lists and the wording
// of every rule come from there, so the tablet cannot drift from the bus.
// What stays here is how the rules apply to the fields. The bus stays the
// judge: its 400 answer uses the same field paths and the same wording.

/** The catalogue shape this checker reads (schema.RulesFormat). */
export const RULES_FORMAT = 1;

/** Reports whether a reference answer carries a catalogue this checker reads. */
export const usableReference = (ref) =>
  !!ref && Array.isArray(ref.wijken) && !!ref.rules && ref.rules.format === RULES_FORMAT;

// Parsers of what Go's time and net/mail packages accept: how a check is
// done, not a rule of the catalogue.
const timeRe = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/;
// An addr-spec of dot-atoms, as Go's net/mail reads a plain address.
const atext = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-\\u0080-\\uFFFF]+";
const emailRe = new RegExp(`^${atext}(\\.${atext})*@${atext}(\\.${atext})*$`);
const singleLineBad = /[\u0000-\u001f\u007f]/;
const multiLineBad = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

// Compiled patterns, per catalogue.
const compiled = new WeakMap();
function patterns(rules) {
  let p = compiled.get(rules);
  if (!p) {
    p = Object.fromEntries(Object.entries(rules.patterns).map(([k, src]) => [k, new RegExp(src)]));
    compiled.set(rules, p);
  }
  return p;
}

/** The wording of a rule, {nl, en}, with {n} filled in. */
function message(rules, key, n) {
  const m = rules.messages[key];
  const fill = (s) => (n == null ? s : s.replaceAll('{n}', String(n)));
  return { key, nl: fill(m.nl), en: fill(m.en) };
}

/** Length in characters (code points), as Go counts runes. */
export const charCount = (s) => [...(s || '')].length;

/** Postcode in stored form (1234AB): spaces removed, upper case. */
export const normalizePostcode = (s) => (s || '').trim().replaceAll(' ', '').toUpperCase();

/** A stored postcode as people write it: 1234 AB. */
export const formatPostcode = (s) => (s && s.length === 6 ? `${s.slice(0, 4)} ${s.slice(4)}` : s || '');

/** Reports whether a normalized postcode can exist, by the catalogue. */
export function validPostcode(s, rules) {
  return patterns(rules).postcode.test(s) && !rules.postcode_excluded.includes(s.slice(4));
}

/** Removes the separators people type and writes 0031 as +31. */
export function normalizePhone(s) {
  s = (s || '').replace(/[ \-.()\u00a0]/g, '');
  return s.startsWith('0031') ? `+31${s.slice(4)}` : s;
}

/** A sanity check, like the server's: one plain address with a dot in the domain. */
export function validEmail(s, rules) {
  if (new TextEncoder().encode(s).length > rules.max.email || !emailRe.test(s)) return false;
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
 * Whether s holds a run of exactly nine digits that passes the BSN
 * eleven-test (schema.ContainsBSN): a citizen service number must never be
 * recorded, so the form warns as it is typed.
 */
export function containsBSN(s) {
  for (const run of String(s || '').match(/[0-9]+/g) || []) {
    if (run.length !== 9) continue;
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += (9 - i) * Number(run[i]);
    sum -= Number(run[8]);
    if (sum % 11 === 0) return true;
  }
  return false;
}

/**
 * Validate checks a normalized visit against the catalogue and the
 * reference lists (ref, as /api/reference answers), and returns every bad
 * field at once: {"business.kvk": {key, nl, en}, ...}, empty when the visit
 * is good.
 */
export function validate(v, ref) {
  const rules = ref.rules;
  const re = patterns(rules);
  const max = rules.max;
  const errs = {};
  const add = (field, key, n) => {
    if (!(field in errs)) errs[field] = message(rules, key, n); // the first rule broken is the clearest
  };
  // An identifier (a device id, a text version) is made by software, not
  // typed: a run of nine digits in it is no citizen service number.
  const ident = (field, s, limit) => {
    if (charCount(s) > limit) add(field, 'max_len', limit);
    if (singleLineBad.test(s)) add(field, 'control');
  };
  const text = (field, s, limit) => {
    ident(field, s, limit);
    if (containsBSN(s)) add(field, 'bsn');
  };
  const multiline = (field, s, limit) => {
    if (charCount(s) > limit) add(field, 'max_len', limit);
    if (multiLineBad.test(s)) add(field, 'control');
    if (containsBSN(s)) add(field, 'bsn');
  };
  const requiredTime = (field, s) => {
    if (!s) add(field, 'required');
    else if (!validTime(s)) add(field, 'time');
  };
  const optionalTime = (field, s) => {
    if (s && !validTime(s)) add(field, 'time');
  };
  const codes = (list) => new Set((list || []).map((x) => x.code));
  const wijken = codes(ref.wijken);
  const topics = codes(ref.topics);

  if (!re.uuidv7.test(v.id)) add('id', 'uuidv7');
  if (!(v.rev >= 1)) add('rev', 'rev');
  requiredTime('visited_at', v.visited_at);
  optionalTime('created_at', v.created_at);
  optionalTime('updated_at', v.updated_at);
  ident('device_id', v.device_id, max.short);
  text('crew', v.crew, max.short);
  text('stop', v.stop, max.name);

  const b = v.business;
  if (!b.name) add('business.name', 'required');
  text('business.name', b.name, max.name);
  if (b.kvk && !re.kvk.test(b.kvk)) add('business.kvk', 'kvk');
  const a = b.address;
  text('business.address.street', a.street, max.name);
  text('business.address.number', a.number, max.house_number);
  text('business.address.city', a.city, max.short);
  if (a.postcode && !validPostcode(a.postcode, rules)) add('business.address.postcode', 'postcode');

  if (!v.wijk) add('wijk', 'required');
  else if (!wijken.has(v.wijk)) add('wijk', 'wijk');
  if (v.sector && !codes(ref.sectors).has(v.sector)) add('sector', 'sector');
  if (v.language && !codes(ref.languages).has(v.language)) add('language', 'language');
  if (v.topics.length === 0) add('topics', 'topics_needed');
  else if (v.topics.length > topics.size) add('topics', 'too_many', topics.size);
  // A list over its bound is one error, not one per entry, as in schema.
  if (v.topics.length <= topics.size) v.topics.forEach((tp, i) => {
    if (!topics.has(tp)) add(`topics[${i}]`, 'topic');
    else if (v.topics.indexOf(tp) < i) add(`topics[${i}]`, 'topic_twice');
  });
  multiline('notes', v.notes, max.notes);

  const c = v.consent;
  if (c.given) {
    if (!c.text_version) add('consent.text_version', 'required');
    requiredTime('consent.at', c.at);
  } else {
    optionalTime('consent.at', c.at);
  }
  ident('consent.text_version', c.text_version, max.text_version);
  const ct = v.contact;
  if (ct) {
    if (!c.given) {
      for (const k of ['name', 'phone', 'email']) if (ct[k]) add(`contact.${k}`, 'no_consent');
    }
    text('contact.name', ct.name, max.name);
    if (ct.phone && !re.phone.test(ct.phone)) add('contact.phone', 'phone');
    if (ct.email && !validEmail(ct.email, rules)) add('contact.email', 'email');
  }
  if (v.panel_opt_in && !c.given) add('panel_opt_in', 'panel_consent');
  const [lo, hi] = rules.rating;
  if (v.rating != null && !(Number.isInteger(v.rating) && v.rating >= lo && v.rating <= hi)) add('rating', 'rating');

  if (v.followups.length > max.followups) add('followups', 'too_many', max.followups);
  const departments = codes(ref.departments);
  if (v.followups.length <= max.followups) v.followups.forEach((f, i) => {
    const p = `followups[${i}].`;
    if (!re.uuidv7.test(f.id)) add(`${p}id`, 'uuidv7');
    else if (v.followups.findIndex((o) => o.id === f.id) < i) add(`${p}id`, 'id_twice');
    if (!f.kind) add(`${p}kind`, 'required');
    else if (f.kind === 'callback' && !(ct && ct.phone)) add(`${p}kind`, 'callback');
    else if (f.kind === 'email' && !(ct && ct.email)) add(`${p}kind`, 'mailback');
    else if (!rules.kinds.includes(f.kind)) add(`${p}kind`, 'kind');
    if (!f.description) add(`${p}description`, 'required');
    multiline(`${p}description`, f.description, max.description);
    if (f.department && !departments.has(f.department)) add(`${p}department`, 'department');
    if (f.due_date && !validDate(f.due_date)) add(`${p}due_date`, 'date');
    if (f.code && (f.code.length > max.code || !re.code.test(f.code))) add(`${p}code`, 'code');
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

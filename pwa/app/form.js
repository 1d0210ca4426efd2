// The visit form: new or edit, Dutch first, every bad field shown at once.
// Field ids are the wire paths with dots and brackets turned into dashes
// (business.address.postcode → business-address-postcode, followups[0].kind
// → followups-0-kind), so that an error path from the server finds its field.

import * as db from './db.js';
import { t, pick, reason } from './i18n.js';
import { uuidv7 } from './uuid.js';
import { rfc3339, toInputValue, fromInputValue, parse } from './clock.js';
import { normalize, validate, fromServer, formatPostcode, normalizePostcode, validPostcode, charCount, usableReference } from './validate.js';
import * as codes from './codes.js';
import * as feedback from './feedback.js';

const $ = (id) => document.getElementById(id);
const FU_FIELDS = ['kind', 'description', 'department', 'due_date', 'code'];

let ctx = null; // {reference(), settings(), device(), saved(rec)}
let current = null; // the record being edited (wire fields), or a new one
let aside = null; // why the bus or the office set the visit aside (db.js refusalOf)
let state = ''; // where a stored visit is: tablet|bus|office|handled|set_aside
let withheld = false; // made on another tablet: the bus kept its contact details back
let other = false; // made on another tablet
let office = {}; // office status by follow-up id
let consentAt = '';
let visitedInput = '';
let errors = {}; // {path: {nl, en}} shown now
let dirty = false;
let builtFor = null; // the reference the selects were built from

// The rule catalogue the bus served with the reference lists; null until
// lists with a catalogue this app reads are in (lists cached by an older
// version have none): the form then says it waits for them and saves nothing.
const rules = () => (ctx && usableReference(ctx.reference()) ? ctx.reference().rules : null);
// How follow-up codes are checked; null from a bus before codes existed.
const codeRules = () => (ctx && ctx.reference() && ctx.reference().codes) || null;

/** Reports whether the form holds changes that are not saved. */
export const isDirty = () => dirty;

/** Wires the form; c gives the reference lists, settings and device, and hears of saves. */
export function init(c) {
  ctx = c;
  const form = $('visit-form');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    save();
  });
  form.addEventListener('input', () => (dirty = true));
  form.addEventListener('change', () => (dirty = true));
  $('consent-given').addEventListener('change', () => setConsent($('consent-given').checked));
  $('notes').addEventListener('input', countNotes);
  $('rating-clear').addEventListener('click', () => {
    for (const r of document.querySelectorAll('input[name="rating"]')) r.checked = false;
    dirty = true;
  });
  // One tap adds a follow-up of the usual kinds, ready for its description;
  // "other" asks for the kind first.
  for (const button of $('screen-form').querySelectorAll('.quick-add button')) {
    button.addEventListener('click', () => {
      const kind = button.dataset.kind || '';
      const li = addFollowUp({ id: uuidv7(), kind, description: '', department: '', due_date: '', code: '' });
      renumber();
      dirty = true;
      li.querySelector(kind ? '.fu-description' : 'select').focus();
    });
  }
  $('business-address-postcode').addEventListener('blur', (e) => {
    const v = normalizePostcode(e.target.value);
    if (rules() && validPostcode(v, rules())) e.target.value = formatPostcode(v);
  });
  $('form-errors').addEventListener('click', (e) => {
    const a = e.target.closest('a[data-focus]');
    if (!a) return;
    e.preventDefault(); // the hash is the router's
    const el = $(a.dataset.focus);
    if (el) focusField(el);
  });
}

function focusField(el) {
  const target = el.matches('fieldset') ? el.querySelector('input, select, textarea, button') || el : el;
  target.focus();
  el.scrollIntoView({ block: 'center' });
}

/** Opens the form for a new visit (id null) or a stored one; resolves false when not found. */
export async function open(id) {
  ensureBuilt();
  errors = {};
  aside = null;
  office = {};
  state = '';
  withheld = false;
  other = false;
  let rec = null;
  if (id) {
    rec = await db.getVisit(id);
    if (!rec) return false;
  }
  const settings = ctx.settings();
  if (rec) {
    current = rec.visit;
    aside = rec.refusal;
    office = rec.office || {};
    state = rec.state;
    withheld = !!current.contact_withheld;
    const device = ctx.device();
    other = !!(current.device_id && device && current.device_id !== device.device_id);
  } else {
    // What stays the same at a stop comes from the last visit there; the
    // wijk from the stop's settings, else the last visit's.
    const carry = (settings.carry && settings.carry.stop === (settings.stop || '') && settings.carry) || {};
    current = {
      id: uuidv7(),
      rev: 0,
      visited_at: '',
      business: { name: '', kvk: '', address: { street: carry.street || '', number: '', postcode: '', city: carry.city || 'Den Haag' } },
      wijk: settings.stopWijk || settings.lastWijk || '',
      sector: '',
      topics: [],
      notes: '',
      language: carry.language || 'nl',
      consent: { given: false, text_version: '', at: '' },
      contact: null,
      panel_opt_in: false,
      rating: null,
      followups: [],
      created_at: '',
    };
  }
  fill(current, rec);
  if (aside && aside.fields) errors = fromServer(aside);
  render();
  dirty = false;
  return true;
}

function fill(v, rec) {
  const b = v.business;
  $('business-name').value = b.name;
  $('business-kvk').value = b.kvk;
  $('business-address-street').value = b.address.street;
  $('business-address-number').value = b.address.number;
  $('business-address-postcode').value = formatPostcode(b.address.postcode);
  $('business-address-city').value = b.address.city;
  setSelect($('wijk'), v.wijk);
  setSelect($('sector'), v.sector);
  setSelect($('language'), v.language);
  for (const box of $('topic-chips').querySelectorAll('input')) box.checked = v.topics.includes(box.value);
  $('notes').value = v.notes;
  const visited = parse(v.visited_at) || new Date();
  visitedInput = toInputValue(visited);
  $('visited_at').value = visitedInput;
  $('consent-given').checked = v.consent.given;
  consentAt = v.consent.at;
  $('contact-fields').hidden = !v.consent.given || withheld;
  $('contact-withheld').hidden = !v.consent.given || !withheld;
  const c = v.contact || {};
  $('contact-name').value = c.name || '';
  $('contact-phone').value = c.phone || '';
  $('contact-email').value = c.email || '';
  $('panel_opt_in').checked = v.panel_opt_in;
  for (const r of document.querySelectorAll('input[name="rating"]')) r.checked = Number(r.value) === v.rating;
  $('followup-list').replaceChildren();
  for (const f of v.followups) addFollowUp(f);
  renumber();
  countNotes();
  $('form-title').dataset.i18n = rec ? 'form.edit' : 'form.new';
}

// A select keeps a value it does not offer (a code the lists dropped) as
// an extra option, so that opening a record never changes it silently.
function setSelect(sel, value) {
  sel.value = value || '';
  if ((value || '') !== sel.value) {
    const o = new Option(value, value);
    sel.add(o);
    sel.value = value;
  }
}

function setConsent(given) {
  $('contact-fields').hidden = !given || withheld;
  $('contact-withheld').hidden = !given || !withheld;
  if (given) {
    if (!consentAt) consentAt = rfc3339();
  } else {
    // Contact details without consent are refused: unticking removes them.
    for (const id of ['contact-name', 'contact-phone', 'contact-email']) $(id).value = '';
    $('panel_opt_in').checked = false;
    consentAt = '';
  }
}

function countNotes() {
  const n = charCount($('notes').value);
  const el = $('notes-count');
  const max = rules() ? rules().max.notes : Infinity;
  el.textContent = t('notes.count', { n, max: rules() ? max : '…' });
  el.classList.toggle('over', n > max);
}

/** Builds the selects, chips and rating buttons from the reference lists. */
function ensureBuilt() {
  const ref = ctx.reference();
  if (!ref || ref === builtFor) return;
  builtFor = ref;
  const wijk = $('wijk');
  wijk.replaceChildren(new Option('', ''));
  wijk.options[0].dataset.i18n = 'choose';
  const groups = new Map();
  for (const w of ref.wijken || []) {
    if (!groups.has(w.stadsdeel)) groups.set(w.stadsdeel, []);
    groups.get(w.stadsdeel).push(w);
  }
  for (const name of [...groups.keys()].sort((a, b) => a.localeCompare(b, 'nl'))) {
    const g = document.createElement('optgroup');
    g.label = name;
    for (const w of groups.get(name).sort((a, b) => a.name.localeCompare(b.name, 'nl'))) g.append(new Option(w.name, w.code));
    wijk.append(g);
  }
  // The consent text comes with its version, so that the version a visit
  // records names the words the entrepreneur saw.
  $('consent-given').labels[0].term = rules() ? rules().consent : null;
  termSelect($('sector'), ref.sectors, 'none');
  termSelect($('language'), ref.languages, 'none');
  const chips = $('topic-chips');
  chips.replaceChildren();
  for (const term of ref.topics || []) {
    const div = document.createElement('div');
    div.className = 'chip';
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.id = `topic-${term.code}`;
    box.value = term.code;
    const label = document.createElement('label');
    label.htmlFor = box.id;
    label.term = term;
    div.append(box, label);
    chips.append(div);
  }
  const buttons = $('rating-buttons');
  buttons.replaceChildren();
  for (let i = 1; i <= 10; i++) {
    const div = document.createElement('div');
    div.className = 'rating-button';
    const r = document.createElement('input');
    r.type = 'radio';
    r.name = 'rating';
    r.id = `rating-${i}`;
    r.value = String(i);
    const label = document.createElement('label');
    label.htmlFor = r.id;
    label.textContent = String(i);
    div.append(r, label);
    buttons.append(div);
  }
}

function termSelect(sel, terms, emptyKey) {
  sel.replaceChildren(new Option('', ''));
  sel.options[0].dataset.i18n = emptyKey;
  for (const term of terms || []) {
    const o = new Option('', term.code);
    o.term = term;
    sel.append(o);
  }
}

function addFollowUp(f) {
  const li = $('followup-template').content.firstElementChild.cloneNode(true);
  li.dataset.fuId = f.id;
  const kind = li.querySelector('.fu-kind');
  kind.append(new Option('', ''));
  kind.options[0].dataset.i18n = 'choose';
  for (const k of rules() ? rules().kinds : []) {
    const o = new Option('', k);
    o.dataset.i18n = `kind.${k}`;
    kind.append(o);
  }
  termSelect(li.querySelector('.fu-department'), (ctx.reference() || {}).departments, 'none');
  setSelect(kind, f.kind);
  setSelect(li.querySelector('.fu-department'), f.department);
  li.querySelector('.fu-description').value = f.description;
  li.querySelector('.fu-due_date').value = f.due_date;
  li.querySelector('.fu-code').value = f.code;
  const st = office[f.id];
  const badge = li.querySelector('.fu-status');
  if (st && st.status) {
    badge.hidden = false;
    badge.dataset.status = st.status;
    const res = li.querySelector('.fu-resolution');
    res.hidden = !st.resolution;
    res.dataset.resolution = st.resolution || '';
  }
  codes.attach(li, codeRules);
  feedback.show(li, st && st.feedback);
  li.querySelector('.fu-remove').addEventListener('click', () => {
    const list = $('followup-list');
    const next = li.nextElementSibling || li.previousElementSibling;
    li.remove();
    // Error paths are by position: after a removal they point elsewhere.
    errors = {};
    renumber();
    dirty = true;
    (next ? next.querySelector('.fu-remove') : $('followup-add')).focus();
    list.dispatchEvent(new Event('change', { bubbles: true }));
  });
  $('followup-list').append(li);
  return li;
}

// Gives each follow-up row the ids of its wire paths, in order.
function renumber() {
  const rows = [...$('followup-list').children];
  rows.forEach((li, i) => {
    const base = `followups-${i}`;
    li.querySelector('fieldset').id = base;
    for (const k of FU_FIELDS) {
      const el = li.querySelector(`.fu-${k}`);
      el.id = `${base}-${k}`;
      li.querySelector(`.fu-${k}-label`).htmlFor = el.id;
    }
    const hint = li.querySelector('.fu-code-hint');
    hint.id = `${base}-code-hint`;
    codes.number(li, base, current.id);
    li.querySelector('.fu-remove').id = `${base}-remove`;
  });
  $('followups-none').hidden = rows.length > 0;
  const full = !rules() || rows.length >= rules().max.followups;
  for (const b of $('screen-form').querySelectorAll('.quick-add button')) b.disabled = full;
  render();
}

/** Rewords everything generated in the language in use. */
export function render() {
  ensureBuilt();
  const form = $('screen-form');
  for (const el of form.querySelectorAll('option, label')) {
    if (el.term) el.textContent = pick(el.term);
    else if (el.dataset.i18n) el.textContent = t(el.dataset.i18n);
  }
  $('form-title').textContent = t($('form-title').dataset.i18n || 'form.new');
  [...$('followup-list').children].forEach((li, i) => {
    li.querySelector('.fu-legend').textContent = t('followups.item', { n: i + 1 });
    li.querySelector('.fu-remove').textContent = t('followups.remove', { n: i + 1 });
    const badge = li.querySelector('.fu-status');
    if (!badge.hidden) badge.textContent = t('followup.status', { status: t(`fstatus.${badge.dataset.status}`) });
    const res = li.querySelector('.fu-resolution');
    if (!res.hidden) res.textContent = t('followup.resolution', { resolution: res.dataset.resolution });
    codes.render(li);
    feedback.render(li);
  });
  $('followup-add').title = $('followup-add').disabled ? t('followups.max', { max: rules() ? rules().max.followups : '…' }) : '';
  countNotes();
  renderNotice();
  renderErrors();
}

function renderNotice() {
  const n = $('form-notice');
  if (!rules()) {
    n.hidden = false;
    delete n.dataset.kind; // a warning: nothing can be saved yet
    n.textContent = t('form.noref');
    return;
  }
  if (aside) {
    n.hidden = false;
    n.dataset.kind = 'error';
    // Who refused it, in so many words; the fix is the same, saving again,
    // and the office's sentence for its reason already says so.
    n.textContent =
      aside.by === 'office'
        ? t('form.setaside.office', { message: reason(aside) })
        : aside.reason === 'validation'
          ? `${t('form.setaside', { message: reason(aside) })}\n${t('form.setaside.fix')}`
          : t('form.setaside', { message: reason(aside) });
    return;
  }
  // Where it is, and whose it is, are facts, not warnings.
  n.dataset.kind = 'info';
  const lines = [];
  if (other) lines.push(t('form.other'));
  if (state) lines.push(t('form.state', { state: t(`state.${state}`) }));
  n.hidden = !lines.length;
  n.textContent = lines.join('\n');
}

// The element that shows the error of a wire path: its field, or the
// nearest group that holds it (topics[1] → topics, consent.at → consent),
// or the visible group around a field that is hidden.
function targetOf(path) {
  let id = path.replace(/\[(\d+)\]/g, '-$1').replaceAll('.', '-');
  for (;;) {
    let el = $(id);
    if (el && $('visit-form').contains(el)) {
      const hidden = el.closest('#visit-form [hidden]');
      return hidden ? hidden.closest('fieldset') || el : el;
    }
    const cut = id.lastIndexOf('-');
    if (cut < 0) return null;
    id = id.slice(0, cut);
  }
}

function labelOf(el) {
  if (el.matches('fieldset')) {
    const legend = el.querySelector('legend');
    return (legend ? legend.textContent : el.id).replace(/\s*\(.*\)\s*$/, '').trim();
  }
  const label = document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
  let text = label ? label.textContent.replace(/\s*\(.*\)\s*$/, '').trim() : el.id;
  const group = el.closest('fieldset.followup-group');
  if (group) text = `${group.querySelector('legend').textContent}: ${text}`;
  return text;
}

function renderErrors() {
  const form = $('visit-form');
  for (const p of form.querySelectorAll('.field-error')) p.remove();
  for (const el of form.querySelectorAll('[data-base-describedby]')) {
    const base = el.dataset.baseDescribedby;
    if (base) el.setAttribute('aria-describedby', base);
    else el.removeAttribute('aria-describedby');
    delete el.dataset.baseDescribedby;
    el.removeAttribute('aria-invalid');
    el.classList.remove('invalid');
  }
  const summary = $('form-errors');
  summary.replaceChildren();
  const paths = Object.keys(errors);
  if (!paths.length) return;

  const items = [];
  const shown = new Map(); // target → its error paragraph
  for (const path of paths) {
    const msg = pick(errors[path]);
    const el = targetOf(path);
    items.push({ el, path, msg });
    if (!el) continue;
    let p = shown.get(el);
    if (!p) {
      p = document.createElement('p');
      p.className = 'field-error';
      p.id = `${el.id}-error`;
      p.dataset.label = labelOf(el);
      shown.set(el, p);
      if (el.matches('fieldset')) {
        const after = el.querySelector(':scope > .hint') || el.querySelector(':scope > legend');
        after.after(p);
      } else {
        (el.closest('.check') || el).before(p);
      }
      el.dataset.baseDescribedby = el.getAttribute('aria-describedby') || '';
      el.setAttribute('aria-describedby', `${p.id} ${el.dataset.baseDescribedby}`.trim());
      el.classList.add('invalid');
      if (!el.matches('fieldset')) el.setAttribute('aria-invalid', 'true');
    }
    const said = sentence(p.dataset.label, msg);
    p.textContent = p.textContent ? `${p.textContent} ${said}` : said;
  }
  // In the order the fields stand on the screen.
  items.sort((a, b) => {
    if (!a.el || !b.el) return a.el ? 1 : b.el ? -1 : 0;
    return a.el.compareDocumentPosition(b.el) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
  });
  const h = document.createElement('p');
  h.className = 'error-summary-title';
  h.textContent = t('form.errors', { n: items.length });
  const ul = document.createElement('ul');
  for (const { el, path, msg } of items) {
    const li = document.createElement('li');
    if (el) {
      const a = document.createElement('a');
      a.href = `#${el.id}`;
      a.dataset.focus = el.id;
      a.textContent = summaryLine(labelOf(el), msg);
      li.append(a);
    } else {
      // A path with no field on the form (the office's "id" or "rev").
      const key = `path.${path}`;
      const label = t(key);
      li.textContent = summaryLine(label === key ? path : label, msg);
    }
    ul.append(li);
  }
  summary.append(h, ul);
}

// The rule catalogue words most problems as what a field must be ("moet
// uit 8 cijfers bestaan"); with the field's name before it, that is a whole
// sentence. A few are sentences already ("kies minstens één onderwerp").
const PREDICATE = /^(is|moet|mag|kan|staat|wordt|heeft|must|may|needs|has)\s/;

function sentence(label, msg) {
  const m = String(msg || '').trim().replace(/\.$/, '');
  return `${PREDICATE.test(m) ? `${label} ${m}` : m.charAt(0).toUpperCase() + m.slice(1)}.`;
}

// In the summary, away from the field, a sentence without the field's
// name gets it in front.
function summaryLine(label, msg) {
  const m = String(msg || '').trim();
  return PREDICATE.test(m) ? sentence(label, m) : `${label}: ${sentence(label, m)}`;
}

/** Reads the form into a visit record (not yet normalized). */
function collect() {
  const given = $('consent-given').checked;
  const checked = document.querySelector('input[name="rating"]:checked');
  const settings = ctx.settings();
  const isNew = !current.rev;
  const visitedValue = $('visited_at').value;
  let visitedAt = current.visited_at;
  if (isNew || visitedValue !== visitedInput) {
    const d = fromInputValue(visitedValue);
    visitedAt = d ? rfc3339(d) : '';
  }
  return {
    id: current.id,
    bus_id: '',
    // Who and where stay as they were when the visit was first saved.
    device_id: isNew ? (ctx.device() || {}).device_id || '' : current.device_id,
    crew: isNew ? settings.crew || '' : current.crew,
    stop: isNew ? settings.stop || '' : current.stop,
    visited_at: visitedAt,
    business: {
      name: $('business-name').value,
      kvk: $('business-kvk').value,
      address: {
        street: $('business-address-street').value,
        number: $('business-address-number').value,
        postcode: $('business-address-postcode').value,
        city: $('business-address-city').value,
      },
    },
    wijk: $('wijk').value,
    sector: $('sector').value,
    topics: [...$('topic-chips').querySelectorAll('input:checked')].map((b) => b.value),
    notes: $('notes').value,
    language: $('language').value,
    consent: {
      given,
      // The text the entrepreneur agreed to stays the one recorded then.
      text_version: given ? (current.consent.given && current.consent.text_version) || rules().consent.version : '',
      at: given ? consentAt || rfc3339() : '',
    },
    contact: given && !withheld ? { name: $('contact-name').value, phone: $('contact-phone').value, email: $('contact-email').value } : null,
    // The bus keeps the details it holds; without the mark an absent
    // contact would erase them.
    contact_withheld: withheld,
    panel_opt_in: given && $('panel_opt_in').checked,
    rating: checked ? Number(checked.value) : null,
    followups: [...$('followup-list').children].map((li) => ({
      id: li.dataset.fuId,
      kind: li.querySelector('.fu-kind').value,
      description: li.querySelector('.fu-description').value,
      department: li.querySelector('.fu-department').value,
      due_date: li.querySelector('.fu-due_date').value,
      code: li.querySelector('.fu-code').value,
    })),
    // A visit set aside as stale must pass the bus's rev to be taken.
    rev: Math.max(current.rev || 0, (aside && aside.current_rev) || 0) + 1,
    created_at: current.created_at || '',
    updated_at: '',
    deleted: false,
  };
}

// A visit whose contact details the bus kept back is checked here without
// the rules that need them: the bus checks those with the details it holds.
function asChecked(v) {
  return { ...v, followups: v.followups.map((f) => (f.kind === 'callback' || f.kind === 'email' ? { ...f, kind: 'information' } : f)) };
}

async function save() {
  const ref = ctx.reference();
  if (!rules()) {
    renderNotice();
    return;
  }
  const v = normalize(collect());
  const now = rfc3339();
  if (!v.created_at) v.created_at = now;
  v.updated_at = now;
  // A typed card code is checked by its check symbol, and kept canonical.
  const codeErrors = codes.checkVisit(v, codeRules());
  errors = { ...validate(withheld ? asChecked(v) : v, ref), ...codeErrors };
  if (Object.keys(errors).length) {
    renderErrors();
    $('form-errors').focus();
    return;
  }
  const button = $('save');
  button.disabled = true;
  try {
    // Follow-ups without a code take one from the pool before the visit is
    // saved: a code is never handed out twice.
    const got = await codes.assign(v);
    const rec = await db.saveVisit(db.crewRecord(v));
    dirty = false;
    await ctx.saved(rec, got);
  } finally {
    button.disabled = false;
  }
}

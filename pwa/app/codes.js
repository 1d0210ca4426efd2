// Follow-up codes on the tablet: a pool of codes the bus reserved for this
// device, each with its QR image, so that a follow-up gets its code and QR
// with no Wi-Fi at all; the check of a code typed from a printed card; and
// the codes' part of a follow-up row on the form.
//
// The pool lives in an IndexedDB database of its own: it is a cache of
// reservations with a life apart from the visits, and a code taken from it
// and then lost (the tablet dies before the visit is saved) costs nothing
// but the code. A code leaves the pool before the visit that uses it is
// saved, so it can never go to two follow-ups.
//
// Stores: pool {code, grouped, url, svg, reserved_at} (free codes);
// issued {code, grouped, url, svg, visit_id, followup_id, taken_at} (codes
// this tablet handed out, kept so that a visit's detail shows the QR again).

import * as api from './api.js';
import { database, done } from './db.js';
import { t, pick, apply } from './i18n.js';

/** How many free codes the tablet keeps. */
export const POOL_SIZE = 10;

// A code is taken from the pool and marked issued in one transaction:
// nothing half-taken.
const tx = database('infobus-codes', 1, (db) => {
  db.createObjectStore('pool', { keyPath: 'code' });
  db.createObjectStore('issued', { keyPath: 'code' });
});

/** Counts the free codes in the pool. */
export const free = () => tx(['pool'], 'readonly', (s) => done(s.pool.count()));

/** The code as the tablet handed it out or holds it free, or undefined. */
export const find = (code) =>
  tx(['pool', 'issued'], 'readonly', async (s) => (await done(s.issued.get(code))) || done(s.pool.get(code)));

// ---- checking a typed code, by the rules the bus serves (schema.CodeRules)

// What Go's unicode.IsSpace calls space (JavaScript's \s differs in two).
const space = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/**
 * Reads a code as a person types or scans it, as schema.ParseCode does:
 * lower case, spaces and dashes anywhere, O for 0, I and L for 1. Returns
 * {code} (canonical) or {reason, char, n}: reason is empty, character,
 * length, or check (a typo the check symbol caught); partial is true for a
 * code still being typed (fewer symbols and no bad one).
 */
export function check(s, rules) {
  // As the bus, which does not walk a string much longer than a code with
  // its separators.
  if (new TextEncoder().encode(s || '').length > 4 * rules.length) return { reason: 'length', n: -1 };
  let code = '';
  for (const ch of s || '') {
    if (ch === '-' || space.test(ch)) continue;
    // ASCII letters only: "ı".toUpperCase() is "I", which the bus refuses.
    let c = ch >= 'a' && ch <= 'z' ? ch.toUpperCase() : ch;
    c = rules.lookalikes[c] || c;
    if (c.length !== 1 || !rules.alphabet.includes(c)) return { reason: 'character', char: ch };
    code += c;
  }
  if (!code) return { reason: 'empty', n: 0, partial: true };
  if (code.length !== rules.length) return { reason: 'length', n: code.length, partial: code.length < rules.length };
  let d = 0;
  for (const c of code) d = rules.check[d][rules.alphabet.indexOf(c)];
  return d === 0 ? { code } : { reason: 'check' };
}

/** A check's finding in words, {nl, en}, worded as the bus words it. */
export function problem(res, rules) {
  switch (res.reason) {
    case 'empty':
      return both('code.empty');
    case 'character':
      return res.char.toUpperCase() === 'U' ? both('code.u') : both('code.character', { char: res.char });
    case 'length':
      return res.n < 0 ? both('code.toolong', { max: rules.length }) : both('code.length', { max: rules.length, n: res.n });
    case 'check':
      return both('code.check');
  }
  return null;
}

function both(key, vars) {
  return { key, nl: t(key, vars, 'nl'), en: t(key, vars, 'en') };
}

/** The code in groups for people: ABCD-EFGH-JKMN-P. */
export function grouped(code, rules) {
  const n = (rules && rules.group) || 4;
  return (code.match(new RegExp(`.{1,${n}}`, 'g')) || []).join('-');
}

/**
 * The code in a scanned text: the entrepreneur's page URL the QR holds
 * (…/f/{code}), or the code itself. Returns the canonical code or ''.
 */
export function fromScan(text, rules) {
  const m = /\/f\/([^/?#]+)\/?(?:[?#].*)?$/.exec(text || '');
  const res = check(m ? decodeURIComponent(m[1]) : text, rules);
  return res.code || '';
}

/**
 * Checks the codes of a normalized visit: a typed code that does not read
 * as a code is an error at its wire path; one that does is put in its
 * canonical form. Returns {path: {key, nl, en}}.
 */
export function checkVisit(v, rules) {
  const errs = {};
  if (!rules) return errs;
  v.followups.forEach((f, i) => {
    if (!f.code) return;
    const res = check(f.code, rules);
    if (res.code) f.code = res.code;
    else errs[`followups[${i}].code`] = problem(res, rules);
  });
  return errs;
}

// ---- the pool

let refilling = null;
let again = false;

/**
 * Tops the pool up to POOL_SIZE from the bus: GET /api/codes, then each
 * code's QR as SVG. A code goes into the pool only with its image, so that
 * every pooled code can be shown offline. Quiet when the bus is out of
 * reach or cannot issue codes (not enrolled with an office): the pool
 * waits for the next chance.
 */
export function refill() {
  if (refilling) {
    // Codes taken meanwhile are counted by one more round.
    again = true;
    return refilling;
  }
  refilling = (async () => {
    try {
      do {
        again = false;
        await fill();
      } while (again);
    } finally {
      refilling = null;
    }
  })();
  return refilling;
}

let lastRefusal = null; // the bus's answer when it would not issue codes

/** The bus's last refusal to issue codes ({error, message, message_nl}), or null. */
export const refusal = () => lastRefusal;

async function fill() {
  const want = POOL_SIZE - (await free());
  if (want <= 0) return;
  let res;
  try {
    res = await api.request('GET', `/api/codes?n=${want}`);
  } catch (err) {
    if (err instanceof api.NetworkError) return;
    throw err;
  }
  if (res.status !== 200 || !res.body || !Array.isArray(res.body.codes)) {
    lastRefusal = res.body;
    return;
  }
  lastRefusal = null;
  for (const c of res.body.codes) {
    let svg;
    try {
      const r = await fetch(c.qr_svg, { credentials: 'same-origin' });
      if (!r.ok) continue;
      svg = await r.text();
    } catch {
      return; // out of reach halfway: the rest next time
    }
    const rec = { code: c.code, grouped: c.grouped, url: c.url, svg, reserved_at: new Date().toISOString() };
    await tx(['pool'], 'readwrite', (s) => done(s.pool.put(rec)));
  }
}

/**
 * Empties the pool, when the tablet is paired (again): the bus it pairs
 * with now may be another, which would refuse the codes of the last one.
 */
export const clearPool = () => tx(['pool'], 'readwrite', (s) => done(s.pool.clear()));

/**
 * Gives every follow-up of visit v without a code one from the pool, and
 * marks every code the visit uses as issued (a pooled code typed by hand
 * leaves the pool too), in one transaction. Resolves with the number of
 * follow-ups that got a code and the number still without one (the pool
 * ran dry).
 */
export const assign = (v) =>
  tx(['pool', 'issued'], 'readwrite', async (s) => {
    let taken = 0;
    let missing = 0;
    const pooled = (await done(s.pool.getAll())).sort((a, b) => (a.reserved_at < b.reserved_at ? -1 : 1));
    const now = new Date().toISOString();
    for (const f of v.followups) {
      if (!f.code) {
        const next = pooled.shift();
        if (!next) {
          missing++;
          continue;
        }
        f.code = next.code;
        taken++;
      }
      const rec = await done(s.pool.get(f.code));
      if (rec) {
        await done(s.pool.delete(f.code));
        await done(s.issued.put({ ...rec, visit_id: v.id, followup_id: f.id, taken_at: now }));
        const i = pooled.findIndex((p) => p.code === f.code);
        if (i >= 0) pooled.splice(i, 1);
      }
    }
    return { taken, missing };
  });

// ---- showing a code's QR

const urls = new Map(); // code → object URL of its stored SVG

/**
 * Sets img to show the QR of code: the stored image when the tablet has
 * it, otherwise the bus's (a typed card code; the bus draws only codes it
 * issued). Resolves true when there is an image to show.
 */
export async function showQR(img, code) {
  img.alt = t('qr.alt', { code: grouped(code) });
  let url = urls.get(code);
  if (!url) {
    const rec = await find(code);
    if (rec && rec.svg) {
      url = URL.createObjectURL(new Blob([rec.svg], { type: 'image/svg+xml' }));
      urls.set(code, url);
    }
  }
  img.src = url || `/qr/${encodeURIComponent(code)}.svg`;
  return true;
}

// ---- the code's part of a follow-up row on the form

let rulesOf = () => null;

/** Wires a follow-up row's code field: the check as it is typed, the camera where the browser reads QR codes. */
export function attach(li, rules) {
  rulesOf = rules;
  const input = li.querySelector('.fu-code');
  input.addEventListener('input', () => showCheck(li));
  input.addEventListener('blur', () => {
    const r = rulesOf();
    const res = r && check(input.value, r);
    if (res && res.code) input.value = grouped(res.code, r);
    showCheck(li, true);
  });
  const scan = li.querySelector('.fu-code-scan');
  // Chrome on Android reads QR codes; elsewhere (an iPad) typing is the way.
  if ('BarcodeDetector' in window) {
    scan.hidden = false;
    scan.addEventListener('click', async () => {
      const { scanCode } = await import('./scan.js');
      const text = await scanCode();
      const r = rulesOf();
      const code = text && r ? fromScan(text, r) : '';
      if (code) {
        input.value = grouped(code, r);
        input.dispatchEvent(new Event('input', { bubbles: true }));
      }
      input.focus();
    });
  }
  const shown = li.querySelector('.fu-qr');
  const code = (input.value || '').replace(/[\s-]/g, '').toUpperCase();
  if (code) {
    input.value = grouped(code, rulesOf());
    shown.hidden = false;
    shown.dataset.code = code;
    showQR(shown.querySelector('img'), code);
  }
}

/** Gives the row's code parts their ids (base: followups-n). */
export function number(li, base, visitId) {
  const check = li.querySelector('.fu-code-check');
  check.id = `${base}-code-check`;
  li.querySelector('.fu-code').setAttribute('aria-describedby', `${base}-code-hint ${check.id}`);
  li.querySelector('.fu-code-scan').id = `${base}-code-scan`;
  const shown = li.querySelector('.fu-qr');
  shown.querySelector('img').id = `${base}-qr`;
  const link = shown.querySelector('a');
  link.id = `${base}-qr-show`;
  link.href = `#/qr/${visitId}`;
}

/** Rewords the row's code parts in the language in use. */
export function render(li) {
  // A row is a clone of the template, which setLang does not reach.
  apply(li);
  const shown = li.querySelector('.fu-qr');
  if (!shown.hidden) {
    const r = rulesOf();
    shown.querySelector('.fu-qr-code').textContent = grouped(shown.dataset.code, r);
    shown.querySelector('img').alt = t('qr.alt', { code: grouped(shown.dataset.code, r) });
  }
  showCheck(li);
}

// Says what is wrong with the code typed so far: nothing while it is still
// being typed and could be right, unless the field is left half-typed.
function showCheck(li, leaving) {
  const input = li.querySelector('.fu-code');
  const out = li.querySelector('.fu-code-check');
  const r = rulesOf();
  const res = r && input.value.trim() ? check(input.value, r) : null;
  let text = '';
  let bad = false;
  if (res && res.code) text = t('code.ok');
  else if (res && !(res.partial && !leaving)) {
    text = pick(problem(res, r));
    bad = true;
  }
  if (out.textContent !== text) out.textContent = text;
  out.dataset.kind = bad ? 'error' : res && res.code ? 'ok' : '';
  // The form's own summary marks a field it refused; this mark is the
  // check's, and goes once the code reads right.
  if (bad) input.setAttribute('aria-invalid', 'true');
  else if (!input.classList.contains('invalid')) input.removeAttribute('aria-invalid');
}

// The visits list: today's visits (and older ones that still need the
// crew: waiting on the tablet or set aside), searched on the tablet, each
// with where it is now.

import * as db from './db.js';
import { t, pick, reason, locale } from './i18n.js';
import { localDate, parse } from './clock.js';
import { formatPostcode } from './validate.js';
import { rating } from './feedback.js';

const $ = (id) => document.getElementById(id);

let reference = () => null;
let rendering = null;
let again = false;

/** Wires search and range; ref() returns the reference lists or null. */
export function init(ref) {
  reference = ref;
  $('search').addEventListener('input', render);
  $('list-range').addEventListener('change', render);
}

// Lower case without accents, so that "cafe" finds "Café".
const fold = (s) =>
  String(s || '')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase();

function haystack(rec, ref) {
  const v = rec.visit;
  const b = v.business;
  const wijk = ((ref && ref.wijken) || []).find((w) => w.code === v.wijk);
  const topics = v.topics.map((c) => {
    const term = ((ref && ref.topics) || []).find((x) => x.code === c);
    return term ? `${term.nl} ${term.en}` : c;
  });
  const c = v.contact || {};
  return fold(
    [b.name, b.kvk, b.address.street, b.address.number, b.address.postcode, formatPostcode(b.address.postcode), b.address.city,
      v.wijk, wijk && wijk.name, wijk && wijk.stadsdeel, v.notes, c.name, c.email, c.phone, ...topics].join(' \u0001 '),
  );
}

/**
 * Redraws the list from IndexedDB. Calls while one runs redraw once more.
 * Rows are updated in place, keyed by visit id, so that a row the crew
 * have focused keeps focus while states change under it.
 */
export function render() {
  if (rendering) {
    again = true;
    return rendering;
  }
  rendering = (async () => {
    do {
      again = false;
      await draw();
    } while (again);
    rendering = null;
  })();
  return rendering;
}

async function draw() {
  const ref = reference();
  const all = await db.allVisits();
  const today = localDate();
  const range = $('list-range').value;
  const words = fold($('search').value).split(/\s+/).filter(Boolean);
  const shown = all
    .filter((r) => !r.visit.deleted)
    .filter((r) => {
      if (range === 'all') return true;
      const d = parse(r.visit.visited_at);
      return (d && localDate(d) === today) || r.state === 'tablet' || r.state === 'set_aside';
    })
    .filter((r) => {
      if (!words.length) return true;
      const h = haystack(r, ref);
      return words.every((w) => h.includes(w));
    })
    // Newest first; within the same minute the later made first (ids are
    // UUIDv7: they sort by the time the tablet made them).
    .sort((a, b) => (parse(b.visit.visited_at) || 0) - (parse(a.visit.visited_at) || 0) || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0));

  const time = new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit' });
  const dateTime = new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
  const rows = shown.map((rec) => {
    const v = rec.visit;
    const d = parse(v.visited_at);
    const wijk = ((ref && ref.wijken) || []).find((w) => w.code === v.wijk);
    const topics = v.topics.map((c) => pick(((ref && ref.topics) || []).find((x) => x.code === c)) || c).join(', ');
    const why = rec.refusal;
    return {
      id: v.id,
      state: rec.state,
      name: v.business.name,
      meta: [d && (localDate(d) === today ? time : dateTime).format(d), wijk ? wijk.name : v.wijk, topics, v.crew].filter(Boolean).join(' · '),
      badge: t(`state.${rec.state}`),
      followups: followUpLine(rec),
      reason: why ? t(why.by === 'office' ? 'list.aside.office' : 'list.aside.bus', { message: reason(why) }) : '',
      feedback: rating(rec) === null ? '' : t('list.feedback', { rating: rating(rec) }),
    };
  });
  update($('visit-list'), rows);
  const count = $('list-count');
  if (shown.length) count.textContent = t('list.count', { n: shown.length });
  else count.textContent = all.length ? t('list.nomatch') : t('list.empty');
}

// What the office did with the visit's follow-ups, as last heard.
function followUpLine(rec) {
  const parts = [];
  for (const f of rec.visit.followups || []) {
    const st = (rec.office || {})[f.id];
    if (!st || !st.status) continue;
    const status = t(`fstatus.${st.status}`);
    parts.push(t('list.followup', { status: st.resolution ? `${status}. ${st.resolution}` : status }));
  }
  return parts.join(' ');
}

/**
 * Makes the list show rows, in order, touching only what changed: a row's
 * element lives as long as its visit is shown, and its link is never
 * replaced, so focus on it survives every update.
 */
function update(list, rows) {
  const active = document.activeElement;
  const focused = active && list.contains(active) ? active.closest('[data-visit-id]') : null;
  const old = new Map([...list.children].map((li) => [li.dataset.visitId, li]));
  const keep = new Set();
  let at = list.firstElementChild;
  for (const row of rows) {
    let li = old.get(row.id);
    if (!li) li = makeRow(row.id);
    fillRow(li, row);
    keep.add(li);
    if (li === at) {
      at = at.nextElementSibling;
    } else if (li.isConnected && list.moveBefore) {
      // Into place without leaving the document: focus stays where it is.
      list.moveBefore(li, at);
    } else {
      list.insertBefore(li, at);
    }
  }
  for (const li of [...list.children]) if (!keep.has(li)) li.remove();
  // Where a move takes the focused row out of the document for a moment
  // (a browser without moveBefore), focus fell to the body: put it back. A
  // row that went leaves it on the list's title rather than the body.
  if (focused && document.activeElement !== active) {
    if (focused.isConnected) focused.querySelector('a').focus({ preventScroll: true });
    else $('list-title').focus({ preventScroll: true });
  }
}

function makeRow(id) {
  const li = document.createElement('li');
  li.className = 'visit-row';
  li.dataset.visitId = id;
  const a = document.createElement('a');
  a.href = `#/visit/${id}`;
  a.className = 'visit-link';
  li.append(a);
  return li;
}

// What each row shows now, so that an unchanged row is not touched.
const drawn = new WeakMap();

function fillRow(li, row) {
  const sig = JSON.stringify(row);
  if (drawn.get(li) === sig) return;
  drawn.set(li, sig);
  li.dataset.state = row.state;
  const name = document.createElement('span');
  name.className = 'visit-name';
  name.textContent = row.name;
  const badge = document.createElement('span');
  badge.className = 'badge';
  badge.dataset.state = row.state;
  badge.textContent = row.badge;
  const meta = document.createElement('span');
  meta.className = 'visit-meta';
  meta.textContent = row.meta;
  const parts = [name, badge, meta];
  if (row.followups) {
    const fu = document.createElement('span');
    fu.className = 'visit-followup';
    fu.textContent = row.followups;
    parts.push(fu);
  }
  if (row.feedback) {
    const fb = document.createElement('span');
    fb.className = 'visit-feedback';
    fb.textContent = row.feedback;
    parts.push(fb);
  }
  if (row.reason) {
    const why = document.createElement('span');
    why.className = 'visit-reason';
    why.textContent = row.reason;
    parts.push(why);
  }
  // The link stays; only what it holds is new.
  li.firstElementChild.replaceChildren(...parts);
}

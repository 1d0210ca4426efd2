// The bus's day: today's stop (chosen once; every new visit takes its place
// and wijk from the settings), stops added on the spot, the quick-contact
// tally, and the office's history of the wijk. Everything is kept in
// IndexedDB first and sent to the bus when it is in reach, like visits:
//
//   kv 'stops'        {today, stops}: the bus's plan as last fetched
//   kv 'extras'       [{kind: 'stop'|'quick', id, body}]: waiting for the bus
//   kv 'tally'        {'day|stopId|kind': n}: this tablet's taps
//   kv 'history:WIJK' the office's summary of the wijk, as last fetched
//
// The bus takes a stop or a quick contact once by id, so sending one again
// after a lost answer counts nothing twice.

import * as db from './db.js';
import * as api from './api.js';
import { t, pick, locale } from './i18n.js';
import { localDate, rfc3339, parse } from './clock.js';
import { uuidv7 } from './uuid.js';

const $ = (id) => document.getElementById(id);

let ctx = null; // {settings(), chose(settings), reference(), toast(key)}
let flushing = null;

/** Wires the day screen; c gives the settings and reference lists and hears of a new stop. */
export function init(c) {
  ctx = c;
  $('day-stops').addEventListener('change', async (e) => {
    if (e.target.name !== 'day-stop') return;
    const all = await stops();
    const st = all.find((s) => s.id === e.target.value);
    if (st) await choose(st);
  });
  $('day-add-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    await addStop();
  });
  for (const b of document.querySelectorAll('#screen-day .quick')) b.addEventListener('click', () => tally(b.dataset.kind));
  for (const id of ['business-kvk', 'business-name', 'business-address-postcode']) $(id).addEventListener('input', () => lookup());
  api.events.addEventListener('reachable', (e) => {
    if (e.detail) flush();
  });
  flush();
}

/** Every stop this tablet knows: the bus's plan and its own, not yet on the bus. */
async function stops() {
  const plan = (await db.get('stops')) || { stops: [] };
  const own = ((await db.get('extras')) || []).filter((x) => x.kind === 'stop').map((x) => x.body);
  const ids = new Set(plan.stops.map((s) => s.id));
  return [...plan.stops, ...own.filter((s) => !ids.has(s.id))];
}

/** Fetches the bus's stops when it is in reach; the cached plan serves otherwise. */
async function refreshStops() {
  try {
    const res = await api.request('GET', '/api/stops');
    if (res.status === 200 && res.body && Array.isArray(res.body.stops)) await db.set('stops', res.body);
  } catch (err) {
    if (!(err instanceof api.NetworkError)) throw err;
  }
}

const wijkName = (code) => {
  const ref = ctx.reference();
  const w = ((ref && ref.wijken) || []).find((x) => x.code === code);
  return w ? w.name : code;
};

/** Draws the day screen from IndexedDB, then again with what the bus has. */
export async function render() {
  await draw();
  // Not awaited: a slow bus must not hold the screen.
  Promise.all([refreshStops(), refreshHistory(ctx.settings().stopWijk)])
    .then(draw)
    .catch((err) => console.warn('infobus: the day from the bus', err));
}

async function draw() {
  const settings = ctx.settings();
  const today = localDate();
  const list = (await stops()).filter((s) => s.date === today).sort((a, b) => a.start.localeCompare(b.start));
  const box = $('day-stops');
  box.replaceChildren(
    ...list.map((s) => {
      const label = document.createElement('label');
      label.className = 'choice day-stop';
      const input = document.createElement('input');
      input.type = 'radio';
      input.name = 'day-stop';
      input.value = s.id;
      input.id = `day-stop-${s.id}`;
      input.checked = settings.stopId === s.id;
      const text = document.createElement('span');
      text.textContent = `${s.start}–${s.end} · ${s.place} · ${wijkName(s.wijk)}${s.planned ? '' : ` (${t('day.unplanned')})`}`;
      label.append(input, ' ', text);
      return label;
    }),
  );
  $('day-stops-empty').hidden = list.length > 0;
  $('day-current').textContent = settings.stop ? t('day.current', { stop: [settings.stop, wijkName(settings.stopWijk)].filter(Boolean).join(', ') }) : t('day.current.none');
  const wijk = $('day-wijk');
  if (wijk.options.length <= 1) {
    const ref = ctx.reference();
    wijk.replaceChildren(new Option(t('choose'), ''));
    for (const w of [...((ref && ref.wijken) || [])].sort((a, b) => a.name.localeCompare(b.name, 'nl'))) wijk.append(new Option(w.name, w.code));
  }
  await drawTally();
  await drawOpen();
}

async function choose(st) {
  const settings = await db.updateSettings({ stop: st.place, stopWijk: st.wijk, stopId: st.id });
  ctx.chose(settings);
  ctx.toast('day.chosen');
  await refreshHistory(st.wijk);
  await draw();
}

const pad = (n) => String(n).padStart(2, '0');

async function addStop() {
  const place = $('day-place').value.trim().replace(/\s+/g, ' ');
  const wijk = $('day-wijk').value;
  const err = $('day-add-error');
  err.textContent = !place ? t('day.add.noplace') : !wijk ? t('day.add.nowijk') : '';
  for (const [id, bad] of [['day-place', !place], ['day-wijk', place && !wijk]]) {
    if (bad) $(id).setAttribute('aria-invalid', 'true');
    else $(id).removeAttribute('aria-invalid');
  }
  if (err.textContent) {
    $(place ? 'day-wijk' : 'day-place').focus();
    return;
  }
  // From now until the end of the working day; a stop must end after it starts.
  const now = new Date();
  const start = `${pad(now.getHours())}:${pad(Math.min(now.getMinutes(), now.getHours() === 23 ? 58 : 59))}`;
  const end = now.getHours() < 18 ? '18:00' : '23:59';
  const st = { id: uuidv7(), date: localDate(now), start, end, place, wijk, created_at: rfc3339(now) };
  await queue({ kind: 'stop', id: st.id, body: st });
  $('day-place').value = '';
  await choose({ ...st, planned: false });
  flush();
}

async function queue(item) {
  const list = (await db.get('extras')) || [];
  list.push(item);
  await db.set('extras', list);
}

async function tally(kind) {
  const s = ctx.settings();
  if (!s.stopWijk) {
    $('quick-status').textContent = t('quick.nostop');
    return;
  }
  const q = { id: uuidv7(), stop_id: s.stopId || '', stop: s.stop || '', wijk: s.stopWijk, kind, at: rfc3339() };
  await queue({ kind: 'quick', id: q.id, body: q });
  const counts = (await db.get('tally')) || {};
  const key = `${localDate()}|${s.stopId || s.stop || ''}|${kind}`;
  counts[key] = (counts[key] || 0) + 1;
  await db.set('tally', counts);
  $('quick-status').textContent = t('quick.saved', { kind: t(`quick.${kind}`), n: counts[key] });
  await drawTally();
  flush();
}

async function drawTally() {
  const s = ctx.settings();
  const counts = (await db.get('tally')) || {};
  for (const b of document.querySelectorAll('#screen-day .quick')) {
    const n = counts[`${localDate()}|${s.stopId || s.stop || ''}|${b.dataset.kind}`] || 0;
    b.querySelector('.quick-n').textContent = n ? `(${n})` : '';
  }
}

/** Sends what waits to the bus, oldest first, until it is out of reach. */
export function flush() {
  if (!flushing) {
    flushing = (async () => {
      try {
        for (;;) {
          const list = (await db.get('extras')) || [];
          if (!list.length) return;
          const item = list[0];
          const path = item.kind === 'stop' ? `/api/stops/${item.id}` : `/api/quick/${item.id}`;
          let res;
          try {
            res = await api.request('PUT', path, { body: item.body });
          } catch (err) {
            if (err instanceof api.NetworkError) return;
            throw err;
          }
          if (res.status >= 500 || res.status === 401 || res.status === 429) return; // try again later
          // Taken (200, 201), or refused for good (4xx): either way it is done here.
          if (res.status >= 400) console.warn('infobus: the bus refused', item.kind, item.id, res.body);
          const now = (await db.get('extras')) || [];
          await db.set('extras', now.filter((x) => x.id !== item.id));
          if (item.kind === 'stop') await refreshStops();
        }
      } finally {
        flushing = null;
      }
    })();
  }
  return flushing;
}

/** How many stops and quick contacts wait for the bus. */
export async function waiting() {
  return ((await db.get('extras')) || []).length;
}

async function refreshHistory(wijk) {
  if (!wijk) return;
  try {
    const res = await api.request('GET', `/api/history?wijk=${encodeURIComponent(wijk)}`);
    if (res.status === 200 && res.body && Array.isArray(res.body.visits)) await db.set(`history:${wijk}`, res.body.visits);
  } catch (err) {
    if (!(err instanceof api.NetworkError)) throw err;
  }
}

const term = (list, code) => {
  const ref = ctx.reference();
  const x = ((ref && ref[list]) || []).find((y) => y.code === code);
  return x ? pick(x) : code;
};

const day = (s) => {
  const d = parse(s);
  return d ? d.toLocaleDateString(locale(), { day: 'numeric', month: 'long', year: 'numeric' }) : s;
};

// Unfinished is every status but done and cancelled, also ones this app
// does not know yet (waiting, reopen_requested, or a later one).
const finished = (status) => status === 'done' || status === 'cancelled';

function historyItem(h, onlyOpen) {
  const li = document.createElement('li');
  const title = document.createElement('strong');
  title.textContent = h.name;
  const what = document.createElement('span');
  what.textContent = ` · ${t('history.visit', { date: day(h.visited_at), topics: h.topics.map((c) => term('topics', c)).join(', ') })}`;
  li.append(title, what);
  const fus = h.followups.filter((f) => !onlyOpen || !finished(f.status));
  if (fus.length) {
    const ul = document.createElement('ul');
    for (const f of fus) {
      const item = document.createElement('li');
      item.textContent = t('history.followup', { kind: t(`kind.${f.kind}`), department: f.department ? term('departments', f.department) : '–', status: t(`fstatus.${f.status}`) });
      ul.append(item);
    }
    li.append(ul);
  }
  return li;
}

async function drawOpen() {
  const wijk = ctx.settings().stopWijk;
  const list = $('open-followups');
  if (!wijk) {
    list.replaceChildren();
    $('open-empty').textContent = t('history.open.nowijk');
    return;
  }
  const all = (await db.get(`history:${wijk}`)) || [];
  const open = all.filter((h) => h.followups.some((f) => !finished(f.status)));
  list.replaceChildren(...open.map((h) => historyItem(h, true)));
  $('open-empty').textContent = open.length ? '' : t('history.open.none');
}

const fold = (s) =>
  String(s || '')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();

/**
 * Shows, beside the visit form, earlier visits of the business being typed
 * (by KvK, or by name and postcode) from the office's history of the
 * stop's wijk: visits by other buses and from before this tablet.
 */
export async function lookup() {
  const box = $('history-box');
  const kvk = $('business-kvk').value.replace(/\s/g, '');
  const name = fold($('business-name').value);
  const postcode = $('business-address-postcode').value.replace(/\s/g, '').toUpperCase();
  const wijk = ctx.settings().stopWijk || $('wijk').value;
  const asked = ++lookups;
  const byKvK = kvk.length === 8;
  const byName = !!name && postcode.length === 6;
  let found = [];
  if (byKvK || byName) {
    const match = (h) => (byKvK && h.kvk === kvk) || (byName && fold(h.name) === name && h.postcode === postcode);
    if (wijk) found = ((await db.get(`history:${wijk}`)) || []).filter(match);
    // A business outside the stop's wijk: ask the bus, when it is in reach.
    if (!found.length) {
      try {
        const q = byKvK ? `kvk=${kvk}` : `name=${encodeURIComponent($('business-name').value.trim())}&postcode=${postcode}`;
        const res = await api.request('GET', `/api/history?${q}`, { timeout: 3000 });
        if (res.status === 200 && res.body && Array.isArray(res.body.visits)) found = res.body.visits.filter(match);
      } catch (err) {
        if (!(err instanceof api.NetworkError)) throw err;
      }
    }
  }
  if (asked !== lookups) return; // a later keystroke asked again
  $('history-list').replaceChildren(...found.map((h) => historyItem(h, false)));
  box.hidden = found.length === 0;
}

let lookups = 0;

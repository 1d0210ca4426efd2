// What the bus knows: where each visit is now (bus, office, handled), the
// office's status of each follow-up, and how sync with the office stands.
// Polled while the app is open and paired; merged into IndexedDB.

import * as db from './db.js';
import * as api from './api.js';
import * as outbox from './outbox.js';

const POLL_MS = 30 * 1000;
// How often the app looks for the bus: every second while it is out of
// reach, so that visits waiting on the tablet go the moment it is back
// (a tablet that stays on the van's Wi-Fi gets no online event); every 10 s
// while it is there, so that losing it shows soon without the Wi-Fi going.
const PROBE_AWAY_MS = 1000;
const PROBE_NEAR_MS = 10 * 1000;
const PAGE = 500;
// Pages read in one pull; a tablet far behind catches up over a few polls
// rather than holding the bus in one long loop.
const MAX_PAGES = 20;

/** Events: 'status' (detail: sync status body), 'change' after merged views. */
export const events = new EventTarget();

let pollTimer = 0;
let probeTimer = 0;
let pulling = null;
let again = false;

/** Starts polling every 30 s while the page is visible, and looking for the bus. */
export function start() {
  stop();
  const tick = () => {
    if (document.visibilityState === 'visible') refresh().catch(() => {});
  };
  pollTimer = setInterval(tick, POLL_MS);
  tick();
  probeSoon();
}

export function stop() {
  clearInterval(pollTimer);
  pollTimer = 0;
  clearTimeout(probeTimer);
  probeTimer = 0;
}

// The moment the bus is seen again (a probe, a poll, any answer), the
// visits waiting on the tablet go; and the app looks for the bus more or
// less often.
let wasReachable = api.isReachable();
api.events.addEventListener('reachable', (e) => {
  const now = e.detail;
  const before = wasReachable;
  wasReachable = now;
  if (!pollTimer) return;
  probeSoon(now ? PROBE_NEAR_MS : PROBE_AWAY_MS);
  if (now && before === false) {
    outbox.kick();
    refresh().catch(() => {});
  }
});

/** Looks for the bus now, and again after a while. */
export function probeSoon(ms = 0) {
  clearTimeout(probeTimer);
  probeTimer = setTimeout(async () => {
    try {
      outbox.health(await api.probe());
    } catch (err) {
      if (!(err instanceof api.NetworkError)) console.warn('infobus: probe', err);
    }
    // A hidden page (a tablet asleep in a bag) looks less often.
    const near = api.isReachable() || document.visibilityState !== 'visible';
    if (pollTimer) probeSoon(near ? PROBE_NEAR_MS : PROBE_AWAY_MS);
  }, ms);
}

/** Pulls the bus's views of visits and the sync status, quietly. */
export async function refresh() {
  await Promise.all([pull(), status()]);
}

/** Merges the changes GET /api/visits?since=… lists into the stored visits. */
export function pull() {
  if (pulling) {
    // A change may have landed after the running pull read its last page.
    again = true;
    return pulling;
  }
  pulling = (async () => {
    try {
      do {
        again = false;
        await pullPages();
      } while (again);
    } finally {
      pulling = null;
    }
  })();
  return pulling;
}

// The bus lists changes oldest first, and every change to a visit (the
// crew's edits, the office's acknowledgement and status) takes a new seq:
// paging from the cursor until `more` is false sees each of them once.
async function pullPages() {
  let since = (await db.get('cursor')) || 0;
  for (let i = 0; i < MAX_PAGES; i++) {
    let res;
    try {
      res = await api.listVisits(since, PAGE);
    } catch (err) {
      if (err instanceof api.NetworkError) return;
      throw err;
    }
    const body = res.body;
    if (res.status !== 200 || !body || !Array.isArray(body.visits) || typeof body.seq !== 'number') return;
    if (await db.mergeViews(body.visits)) events.dispatchEvent(new Event('change'));
    // The cursor moves only past what is merged: a pull cut short starts
    // again where it stopped.
    const next = body.seq;
    if (next !== since) await db.set('cursor', next);
    if (!body.more || next <= since) return;
    since = next;
  }
}

/** Reads GET /api/sync/status and keeps the last answer. */
export async function status() {
  let res;
  try {
    res = await api.syncStatus();
  } catch (err) {
    if (err instanceof api.NetworkError) return;
    throw err;
  }
  if (res.status !== 200 || !res.body) return;
  const st = { ...res.body, fetched_at: new Date().toISOString() };
  await db.set('syncStatus', st);
  events.dispatchEvent(new CustomEvent('status', { detail: st }));
}

/**
 * Sends the outbox, asks the bus to sync with the office now, then reads
 * back where everything stands. Resolves with {ok, status, body} or
 * {ok: false, offline: true}; a bus without an office (409/503) is an
 * answer to show, not a failure of the app.
 */
export async function syncNow() {
  await outbox.kick();
  let res;
  try {
    res = await api.syncNow();
  } catch (err) {
    if (err instanceof api.NetworkError) return { ok: false, offline: true };
    throw err;
  }
  await refresh().catch(() => {});
  return { ok: res.status >= 200 && res.status < 300, status: res.status, body: res.body };
}

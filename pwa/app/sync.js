// What the bus knows: where each visit is now (bus, office, handled), the
// office's status of each follow-up, and how sync with the office stands.
// Polled while the app is open and paired; merged into IndexedDB.

import * as db from './db.js';
import * as api from './api.js';
import * as outbox from './outbox.js';

const POLL_MS = 30 * 1000;
// The bus moves a visit to "office" without a new change number, so a pull
// since the last cursor misses it; a full read every few minutes does not.
const FULL_PULL_MS = 5 * 60 * 1000;
const PAGE = 500;

/** Events: 'status' (detail: sync status body), 'change' after merged views. */
export const events = new EventTarget();

let pollTimer = 0;
let lastFull = 0;
let pulling = null;

/** Starts polling every 30 s while the page is visible. */
export function start() {
  stop();
  const tick = () => {
    if (document.visibilityState === 'visible') refresh().catch(() => {});
  };
  pollTimer = setInterval(tick, POLL_MS);
  tick();
}

export function stop() {
  clearInterval(pollTimer);
  pollTimer = 0;
}

/** Pulls the bus's views of visits and the sync status, quietly. */
export async function refresh({ full = false } = {}) {
  await Promise.all([pull(full), status()]);
}

/** Merges GET /api/visits?since=… into the stored visits. */
export function pull(full = false) {
  if (pulling) {
    // One at a time; a full read asked for meanwhile still happens.
    return full ? pulling.then(() => pull(true)) : pulling;
  }
  pulling = pullOnce(full).finally(() => {
    pulling = null;
  });
  return pulling;
}

async function pullOnce(full) {
  if (Date.now() - lastFull > FULL_PULL_MS) full = true;
  const since = full ? 0 : (await db.get('cursor')) || 0;
  let res;
  try {
    res = await api.listVisits(since, PAGE);
  } catch (err) {
    if (err instanceof api.NetworkError) return;
    throw err;
  }
  if (res.status !== 200 || !res.body || !Array.isArray(res.body.visits)) return;
  if (await db.mergeViews(res.body.visits)) events.dispatchEvent(new Event('change'));
  // With more, the rest are older changes than the newest PAGE: not the
  // ones the crew look at today.
  if (typeof res.body.seq === 'number') await db.set('cursor', res.body.seq);
  if (full) lastFull = Date.now();
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
  await refresh({ full: true }).catch(() => {});
  return { ok: res.status >= 200 && res.status < 300, status: res.status, body: res.body };
}

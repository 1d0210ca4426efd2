// The status bar: visits waiting on the tablet, visits set aside (refused
// by the bus or by the office), visits on the bus that the office does not
// have yet, the last successful sync with the office, and the "Sync now"
// button.

import * as db from './db.js';
import * as api from './api.js';
import * as sync from './sync.js';
import * as outbox from './outbox.js';
import { t, message as say, locale } from './i18n.js';
import { parse } from './clock.js';

const $ = (id) => document.getElementById(id);

let counts = { tablet: 0, aside: 0, unsent: 0 };
let status = null; // last GET /api/sync/status answer
let message = null; // {key, vars} or {body}: the last sync-now outcome
let busy = false; // a sync-now runs

/** Visits not on the bus yet (waiting, or refused by the bus), as last counted. */
export const unsent = () => counts.unsent;

/** Wires the sync button and loads the last known status. */
export async function init() {
  $('sync-now').addEventListener('click', syncNow);
  api.events.addEventListener('reachable', render);
  outbox.events.addEventListener('problem', render);
  sync.events.addEventListener('status', (e) => {
    status = e.detail;
    render();
  });
  status = (await db.get('syncStatus')) || null;
  await update();
}

/** Forgets the last sync-now outcome: it belongs to the screen it was asked on. */
export function clearMessage() {
  message = null;
  render();
}

/** Recounts the local figures and redraws. */
export async function update() {
  counts = await db.counts();
  render();
}

function when(s) {
  const d = parse(s);
  if (!d) return t('status.never');
  return new Intl.DateTimeFormat(locale(), { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(d);
}

/** Redraws in the language in use. */
export function render() {
  $('status-tablet').textContent = String(counts.tablet);
  $('status-aside').textContent = String(counts.aside);
  $('status-aside-item').hidden = counts.aside === 0;
  $('status-bus').textContent = status && typeof status.pending === 'number' ? String(status.pending) : t('status.unknown');
  $('status-last-sync').textContent = status ? when(status.last_success) : t('status.unknown');
  const reachable = api.isReachable();
  const conn = $('status-conn');
  conn.dataset.reachable = reachable === null ? '' : String(reachable);
  conn.textContent = reachable === false ? t('status.unreachable') : reachable ? t('status.reachable') : '';
  // Out of reach: a banner anyone sees at a glance, and the button that
  // needs the bus off, with the reason beside it.
  const banner = $('offline-banner');
  const text = reachable === false ? t('offline.banner') : '';
  if (banner.textContent !== text) banner.textContent = text;
  // The bus cannot store visits now (its disk is full): its own words.
  const trouble = reachable === false ? '' : say(outbox.problem());
  if ($('bus-problem').textContent !== trouble) $('bus-problem').textContent = trouble;
  const button = $('sync-now');
  button.disabled = busy || reachable === false;
  $('sync-now-reason').textContent = reachable === false ? t('sync.needsbus') : '';
  let said = '';
  if (message) said = message.body ? say(message.body) : t(message.key, message.vars);
  else if (status && status.last_error) said = t('sync.error');
  $('sync-message').textContent = said;
}

async function syncNow() {
  const button = $('sync-now');
  busy = true;
  button.textContent = t('sync.busy');
  message = null;
  render();
  try {
    const r = await sync.syncNow();
    if (r.offline) message = { key: 'sync.offline' };
    else if (r.ok) message = { key: 'sync.done' };
    else if (r.status === 401) message = null; // pairing takes over
    // A bus binary older than the app this tablet cached has no POST /api/sync.
    else if (r.status === 404 || r.status === 405) message = { key: 'sync.unavailable' };
    else if (r.body && (r.body.message || r.body.message_nl)) message = { body: r.body };
    else message = { key: 'sync.failed', vars: { status: r.status } };
  } finally {
    busy = false;
    button.textContent = t('sync.now');
    await update();
  }
}

// The outbox: visits saved on the tablet whose current rev the bus has not
// stored yet. flush() replays them one by one with PUT /api/visits/{id};
// it runs at once after a save, when the browser comes online, and on a
// timer that backs off exponentially with jitter while the bus is away.

import * as db from './db.js';
import * as api from './api.js';

const BACKOFF_BASE_MS = 2000;
const BACKOFF_CAP_MS = 5 * 60 * 1000;

/**
 * Events: 'change' after any visit changed state, 'flushed' (detail:
 * {sent, failed}), 'problem' when the bus's reason for not taking visits
 * now comes or goes.
 */
export const events = new EventTarget();

// The bus's answer when it could not store a visit for now (507: its disk
// is full), shown to the crew until a visit goes through again.
let trouble = null;

/** The bus's last reason ({error, message, message_nl}) for not storing visits now, or null. */
export const problem = () => trouble;

/**
 * Takes the bus's /healthz answer: a 507 says its disk is full before
 * any visit is refused, a 200 that its last write went through.
 */
export function health(res) {
  if (res.status === 507) setProblem(res.body);
  else if (res.status === 200) setProblem(null);
}

function setProblem(body) {
  const next = body && (body.message || body.message_nl) ? { error: body.error || '', message: body.message || '', message_nl: body.message_nl || '' } : null;
  if (JSON.stringify(next) === JSON.stringify(trouble)) return;
  trouble = next;
  events.dispatchEvent(new Event('problem'));
}

let running = null;
let again = false;
let timer = 0;
let backoff = 0;
let enabled = false;

/** Starts replaying (after pairing); stop() pauses it (while unpaired). */
export function start() {
  enabled = true;
  // Answers that came before (the lists, the pairing) were not checked.
  if (api.epoch()) noticeEpoch();
  kick();
}

export function stop() {
  enabled = false;
  clearTimeout(timer);
  setProblem(null); // the bus paired next may be another
}

/** Flushes now, without waiting for the backoff timer. */
export function kick() {
  clearTimeout(timer);
  timer = 0;
  return flush();
}

/**
 * Replays the queue; resolves with {sent, failed} where failed says the
 * bus could not take the queue now ('network', 'server', 'unauthorized').
 * Calls while one runs make it run once more afterwards.
 */
export function flush() {
  if (!enabled) return Promise.resolve({ sent: 0, failed: 'unpaired' });
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    let total = 0;
    let result;
    try {
      do {
        again = false;
        result = await replay();
        total += result.sent;
      } while (again && !result.failed);
    } finally {
      running = null;
    }
    if (result.failed === 'network' || result.failed === 'server') retryLater();
    else if (!result.failed) backoff = 0;
    const outcome = { sent: total, failed: result.failed };
    events.dispatchEvent(new CustomEvent('flushed', { detail: outcome }));
    return outcome;
  })();
  return running;
}

function retryLater() {
  backoff = Math.min(BACKOFF_CAP_MS, backoff ? backoff * 2 : BACKOFF_BASE_MS);
  // Half fixed, half random: tablets that lost the bus together do not
  // all come back in the same second.
  const wait = backoff / 2 + Math.random() * (backoff / 2);
  clearTimeout(timer);
  timer = setTimeout(() => {
    timer = 0;
    flush();
  }, wait);
}

const changed = () => events.dispatchEvent(new Event('change'));

async function replay() {
  let sent = 0;
  for (const entry of await db.outbox()) {
    if (!enabled) return { sent, failed: 'unpaired' };
    const rec = await db.getVisit(entry.id);
    if (!rec) continue;
    const visit = db.crewRecord(rec.visit);
    let res;
    try {
      res = await api.putVisit(visit);
    } catch (err) {
      if (err instanceof api.NetworkError) return { sent, failed: 'network' };
      throw err;
    }
    const { status, body } = res;
    if (status === 200 || status === 201) {
      setProblem(null);
      if (await db.markSent(visit.id, visit.rev, body)) sent++;
      changed();
    } else if (status === 401) {
      return { sent, failed: 'unauthorized' }; // api.js sends the crew to pairing
    } else if (status === 408 || status === 429 || status >= 500) {
      // The visit stays queued and goes by itself later; the crew read why
      // (a full disk is for the coordinator to fix).
      setProblem(status === 507 ? body : null);
      return { sent, failed: 'server' };
    } else {
      // 400 invalid, 409 conflict or stale, 413 too large, or another
      // refusal that sending again cannot change: set aside with the
      // reason, fixable by the crew, and go on with the rest.
      const b = body || {};
      await db.setAside(visit.id, visit.rev, {
        status,
        error: b.error || `http_${status}`,
        message: b.message || `HTTP ${status}`,
        message_nl: b.message_nl || b.message || `HTTP ${status}`,
        fields: b.fields || null,
        fields_nl: b.fields_nl || null,
        current_rev: b.current_rev || 0,
      });
      changed();
    }
  }
  return { sent, failed: '' };
}

// A bus restored from a backup answers with a new epoch (the
// Infobus-Epoch header) and lacks what tablets sent it since the backup.
// This tablet still holds every visit it saved: it queues again those the
// bus no longer has, or has at an older rev, and sends them.
//
// No epoch may go unchecked. A check runs only once paired and started,
// so start() checks the last epoch seen before; an answer with another
// epoch during a check makes it run once more afterwards. A check cut
// short (no answer, or an error) runs again at the next answer after it.
let epochCheck = null;
let checking = '';
let epochAgain = false;
function noticeEpoch() {
  if (epochCheck) {
    if (api.epoch() !== checking) epochAgain = true;
    return;
  }
  checking = api.epoch();
  epochCheck = checkEpoch(checking).finally(() => {
    epochCheck = null;
    if (epochAgain) {
      epochAgain = false;
      noticeEpoch();
    }
  });
}
api.events.addEventListener('epoch', noticeEpoch);

/** Re-queues what a bus with a new epoch lacks; resolves with how many. */
export async function checkEpoch(epoch) {
  // Only once paired and started: the lists load before the token is set,
  // and a question without it would send the crew back to pairing.
  if (!enabled) return 0;
  const known = await db.get('busEpoch');
  if (known === epoch) return 0;
  let queued = 0;
  if (known) {
    for (const rec of await db.allVisits()) {
      if (rec.state === 'tablet' || rec.aside) continue; // queued, or refused by the bus
      let res;
      try {
        res = await api.getVisit(rec.id);
      } catch {
        return queued; // the epoch stays unknown: the next answer tries again
      }
      const lost = res.status === 404 || (res.status === 200 && res.body && res.body.rev < rec.visit.rev);
      if (!lost && res.status !== 200) return queued;
      if (lost && (await db.requeue(rec.id, rec.visit.rev))) queued++;
    }
  }
  await db.set('busEpoch', epoch);
  if (queued) {
    changed();
    kick();
  }
  return queued;
}

// The bus's crew API: one fetch wrapper that adds the device token, reads
// the JSON answer, and tells the app when the bus is reachable and when it
// no longer knows this device (401), which sends the crew back to pairing.

const TIMEOUT_MS = 15000;

/**
 * Events: 'reachable' (detail: boolean), 'unauthorized' (detail: error
 * body), 'epoch' (detail: the bus database's epoch, from every answer).
 */
export const events = new EventTarget();

let token = '';
let reachable = null;
let lastEpoch = '';

/**
 * The bus database's epoch from its last answer ('' before any): a module
 * that starts listening late (the outbox, once paired) still learns it.
 */
export const epoch = () => lastEpoch;

/** Sets the device token sent with every authenticated call ('' for none). */
export function setToken(t) {
  token = t || '';
}

/** Reports whether the last call reached the bus (null: no call yet). */
export const isReachable = () => reachable;

/**
 * Says the bus is out of reach without waiting for a request to fail: the
 * browser's offline event is the first sign the Wi-Fi is gone.
 */
export function markUnreachable() {
  setReachable(false);
}

function setReachable(r) {
  if (r !== reachable) {
    reachable = r;
    events.dispatchEvent(new CustomEvent('reachable', { detail: r }));
  }
}

/** The bus could not be reached, or did not answer in time. */
export class NetworkError extends Error {}

/**
 * Calls the bus and resolves with {status, body} (body: parsed JSON or
 * null) for every HTTP answer; rejects with NetworkError when there is none.
 * With auth, the device token goes along and a 401 is announced.
 */
export async function request(method, path, { body, auth = true, timeout = TIMEOUT_MS, cache = 'no-store' } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth && token) headers.Authorization = `Bearer ${token}`;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeout);
  let res;
  let text = '';
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache,
      credentials: 'same-origin',
      signal: ctrl.signal,
    });
    text = await res.text();
  } catch (err) {
    setReachable(false);
    throw new NetworkError(err && err.message ? err.message : String(err));
  } finally {
    clearTimeout(timer);
  }
  // An answer to a request sent before the browser went offline is news
  // from the past: it must not clear the offline state.
  setReachable(navigator.onLine !== false);
  const epoch = res.headers.get('Infobus-Epoch');
  if (epoch) {
    lastEpoch = epoch;
    events.dispatchEvent(new CustomEvent('epoch', { detail: epoch }));
  }
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null; // a proxy's HTML error page, say
  }
  if (res.status === 401 && auth) {
    events.dispatchEvent(new CustomEvent('unauthorized', { detail: data }));
  }
  return { status: res.status, body: data };
}

// A cheap look for the bus: no token, no body, a short wait.
export const probe = () => request('GET', '/healthz', { auth: false, timeout: 3000 });
// The name is what `infobus bus devices` shows; without one the bus gives a number.
export const pair = (code, name) => request('POST', '/api/pair', { body: name ? { pairing_code: code, device_name: name } : { pairing_code: code }, auth: false });
// The lists change only with the bus's binary: revalidate (a 304) rather than refetch.
export const reference = () => request('GET', '/api/reference', { auth: false, cache: 'no-cache' });
export const getVisit = (id) => request('GET', `/api/visits/${encodeURIComponent(id)}`);
export const putVisit = (visit) => request('PUT', `/api/visits/${encodeURIComponent(visit.id)}`, { body: visit });
export const listVisits = (since, limit) => request('GET', `/api/visits?since=${since}&limit=${limit}`);
export const syncStatus = () => request('GET', '/api/sync/status');
export const syncNow = () => request('POST', '/api/sync', { timeout: 60000 });

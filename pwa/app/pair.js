// Pairing: the tablet trades a one-time code from `infobus bus pair` for a
// device id and token. The code comes from the pairing QR's URL
// ({bus}/#pair=ABCD-EFGH) or is typed in.

import * as api from './api.js';
import * as db from './db.js';
import { t, message } from './i18n.js';

const $ = (id) => document.getElementById(id);

let onPaired = () => {};
let problem = null; // {key, vars} or {body}: kept so a language switch rewords it
let notice = null; // key of a message above the form

/**
 * Takes a pairing code out of the address (#pair=CODE) and removes it from
 * the address bar and history, so that it is not bookmarked or shared.
 */
export function takeCodeFromURL() {
  const m = /^#pair=([^&]*)/.exec(location.hash);
  if (!m) return '';
  history.replaceState(history.state, '', location.pathname + location.search);
  return decodeURIComponent(m[1]).trim();
}

/** Wires the pairing form; paired(device) runs after a successful pairing. */
export function init(paired) {
  onPaired = paired;
  $('pair-form').addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
}

/**
 * Shows the pairing screen's content: code prefilled, why it is shown
 * (noticeKey: 'pair.revoked', 'pair.already'), and how many visits wait.
 */
export async function show({ code = '', noticeKey = null, auto = false } = {}) {
  notice = noticeKey;
  problem = null;
  if (code) $('pair-code').value = code;
  // A tablet paired again keeps the name it had.
  if (!$('pair-name').value) $('pair-name').value = ((await db.get('settings')) || {}).deviceName || '';
  // Visits the office set aside are on the bus: only the others wait.
  const waiting = (await db.counts()).unsent;
  const q = $('pair-queued');
  q.hidden = waiting === 0;
  q.textContent = waiting ? t('pair.queued', { n: waiting }) : '';
  render();
  if (auto && code) submit();
}

/** Rewords the screen's messages in the language in use. */
export function render() {
  const n = $('pair-notice');
  n.hidden = !notice;
  n.textContent = notice ? t(notice) : '';
  const box = $('pair-error');
  if (!problem) {
    box.textContent = '';
    $('pair-code').removeAttribute('aria-invalid');
    return;
  }
  box.textContent = problem.body ? message(problem.body) : t(problem.key, problem.vars);
  $('pair-code').setAttribute('aria-invalid', 'true');
}

async function submit() {
  const input = $('pair-code');
  const button = $('pair-submit');
  const code = input.value.trim().toUpperCase();
  const name = $('pair-name').value.trim();
  problem = null;
  if (!code) {
    problem = { key: 'pair.empty' };
    render();
    input.focus();
    return;
  }
  button.disabled = true;
  button.textContent = t('pair.busy');
  let res;
  try {
    res = await api.pair(code, name);
  } catch (err) {
    if (!(err instanceof api.NetworkError)) throw err;
    problem = { key: 'pair.offline' };
  } finally {
    button.disabled = false;
    button.textContent = t('pair.submit');
  }
  if (res && res.status === 201 && res.body && res.body.device_token) {
    const device = {
      device_id: res.body.device_id,
      device_token: res.body.device_token,
      device_name: res.body.device_name || name,
      paired_at: new Date().toISOString(),
    };
    await db.set('device', device);
    await db.updateSettings({ deviceName: device.device_name });
    $('pair-name').value = device.device_name;
    input.value = '';
    notice = null;
    render();
    onPaired(device);
    return;
  }
  if (res) {
    problem = res.body && (res.body.message || res.body.message_nl) ? { body: res.body } : { key: 'pair.failed', vars: { status: res.status } };
  }
  render();
  input.focus();
}

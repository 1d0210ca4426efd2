// Bootstrap and routing. Screens: pairing (until this tablet has a device
// token), the visits list (#/), the visit form (#/new, #/visit/{id}) and
// settings (#/settings). The service worker keeps the app usable offline;
// a new version waits until the crew choose to reload.

import * as db from './db.js';
import * as api from './api.js';
import * as pair from './pair.js';
import { t, setLang, lang, message } from './i18n.js';

// The modules of a paired tablet load beside the first screen: a first
// start shows pairing after one round of requests (the browser opens six
// connections to a host), not three. Each is null until it has loaded.
let outbox = null;
let sync = null;
let form = null;
let list = null;
let statusbar = null;
let stops = null;
let rest = null;

/** Loads and starts the modules of a paired tablet, once. */
function loadRest() {
  if (!rest) {
    rest = Promise.all([import('./outbox.js'), import('./sync.js'), import('./form.js'), import('./list.js'), import('./statusbar.js'), import('./stops.js')]).then(
      async (mods) => {
        [outbox, sync, form, list, statusbar, stops] = mods;
        stops.init({
          settings: () => settings,
          reference: () => reference,
          toast,
          chose: (s) => {
            settings = s;
            renderCrew();
          },
        });
        list.init(() => reference);
        form.init({
          reference: () => reference,
          settings: () => settings,
          device: () => device,
          saved: async (rec, got) => {
            // What stays the same at a stop comes along to the next visit:
            // taken from a new visit here, not from an old one edited.
            const v = rec.visit;
            if (v.rev === 1 && v.stop === (settings.stop || '')) {
              settings = await db.updateSettings({
                lastWijk: v.wijk,
                carry: { stop: v.stop, street: v.business.address.street, city: v.business.address.city, language: v.language },
              });
            }
            // A follow-up the pool had no code for: the crew hear it now,
            // and give a card instead.
            if (got && got.missing) toast('qr.missing', { n: got.missing });
            else toast('form.saved');
            outbox.kick();
            await statusbar.update();
            // Follow-ups that took a code from the pool: the entrepreneur
            // scans it now.
            qrMissing = got ? got.missing : 0;
            location.hash = got && got.taken ? `#/qr/${rec.visit.id}` : '#/';
            refillCodes();
          },
        });
        await statusbar.init();
        wireRest();
      },
      (err) => {
        rest = null; // try again at the next need: offline, a first start has no cached copy
        throw err;
      },
    );
  }
  return rest;
}

const $ = (id) => document.getElementById(id);
// This module is served from /v/{version}/app.js.
const VERSION = new URL(import.meta.url).pathname.split('/').at(-2);

let device = null;
let settings = {};
let reference = null;
let screen = '';
let route = '';
let leaving = false; // the crew chose to reload: records are safe in IndexedDB

const screens = ['pair', 'list', 'form', 'settings', 'qr', 'day'];
let qrMissing = 0; // follow-ups the pool had no code for at the last save

// Tops up the pool of follow-up codes while the bus is in reach; only once
// the token is set, or the bus would answer 401 and unpair the tablet.
let tokenSet = false;
function refillCodes() {
  if (device && tokenSet) import('./codes.js').then((c) => c.refill()).catch((err) => console.error('infobus: code pool', err));
}

function show(name) {
  screen = name;
  for (const s of screens) $(`screen-${s}`).hidden = s !== name;
  $('status-bar').hidden = name === 'pair';
  document.body.dataset.screen = name;
  for (const [id, r] of [['nav-list', 'list'], ['nav-day', 'day'], ['nav-settings', 'settings']]) {
    if (r === name) $(id).setAttribute('aria-current', 'page');
    else $(id).removeAttribute('aria-current');
  }
}

function focusTitle() {
  const h = document.querySelector(`#screen-${screen} h1`);
  if (h) h.focus({ preventScroll: false });
  document.title = `${h ? h.textContent : ''} – ${t('app.title')}`;
}

function toast(key, vars) {
  const el = $('toast');
  el.textContent = t(key, vars);
  el.dataset.show = '1';
  clearTimeout(toast.timer);
  // A longer sentence stays long enough to be read.
  toast.timer = setTimeout(() => {
    el.dataset.show = '';
    el.textContent = '';
  }, Math.max(3000, el.textContent.length * 60));
}

async function navigate() {
  if (location.hash.startsWith('#pair=')) {
    const code = pair.takeCodeFromURL();
    show('pair');
    await pair.show({ code, auto: !device, noticeKey: device ? 'pair.already' : null });
    focusTitle();
    return;
  }
  if (!device) {
    show('pair');
    await pair.show();
    focusTitle();
    return;
  }
  await loadRest();
  const hash = location.hash || '#/';
  // Leaving a form with changes asks first; a "no" puts the address back.
  if (screen === 'form' && form.isDirty() && hash !== route && !confirm(t('form.dirty'))) {
    history.replaceState(history.state, '', route);
    return;
  }
  route = hash;
  if (statusbar) statusbar.clearMessage();
  let m;
  if (hash === '#/new') {
    await form.open(null);
    show('form');
  } else if ((m = /^#\/visit\/([0-9a-f-]{36})$/.exec(hash))) {
    if (!(await form.open(m[1]))) {
      toast('form.notfound');
      location.replace('#/');
      return;
    }
    show('form');
  } else if ((m = /^#\/qr\/([0-9a-f-]{36})$/.exec(hash))) {
    const qr = await import('./qr.js');
    qr.init(() => reference && reference.codes);
    const missing = qrMissing;
    qrMissing = 0;
    if (!(await qr.show(m[1], missing))) {
      toast('form.notfound');
      location.replace('#/');
      return;
    }
    show('qr');
  } else if (hash === '#/settings') {
    await renderSettings();
    show('settings');
  } else if (hash === '#/day') {
    show('day');
    await stops.render();
  } else {
    await list.render();
    show('list');
  }
  focusTitle();
  // A new visit starts with its name: no tap needed to begin typing.
  if (hash === '#/new') $('business-name').focus();
  if (screen === 'form') stops.lookup();
}

async function paired(d) {
  device = d;
  api.setToken(d.device_token);
  tokenSet = true;
  await loadRest();
  outbox.start();
  sync.start();
  askPersistence();
  // Codes of the bus paired before may not be this bus's.
  import('./codes.js').then((c) => c.clearPool()).then(refillCodes, (err) => console.error('infobus: code pool', err));
  if (!reference) loadReference().catch((err) => console.error('infobus: reference lists', err));
  toast('pair.done');
  // Visits carry the crew and the stop: ask for them before the first one.
  const next = settings.crew ? '#/' : '#/settings';
  if (location.hash === next) await navigate();
  else location.hash = next;
}

async function unpaired(noticeKey) {
  // Only the credentials go: visits and their queue stay on the tablet.
  device = null;
  api.setToken('');
  tokenSet = false;
  if (outbox) outbox.stop();
  if (sync) sync.stop();
  await db.del('device');
  show('pair');
  await pair.show({ noticeKey });
  focusTitle();
}

async function loadReference() {
  reference = (await db.get('reference')) || null;
  try {
    const res = await api.reference();
    if (res.status === 200 && res.body && Array.isArray(res.body.wijken)) {
      reference = res.body;
      await db.set('reference', reference);
      if (form) form.render();
      if (list && screen === 'list') list.render();
    }
  } catch (err) {
    if (!(err instanceof api.NetworkError)) throw err;
  }
}

/**
 * Asks the browser to keep the app's data, and where it cannot promise to
 * (Safari has no navigator.storage and may clear a web app's data that is
 * not on the Home Screen), says so on the list with what to do.
 */
async function askPersistence() {
  let kept = false;
  if (navigator.storage && navigator.storage.persist) {
    try {
      kept = (await navigator.storage.persisted()) || (await navigator.storage.persist());
    } catch {
      kept = false;
    }
  }
  // Opened from the Home Screen, Safari keeps the app's data like an app's.
  const installed = navigator.standalone === true || matchMedia('(display-mode: standalone)').matches;
  $('storage-notice').hidden = kept || installed;
}

async function renderSettings() {
  $('settings-crew').value = settings.crew || '';
  $('settings-stop').value = settings.stop || '';
  const wijk = $('settings-wijk');
  wijk.replaceChildren(new Option(t('none'), ''));
  for (const w of [...((reference && reference.wijken) || [])].sort((a, b) => a.name.localeCompare(b.name, 'nl'))) wijk.append(new Option(w.name, w.code));
  wijk.value = settings.stopWijk || '';
  $('settings-device-name').textContent = (device && device.device_name) || '–';
  $('settings-device-id').textContent = device ? device.device_id : '–';
  $('settings-version').textContent = VERSION;
  let persisted = false;
  if (navigator.storage && navigator.storage.persisted) persisted = await navigator.storage.persisted().catch(() => false);
  $('settings-storage').textContent = t(persisted ? 'settings.storage.persistent' : 'settings.storage.best');
  // How many codes wait for follow-ups, and why none come when the bus refuses.
  const codes = await import('./codes.js');
  const free = await codes.free();
  const why = codes.refusal();
  $('settings-codes').textContent = why && !free ? `${free} – ${message(why) || t('settings.codes.none')}` : String(free);
}

// The switch names the other language, in that language.
function applyLang(l) {
  setLang(l);
  $('lang-switch').lang = lang() === 'nl' ? 'en' : 'nl';
}

function renderCrew() {
  const parts = [settings.crew, settings.stop].filter(Boolean);
  $('crew-info').textContent = parts.length ? parts.join(' · ') : t('crew.unset');
}

function wire() {
  $('lang-switch').addEventListener('click', async () => {
    settings = await db.updateSettings({ lang: lang() === 'nl' ? 'en' : 'nl' });
    applyLang(settings.lang);
    renderCrew();
    pair.render();
    if (form) form.render();
    if (statusbar) statusbar.render();
    if (list && screen === 'list') list.render();
    if (screen === 'settings') renderSettings();
    if (screen === 'day') stops.render();
    if (screen === 'qr') import('./qr.js').then((q) => q.render());
    const h = document.querySelector(`#screen-${screen} h1`);
    document.title = `${h ? h.textContent : ''} – ${t('app.title')}`;
  });
  $('settings-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    settings = await db.updateSettings({ crew: $('settings-crew').value.trim(), stop: $('settings-stop').value.trim(), stopWijk: $('settings-wijk').value });
    renderCrew();
    toast('settings.saved');
  });
  $('unpair').addEventListener('click', async () => {
    const n = statusbar ? statusbar.unsent() : 0;
    if (!confirm(n ? t('settings.unpair.queued', { n }) : t('settings.unpair.confirm'))) return;
    await unpaired(null);
  });
  $('cards-form').addEventListener('submit', (e) => {
    e.preventDefault();
    import('./cards.js').then((c) => c.print());
  });
  api.events.addEventListener('reachable', (e) => {
    if (e.detail) refillCodes();
  });
  api.events.addEventListener('unauthorized', () => {
    if (device) unpaired('pair.revoked');
  });
  window.addEventListener('hashchange', navigate);
  // Only typing not yet saved is at risk when the page goes: a saved visit
  // and its place in the queue are in IndexedDB, in one transaction, so an
  // offline reload with visits waiting asks nothing.
  window.addEventListener('beforeunload', (e) => {
    if (!leaving && screen === 'form' && form && form.isDirty()) {
      e.preventDefault();
      e.returnValue = t('leave.unsent');
    }
  });
}

// Listens to the modules loadRest brought in.
function wireRest() {
  const changed = () => {
    statusbar.update();
    if (screen === 'list') list.render();
  };
  outbox.events.addEventListener('change', changed);
  sync.events.addEventListener('change', changed);
  outbox.events.addEventListener('flushed', (e) => {
    if (e.detail.sent) sync.refresh().catch(() => {});
  });
  window.addEventListener('online', () => {
    if (device) sync.probeSoon();
  });
  window.addEventListener('offline', () => api.markUnreachable());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && device) outbox.kick();
  });
}

/**
 * Registers the service worker. A new version installs in the background
 * and waits; the banner lets the crew take it when it suits them.
 */
async function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  let reg;
  try {
    reg = await navigator.serviceWorker.register(new URL('sw.js', document.baseURI), { scope: './', updateViaCache: 'none' });
  } catch (err) {
    console.warn('infobus: no service worker', err);
    return;
  }
  const offer = () => {
    if (reg.waiting && navigator.serviceWorker.controller) $('update-banner').hidden = false;
  };
  offer();
  reg.addEventListener('updatefound', () => {
    const w = reg.installing;
    if (w) w.addEventListener('statechange', () => w.state === 'installed' && offer());
  });
  let asked = false;
  $('update-reload').addEventListener('click', () => {
    if (!reg.waiting) return location.reload();
    asked = true;
    leaving = true;
    reg.waiting.postMessage({ type: 'SKIP_WAITING' });
  });
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (asked) location.reload();
  });
  // Look for a new version now and then while the app stays open.
  setInterval(() => reg.update().catch(() => {}), 30 * 60 * 1000);
}

async function main() {
  settings = (await db.get('settings')) || {};
  applyLang(settings.lang || 'nl');
  renderCrew();
  wire();
  pair.init(paired);
  device = (await db.get('device')) || null;
  const ref = loadReference();
  if (device) {
    await loadRest();
    // The form needs the lists once, with the rule catalogue (lists cached
    // by a version before the catalogue lack it).
    const cached = await db.get('reference');
    if (!cached || !cached.rules) await ref;
    api.setToken(device.device_token);
    tokenSet = true;
    outbox.start();
    sync.start();
    askPersistence();
    refillCodes();
  } else {
    // The pairing screen needs neither the lists nor the other modules:
    // they come in while the crew type the code.
    ref.catch((err) => console.error('infobus: reference lists', err));
    loadRest().catch((err) => console.error('infobus: loading the app', err));
  }
  await navigate();
  registerWorker();
  document.documentElement.dataset.ready = 'true';
}

main().catch((err) => {
  console.error('infobus: start failed', err);
  document.documentElement.dataset.ready = 'error';
});

// Printable cards: the settings screen's button opens an A4 sheet of cards
// with new codes (bus/cards.go) in a tab of its own, to print from there.
// The tab cannot send the device token, so the app first asks the bus for
// a one-time link to the sheet.

import * as api from './api.js';
import { t, message } from './i18n.js';

const $ = (id) => document.getElementById(id);

/** Asks the bus for a sheet of the chosen number of cards and opens it. */
export async function print() {
  const out = $('cards-message');
  const button = $('cards-print');
  // Opened now, while the click still counts: a tab opened after an await
  // is a pop-up the browser blocks.
  const tab = window.open('', '_blank');
  button.disabled = true;
  out.textContent = t('cards.busy');
  try {
    const res = await api.request('POST', `/api/cards/link?n=${encodeURIComponent($('cards-count').value)}`);
    if (res.status !== 201 || !res.body || !res.body.url) {
      if (tab) tab.close();
      out.textContent = message(res.body) || t('cards.failed', { status: res.status });
      return;
    }
    const url = new URL(res.body.url, location.href).href;
    if (tab) {
      tab.opener = null;
      tab.location.href = url;
    } else {
      location.href = url; // no new tab allowed: the sheet replaces the app until "back"
    }
    out.textContent = t('cards.opened');
  } catch (err) {
    if (tab) tab.close();
    if (!(err instanceof api.NetworkError)) throw err;
    out.textContent = t('cards.offline');
  } finally {
    button.disabled = false;
  }
}

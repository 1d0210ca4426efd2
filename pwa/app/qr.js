// The QR screen (#/qr/{visit}): after a visit with follow-ups is saved, and
// again from its detail, each follow-up's code as a QR, large, with the
// code in groups beneath it and one line for the entrepreneur. Everything
// comes from the tablet (the visit from IndexedDB, the image from the code
// pool), so it works with no Wi-Fi at all.

import * as db from './db.js';
import * as codes from './codes.js';
import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);

let rules = () => null;
let visitId = '';
let missing = 0;

/** Wires the screen; r() returns the code rules of the reference answer, or null. */
export function init(r) {
  rules = r;
}

/**
 * Shows the codes of visit id; missing is the number of follow-ups the pool
 * had no code for when it was saved. Resolves false when the visit is not
 * on this tablet.
 */
export async function show(id, missingCodes = 0) {
  const rec = await db.getVisit(id);
  if (!rec) return false;
  visitId = id;
  missing = missingCodes;
  const list = $('qr-list');
  list.replaceChildren();
  const fus = rec.visit.followups.map((f, i) => ({ ...f, n: i + 1 }));
  const withCode = fus.filter((f) => f.code);
  for (const f of withCode) {
    const li = document.createElement('li');
    li.className = 'qr-item';
    li.dataset.code = f.code;
    const label = document.createElement('p');
    label.className = 'qr-label';
    label.dataset.n = String(f.n);
    label.dataset.kind = f.kind;
    label.hidden = withCode.length < 2;
    const img = document.createElement('img');
    img.className = 'qr-image';
    img.id = `qr-image-${f.n - 1}`;
    img.width = 320;
    img.height = 320;
    const code = document.createElement('p');
    code.className = 'qr-code';
    code.id = `qr-code-${f.n - 1}`;
    code.lang = 'nl';
    const typed = document.createElement('p');
    typed.className = 'hint qr-offline';
    typed.hidden = true;
    // A typed card code has no image on the tablet; offline the card holds it.
    img.addEventListener('error', () => {
      img.hidden = true;
      typed.hidden = false;
    });
    li.append(label, img, code, typed);
    list.append(li);
    await codes.showQR(img, f.code);
  }
  render();
  return true;
}

/** Rewords the screen in the language in use. */
export function render() {
  const r = rules();
  for (const li of $('qr-list').children) {
    const label = li.querySelector('.qr-label');
    label.textContent = `${t('followups.item', { n: label.dataset.n })}: ${t(`kind.${label.dataset.kind}`)}`;
    li.querySelector('.qr-code').textContent = codes.grouped(li.dataset.code, r);
    li.querySelector('.qr-image').alt = t('qr.alt', { code: codes.grouped(li.dataset.code, r) });
    li.querySelector('.qr-offline').textContent = t('qr.oncard');
  }
  const none = $('qr-none');
  const n = $('qr-list').children.length;
  none.hidden = missing === 0 && n > 0;
  none.textContent = missing ? t('qr.missing', { n: missing }) : t('qr.nocode');
  $('qr-open').href = `#/visit/${visitId}`;
}

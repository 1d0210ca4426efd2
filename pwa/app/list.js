// The visits list: today's visits (and older ones that still need the
// crew: waiting on the tablet or set aside), searched on the tablet, each
// with where it is now.

import * as db from './db.js';
import { t, pick, message, locale } from './i18n.js';
import { localDate, parse } from './clock.js';
import { formatPostcode } from './validate.js';

const $ = (id) => document.getElementById(id);

let reference = () => null;
let rendering = null;
let again = false;

/** Wires search and range; ref() returns the reference lists or null. */
export function init(ref) {
  reference = ref;
  $('search').addEventListener('input', render);
  $('list-range').addEventListener('change', render);
}

// Lower case without accents, so that "cafe" finds "Café".
const fold = (s) =>
  String(s || '')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase();

function haystack(rec, ref) {
  const v = rec.visit;
  const b = v.business;
  const wijk = ((ref && ref.wijken) || []).find((w) => w.code === v.wijk);
  const topics = v.topics.map((c) => {
    const term = ((ref && ref.topics) || []).find((x) => x.code === c);
    return term ? `${term.nl} ${term.en}` : c;
  });
  const c = v.contact || {};
  return fold(
    [b.name, b.kvk, b.address.street, b.address.number, b.address.postcode, formatPostcode(b.address.postcode), b.address.city,
      v.wijk, wijk && wijk.name, wijk && wijk.stadsdeel, v.notes, c.name, c.email, c.phone, ...topics].join(' \u0001 '),
  );
}

/** Redraws the list from IndexedDB. Calls while one runs redraw once more. */
export function render() {
  if (rendering) {
    again = true;
    return rendering;
  }
  rendering = (async () => {
    do {
      again = false;
      await draw();
    } while (again);
    rendering = null;
  })();
  return rendering;
}

async function draw() {
  const ref = reference();
  const all = await db.allVisits();
  const today = localDate();
  const range = $('list-range').value;
  const words = fold($('search').value).split(/\s+/).filter(Boolean);
  const shown = all
    .filter((r) => !r.visit.deleted)
    .filter((r) => {
      if (range === 'all') return true;
      const d = parse(r.visit.visited_at);
      return (d && localDate(d) === today) || r.state === 'tablet' || r.state === 'set_aside';
    })
    .filter((r) => {
      if (!words.length) return true;
      const h = haystack(r, ref);
      return words.every((w) => h.includes(w));
    })
    .sort((a, b) => (parse(b.visit.visited_at) || 0) - (parse(a.visit.visited_at) || 0));

  const time = new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit' });
  const dateTime = new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
  const list = $('visit-list');
  list.replaceChildren(
    ...shown.map((rec) => {
      const v = rec.visit;
      const li = document.createElement('li');
      li.className = 'visit-row';
      li.dataset.visitId = v.id;
      li.dataset.state = rec.state;
      const a = document.createElement('a');
      a.href = `#/visit/${v.id}`;
      a.className = 'visit-link';
      const name = document.createElement('span');
      name.className = 'visit-name';
      name.textContent = v.business.name;
      const meta = document.createElement('span');
      meta.className = 'visit-meta';
      const d = parse(v.visited_at);
      const wijk = ((ref && ref.wijken) || []).find((w) => w.code === v.wijk);
      const topics = v.topics
        .map((c) => pick(((ref && ref.topics) || []).find((x) => x.code === c)) || c)
        .join(', ');
      meta.textContent = [d && (localDate(d) === today ? time : dateTime).format(d), wijk ? wijk.name : v.wijk, topics].filter(Boolean).join(' · ');
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.dataset.state = rec.state;
      badge.textContent = t(`state.${rec.state}`);
      a.append(name, badge, meta);
      if (rec.aside) {
        const why = document.createElement('span');
        why.className = 'visit-reason';
        why.textContent = message(rec.aside);
        a.append(why);
      }
      li.append(a);
      return li;
    }),
  );
  const count = $('list-count');
  if (shown.length) count.textContent = t('list.count', { n: shown.length });
  else count.textContent = all.length ? t('list.nomatch') : t('list.empty');
}

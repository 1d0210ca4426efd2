// IndexedDB: the tablet's own store. Every visit lands here before it goes
// anywhere, and nothing here is ever cleared wholesale: not by an update of
// the app, not by unpairing.
//
// Stores:
//   kv      settings and state by key: device, settings, reference, cursor, syncStatus
//   visits  {id, visit (the wire record), aside, officeAside, busState, seq, office}
//           aside: the bus refused the current rev (its answer); officeAside:
//           the office refused it (the bus's view's set_aside)
//   outbox  {id, rev, queued_at}: visits whose current rev the bus has not stored yet

const NAME = 'infobus';
const VERSION = 1;

/**
 * Opens the IndexedDB database name at version, creating its stores with
 * upgrade(db) when needed, and returns tx for it: the one way the app's
 * modules run transactions (codes.js keeps its pool in a database of its
 * own). The database opens at the first transaction.
 */
export function database(name, version, upgrade) {
  let opening = null;
  const open = () => {
    if (!opening) {
      opening = new Promise((resolve, reject) => {
        const r = indexedDB.open(name, version);
        r.onupgradeneeded = () => upgrade(r.result);
        r.onsuccess = () => {
          const db = r.result;
          // A newer app version wants to upgrade the schema: step aside, the
          // update banner's reload will open it again.
          db.onversionchange = () => {
            db.close();
            opening = null;
          };
          resolve(db);
        };
        r.onerror = () => {
          opening = null;
          reject(r.error);
        };
        r.onblocked = () => console.warn(`infobus: upgrade of ${name} waits for another tab`);
      });
    }
    return opening;
  };

  /**
   * Runs fn(stores) in one transaction over names and resolves with fn's
   * result once the transaction has committed. fn may await requests on the
   * stores, but nothing else, or the transaction closes under it. A throw
   * aborts it: nothing is half-written.
   */
  return async function tx(names, mode, fn) {
    const db = await open();
    const t = db.transaction(names, mode, { durability: 'strict' });
    const stores = Object.fromEntries(names.map((n) => [n, t.objectStore(n)]));
    const committed = new Promise((resolve, reject) => {
      t.oncomplete = resolve;
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error || new Error('transaction aborted'));
    });
    let result;
    try {
      result = await fn(stores);
    } catch (err) {
      try {
        t.abort();
      } catch {
        // already finished
      }
      throw err;
    }
    await committed;
    return result;
  };
}

/** Resolves with an IndexedDB request's result. */
export const done = (r) =>
  new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });

const tx = database(NAME, VERSION, (db) => {
  if (!db.objectStoreNames.contains('kv')) db.createObjectStore('kv');
  if (!db.objectStoreNames.contains('visits')) db.createObjectStore('visits', { keyPath: 'id' });
  if (!db.objectStoreNames.contains('outbox')) db.createObjectStore('outbox', { keyPath: 'id' });
});

/** Returns the value stored under key, or undefined. */
export const get = (key) => tx(['kv'], 'readonly', (s) => done(s.kv.get(key)));

/** Stores value under key. */
export const set = (key, value) => tx(['kv'], 'readwrite', (s) => done(s.kv.put(value, key)));

/** Removes key. */
export const del = (key) => tx(['kv'], 'readwrite', (s) => done(s.kv.delete(key)));

/** Merges fields into the settings object. */
export const updateSettings = (fields) =>
  tx(['kv'], 'readwrite', async (s) => {
    const next = { ...((await done(s.kv.get('settings'))) || {}), ...fields };
    await done(s.kv.put(next, 'settings'));
    return next;
  });

/**
 * Why the current rev of a stored visit is set aside, in one shape for the
 * list and the form whoever refused it, or null: {by: 'bus'|'office',
 * reason, message, message_nl, fields, fields_nl, current_rev}. reason is
 * the bus's error code or the office's reason code (sync/protocol.go);
 * fields and fields_nl map wire paths to sentences, as in a bus's 400.
 */
function refusalOf(rec, queued) {
  if (rec.aside) return { by: 'bus', reason: rec.aside.error, ...rec.aside };
  // A rev saved since, waiting or sent, makes the office's refusal moot.
  if (queued || rec.busState !== 'set_aside') return null;
  // A view merged before the tablet kept the office's reason still says
  // set_aside: counted and fixable alike, with a general sentence.
  const sa = rec.officeAside || {};
  const fields = {};
  const fieldsNL = {};
  for (const [path, p] of Object.entries(sa.fields || {})) {
    fields[path] = (p && (p.en || p.nl)) || '';
    fieldsNL[path] = (p && (p.nl || p.en)) || '';
  }
  return {
    by: 'office',
    reason: sa.reason || '',
    message: sa.message || '',
    message_nl: sa.message_nl || '',
    fields,
    fields_nl: fieldsNL,
    current_rev: 0,
    rev: sa.rev || rec.visit.rev,
    at: sa.at || '',
  };
}

/**
 * Adds where a stored visit is, for the list's badge
 * (tablet|bus|office|handled|set_aside), and why it is set aside.
 */
function withState(rec, queued) {
  rec.refusal = refusalOf(rec, queued);
  rec.state = rec.refusal ? 'set_aside' : queued ? 'tablet' : rec.busState || 'tablet';
  return rec;
}

/** Returns the stored visit with its state, or undefined. */
export const getVisit = (id) =>
  tx(['visits', 'outbox'], 'readonly', async (s) => {
    const rec = await done(s.visits.get(id));
    return rec && withState(rec, !!(await done(s.outbox.get(id))));
  });

/** Returns every stored visit with its state. */
export const allVisits = () =>
  tx(['visits', 'outbox'], 'readonly', async (s) => {
    const [recs, queued] = await Promise.all([done(s.visits.getAll()), done(s.outbox.getAllKeys())]);
    const q = new Set(queued);
    return recs.map((r) => withState(r, q.has(r.id)));
  });

/**
 * Saves a visit (a new rev) and queues it for the bus, in one transaction:
 * a visit the crew saw saved is always also in the outbox.
 */
export const saveVisit = (visit) =>
  tx(['visits', 'outbox'], 'readwrite', async (s) => {
    const old = await done(s.visits.get(visit.id));
    const rec = { ...(old || { busState: '', seq: 0, office: {} }), id: visit.id, visit, aside: null, officeAside: null };
    await done(s.visits.put(rec));
    await done(s.outbox.put({ id: visit.id, rev: visit.rev, queued_at: Date.now() }));
    return withState(rec, true);
  });

/** Returns the outbox entries, oldest first. */
export const outbox = () =>
  tx(['outbox'], 'readonly', async (s) => (await done(s.outbox.getAll())).sort((a, b) => a.queued_at - b.queued_at));

/**
 * Counts visits waiting on the tablet (tablet), visits set aside by the bus
 * or the office (aside), and of those the ones the bus does not hold
 * (unsent: waiting, or refused by the bus).
 */
export const counts = () =>
  tx(['visits', 'outbox'], 'readonly', async (s) => {
    const [queued, recs] = await Promise.all([done(s.outbox.getAllKeys()), done(s.visits.getAll())]);
    const q = new Set(queued);
    let aside = 0;
    let busAside = 0;
    for (const r of recs) {
      const why = refusalOf(r, q.has(r.id));
      if (why) aside++;
      if (why && why.by === 'bus') busAside++;
    }
    return { tablet: q.size, aside, unsent: q.size + busAside };
  });

/** Office status and feedback of each follow-up in a view from the bus, by follow-up id. */
function officeOf(view) {
  const out = {};
  for (const f of view.followups || []) {
    // feedback: what the entrepreneur said on the code's page, when they did.
    if (f.status || f.feedback) out[f.id] = { status: f.status || '', resolution: f.resolution || '', status_at: f.status_at || '', feedback: f.feedback || null };
  }
  return out;
}

/**
 * Records that the bus stored rev of visit id and answered with view. A
 * newer rev saved meanwhile stays queued: the answer was for an old one.
 */
export const markSent = (id, rev, view) =>
  tx(['visits', 'outbox'], 'readwrite', async (s) => {
    const rec = await done(s.visits.get(id));
    if (!rec || rec.visit.rev !== rev) return false;
    rec.busState = (view && view.state) || 'bus';
    rec.seq = (view && view.seq) || rec.seq;
    rec.office = view ? officeOf(view) : rec.office;
    rec.officeAside = (view && view.set_aside) || null;
    rec.aside = null;
    await done(s.visits.put(rec));
    await done(s.outbox.delete(id));
    return true;
  });

/**
 * Queues the stored rev of visit id again, unless it is queued already or
 * the bus refused it: for a bus that lost it (restored from a backup).
 */
export const requeue = (id, rev) =>
  tx(['visits', 'outbox'], 'readwrite', async (s) => {
    const rec = await done(s.visits.get(id));
    if (!rec || rec.visit.rev !== rev || rec.aside || (await done(s.outbox.get(id)))) return false;
    await done(s.outbox.put({ id, rev, queued_at: Date.now() }));
    return true;
  });

/**
 * Sets rev of visit id aside with the bus's reason ({status, error,
 * message, message_nl, fields, fields_nl, current_rev}) and takes it out
 * of the queue, so that the rest of the queue goes on.
 */
export const setAside = (id, rev, reason) =>
  tx(['visits', 'outbox'], 'readwrite', async (s) => {
    const rec = await done(s.visits.get(id));
    if (!rec || rec.visit.rev !== rev) return false;
    rec.aside = { ...reason, at: new Date().toISOString() };
    await done(s.visits.put(rec));
    await done(s.outbox.delete(id));
    return true;
  });

/**
 * Merges the bus's views of visits into the stored ones: where each is
 * (bus, office, handled, or set aside by the office with its reason) and
 * its follow-ups' office status. A view with a higher rev (edited on
 * another tablet) replaces the record unless this tablet has its own edit
 * waiting or refused by the bus. Visits of other tablets are copied in, so
 * that every tablet has the bus's whole day offline; the bus sends them
 * without contact details (contact_withheld), so personal data stays on
 * the tablet it was typed on.
 */
export const mergeViews = (views) =>
  tx(['visits', 'outbox'], 'readwrite', async (s) => {
    let changed = 0;
    for (const view of views) {
      let rec = await done(s.visits.get(view.id));
      if (!rec) {
        if (view.deleted) continue;
        rec = { id: view.id, visit: crewRecord(view), aside: null, officeAside: null, busState: '', seq: 0, office: {} };
      }
      const queued = !!(await done(s.outbox.get(view.id)));
      const own = !queued && !rec.aside;
      if (own && view.rev > rec.visit.rev) rec.visit = crewRecord(view);
      // The bus removed the contact details once the office had them (or
      // the office erased them): this tablet drops its copy too. An edit of
      // its own still waiting keeps them, to be sent.
      if (own && view.contact_removed && rec.visit.contact) delete rec.visit.contact;
      if (view.rev === rec.visit.rev) {
        rec.busState = view.state || rec.busState;
        // The office's refusal of this rev, as the bus keeps it: shown and
        // counted like a bus's refusal, and gone once a new rev lands.
        rec.officeAside = view.set_aside || null;
      }
      rec.seq = Math.max(rec.seq || 0, view.seq || 0);
      rec.office = officeOf(view);
      await done(s.visits.put(rec));
      changed++;
    }
    return changed;
  });

/** The crew-owned wire fields of a record or view: exactly what PUT sends. */
export function crewRecord(v) {
  const a = v.business.address || {};
  const out = {
    id: v.id,
    bus_id: '',
    device_id: v.device_id || '',
    crew: v.crew || '',
    stop: v.stop || '',
    visited_at: v.visited_at,
    business: {
      name: v.business.name,
      kvk: v.business.kvk || '',
      address: {
        street: a.street || '',
        number: a.number || '',
        postcode: a.postcode || '',
        city: a.city || '',
      },
    },
    wijk: v.wijk,
    sector: v.sector || '',
    topics: [...(v.topics || [])],
    notes: v.notes || '',
    language: v.language || '',
    consent: { given: !!v.consent.given, text_version: v.consent.text_version || '', at: v.consent.at || '' },
    panel_opt_in: !!v.panel_opt_in,
    followups: (v.followups || []).map((f) => ({
      id: f.id,
      kind: f.kind,
      description: f.description,
      department: f.department || '',
      due_date: f.due_date || '',
      code: f.code || '',
    })),
    rev: v.rev,
    created_at: v.created_at || '',
    updated_at: v.updated_at || '',
    deleted: !!v.deleted,
  };
  // Absent, not null, when not given: the server omits them the same way.
  // Withheld by the bus, the mark goes back so that the bus keeps them.
  if (v.contact_withheld) out.contact_withheld = true;
  else if (v.contact) out.contact = { name: v.contact.name || '', phone: v.contact.phone || '', email: v.contact.email || '' };
  if (v.rating != null) out.rating = v.rating;
  return out;
}

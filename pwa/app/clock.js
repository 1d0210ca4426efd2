// Times as the records carry them: RFC 3339 in the tablet's local time with
// its offset (2026-11-26T14:05:00+01:00), and calendar dates (2026-12-31).

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** Formats d as RFC 3339 with the tablet's offset at that instant. */
export function rfc3339(d = new Date()) {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${localDate(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** Returns the local calendar date of d as YYYY-MM-DD. */
export function localDate(d = new Date()) {
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Returns the value a datetime-local input shows for d (minutes). */
export function toInputValue(d) {
  return `${localDate(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Parses a datetime-local input value as local time; null when empty or bad. */
export function fromInputValue(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(s || '');
  if (!m) return null;
  const d = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Parses an RFC 3339 time; null when empty or bad. */
export function parse(s) {
  if (!s) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

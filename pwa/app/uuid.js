// UUIDv7 made on the tablet (RFC 9562): 48 bits of Unix milliseconds, then
// random bits from crypto.getRandomValues, which works without a secure
// context too. Ids sort by creation time, like the bus's own.

let lastMs = 0;
let lastTail = null;

/** Returns a new UUIDv7 in canonical lowercase form. */
export function uuidv7() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  let ms = Date.now();
  if (ms <= lastMs && lastTail) {
    // Same millisecond (or a clock step back): count up from the last id
    // so that ids made on this tablet stay in order.
    ms = lastMs;
    b.set(lastTail, 6);
    for (let i = 15; i >= 6; i--) {
      b[i] += 1; // a Uint8Array byte wraps from 255 to 0 and carries on
      if (b[i] !== 0) break;
    }
  }
  lastMs = ms;
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70; // version 7
  b[8] = (b[8] & 0x3f) | 0x80; // variant 10
  lastTail = b.slice(6);
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

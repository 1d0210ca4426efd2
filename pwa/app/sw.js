// The service worker: keeps the app shell in a cache named after this
// version, so the app opens without the bus. It never answers /api/ (the
// records live in IndexedDB, which it never touches), and a new version
// waits until the page asks it to take over (SKIP_WAITING).

const VERSION = '__INFOBUS_VERSION__';
const CACHE = `infobus-${VERSION}`;
const SCOPE = new URL('./', self.location).href;

// Files served under v/{VERSION}/: cached for a year by the browser, and
// here until the next version.
const ASSETS = [
  'api.js',
  'app.css',
  'app.js',
  'cards.js',
  'clock.js',
  'codes.js',
  'db.js',
  'feedback.js',
  'form.js',
  'i18n.js',
  'list.js',
  'outbox.js',
  'pair.js',
  'qr.js',
  'scan.js',
  'statusbar.js',
  'sync.js',
  'uuid.js',
  'validate.js',
];
// Files with stable names, revalidated by the browser.
const SHELL = ['./', 'manifest.webmanifest', 'icons/icon-192.png', 'icons/icon-512.png', 'icons/icon-maskable-512.png'];

// Paths the bus serves itself, which must never get the app shell.
const PASS = ['api/', 'qr/', 'cards/', 'setup', 'healthz', 'f/'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      cache.addAll([
        // no-cache: checked with the bus (a 304 when the page just loaded
        // it), never a stale HTTP cache copy.
        ...SHELL.map((u) => new Request(u, { cache: 'no-cache' })),
        // A versioned URL names one content for good: the copy the page has
        // just loaded into the HTTP cache is the right one, and costs no
        // second download.
        ...ASSETS.map((a) => new Request(`v/${VERSION}/${a}`)),
      ]),
    ),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('infobus-') && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'SKIP_WAITING') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET' || !req.url.startsWith(SCOPE)) return;
  const path = req.url.slice(SCOPE.length);
  if (PASS.some((p) => path.startsWith(p))) return; // the network, uncached
  if (req.mode === 'navigate') {
    // Every app page is index.html; routes live in the hash.
    event.respondWith(fromCache('./', req));
    return;
  }
  event.respondWith(fromCache(req, req));
});

async function fromCache(key, req) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  return hit || fetch(req);
}

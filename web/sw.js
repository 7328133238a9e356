// Lots' service worker: the app shell comes from the cache, so the app starts with no network.
// API and sync traffic is never cached. A new version waits until the page says so (after the
// person taps "reload"), so a visit being recorded is never cut off by an update.
//
// `cargo xtask` fills in PRECACHE (every file of the build but the desk's), DESK (the desk's
// app) and VERSION when it builds dist/. A phone never downloads the desk's app: its files are
// kept once a device has fetched them (a supervisor's or an administrator's computer), and a
// new version fetches them ahead only on a device whose cache held them.
const PRECACHE = [];
const DESK = [];
const VERSION = "dev";
const CACHE = `lots-shell-${VERSION}`;

const DESK_PREFIX = "/lots-desk-";

// Whether an earlier version's cache holds the desk's app: this device uses it.
async function usesDesk() {
  for (const name of await caches.keys()) {
    if (name === CACHE) continue;
    const cache = await caches.open(name);
    const kept = await cache.keys();
    if (kept.some((request) => new URL(request.url).pathname.startsWith(DESK_PREFIX))) {
      return true;
    }
  }
  return false;
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then(async (cache) => {
      await cache.addAll(PRECACHE);
      if (await usesDesk()) await cache.addAll(DESK);
    }),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "activate-new-version") {
    self.skipWaiting();
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname.startsWith("/api/") || url.pathname === "/sync") {
    return; // Always the network: never a stale caseload or session.
  }
  if (url.pathname.startsWith("/auth/")) {
    return; // Sign-in with the identity provider: the server's redirects, never the app shell.
  }
  if (request.mode === "navigate") {
    // Every page of the app is index.html; routes live after the '#'.
    event.respondWith(caches.match("/index.html").then((cached) => cached || fetch(request)));
    return;
  }
  // A second try at loading an app asks for the same file under another address (`?try=N`,
  // see boot.js): files are cached by path alone, so a try neither misses the cache nor
  // stores a copy of its own.
  if (DESK.includes(url.pathname)) {
    // The desk's app, kept once fetched, so that a computer that used it starts offline.
    event.respondWith(
      caches.open(CACHE).then(async (cache) => {
        const cached = await cache.match(url.pathname);
        if (cached) return cached;
        const response = await fetch(request);
        if (response.ok) await cache.put(url.pathname, response.clone());
        return response;
      }),
    );
    return;
  }
  event.respondWith(
    caches.match(request, { ignoreSearch: true }).then((cached) => cached || fetch(request)),
  );
});

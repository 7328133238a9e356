// Lots' service worker: the app shell comes from the cache, so the app starts with no network.
// API and sync traffic is never cached. A new version waits until the page says so (after the
// person taps "reload"), so a visit being recorded is never cut off by an update.
//
// `cargo xtask` fills in PRECACHE (every file of the build) and VERSION when it builds dist/.
const PRECACHE = [];
const VERSION = "dev";
const CACHE = `lots-shell-${VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
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
  event.respondWith(caches.match(request).then((cached) => cached || fetch(request)));
});

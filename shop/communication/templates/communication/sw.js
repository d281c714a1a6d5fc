/* Solomo service worker (README "Install on a phone (PWA)"): shows pushed notifications and
   opens their link when tapped; keeps the app usable offline.

   Offline strategy:
   - install: precache the app shell (static files, by their hashed names in production)
     and the offline page in every language;
   - static files: from the cache, refreshed in the background;
   - product and store pages: stale-while-revalidate (not kept when they showed one-time
     messages: X-Offline-Keep: 0);
   - other pages: network first; a page the server marks "X-Offline-Keep: 1" (the member
     card and its QR code, an open pickup pass, seen by the signed-in customer) is kept and
     shown when offline; any other page offline shows the offline page in its language.
   Kept pages belong to one customer: the cache is emptied on logout, and whenever a page
   comes back for another visitor than the one recorded (the X-Viewer header), so whoever
   uses the phone next never sees the previous customer's card or passes. */
"use strict";

const CONFIG = {{ config|safe }};
const SHELL = "solomo-shell-" + CONFIG.version;
// Static files fetched at run time; hashed names change with each deployment, so a new
// worker starts a new cache and the old one is dropped.
const STATIC = "solomo-static-" + CONFIG.version;
// Pages of the current visitor, emptied when it changes: the kept pages (member card, pickup
// passes), and product and store pages (at most PAGES_LIMIT, the oldest dropped first).
const VISITOR = "solomo-visitor";
const PAGES = "solomo-visitor-pages";
const PAGES_LIMIT = 50;
const VIEWER_KEY = "/__solomo-viewer__";
const REVALIDATED = CONFIG.revalidated.map((pattern) => new RegExp(pattern));
const LOGOUT = new RegExp(CONFIG.logout);
const MATCH = { ignoreVary: true };

/* A response that can be stored and served for a navigation (never "redirected"). */
function plain(response) {
  if (!response.redirected) {
    return Promise.resolve(response);
  }
  return response.blob().then(
    (body) => new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
  );
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL)
      .then((cache) =>
        Promise.all(
          CONFIG.precache.map((url) =>
            fetch(url, { credentials: "same-origin", cache: "no-cache" }).then((response) => {
              if (!response.ok) {
                throw new Error(url + ": " + response.status);
              }
              return plain(response).then((copy) => cache.put(url, copy));
            })
          )
        )
      )
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => /^solomo-(shell|static)-/.test(name) && name !== SHELL && name !== STATIC)
            .map((name) => caches.delete(name))
        )
      )
      .then(() => self.clients.claim())
  );
});

/* Forget everything kept for the visitor (logout). */
let visitorQueue = Promise.resolve();
function forgetVisitor() {
  visitorQueue = visitorQueue
    .then(() => Promise.all([caches.delete(VISITOR), caches.delete(PAGES)]))
    .catch(() => undefined);
  return visitorQueue;
}

/* Record who the pages are for; another visitor than the recorded one empties the cache. */
function noteViewer(viewer) {
  visitorQueue = visitorQueue
    .then(() => caches.open(VISITOR))
    .then((cache) => cache.match(VIEWER_KEY))
    .then((hit) => (hit ? hit.text() : null))
    .then((known) => {
      if (known === viewer) {
        return undefined;
      }
      return Promise.all([caches.delete(VISITOR), caches.delete(PAGES)])
        .then(() => caches.open(VISITOR))
        .then((cache) => cache.put(VIEWER_KEY, new Response(viewer)));
    })
    .catch(() => undefined);
  return visitorQueue;
}

function trim(cache) {
  return cache.keys().then((keys) => Promise.all(keys.slice(0, Math.max(0, keys.length - PAGES_LIMIT)).map((key) => cache.delete(key))));
}

/* After a page came from the network: note its visitor, store it in `store` if `keep` says so. */
function remember(request, response, keep, store) {
  const viewer = response.headers.get("X-Viewer");
  let done = viewer === null ? visitorQueue : noteViewer(viewer);
  if (response.ok && response.type === "basic" && !response.redirected && keep(response)) {
    const copy = response.clone();
    done = done
      .then(() => caches.open(store))
      .then((cache) => cache.put(request.url, copy).then(() => (store === PAGES ? trim(cache) : undefined)));
    visitorQueue = done.catch(() => undefined);
  }
  return done.catch(() => undefined);
}

const marked = (response) => response.headers.get("X-Offline-Keep") === "1";
// Product and store pages, unless they showed one-time messages (X-Offline-Keep: 0).
const unlessRefused = (response) => response.headers.get("X-Offline-Keep") !== "0";

function offlinePage(url) {
  const first = url.pathname.split("/")[1];
  const language = first in CONFIG.offline ? first : CONFIG.defaultLanguage;
  return caches
    .match(CONFIG.offline[language], MATCH)
    .then((hit) => hit || new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain" } }));
}

function networkFirst(event, url) {
  const request = event.request;
  return fetch(request)
    .then((response) => {
      event.waitUntil(remember(request, response, marked, VISITOR));
      return response;
    })
    .catch((error) =>
      caches
        .open(VISITOR)
        .then((cache) => cache.match(request.url, MATCH))
        .then((hit) => {
          if (hit) {
            return hit;
          }
          if (request.mode === "navigate") {
            return offlinePage(url);
          }
          throw error;
        })
    );
}

function staleWhileRevalidate(event, url) {
  const request = event.request;
  const network = fetch(request).then((response) => {
    event.waitUntil(remember(request, response, unlessRefused, PAGES));
    return response;
  });
  return caches
    .open(PAGES)
    .then((cache) => cache.match(request.url, MATCH))
    .then((hit) => {
      if (hit) {
        event.waitUntil(network.catch(() => undefined));
        return hit;
      }
      return network.catch(() => offlinePage(url));
    });
}

function staticFile(event) {
  const request = event.request;
  const network = fetch(request).then((response) => {
    if (response.ok && response.type === "basic") {
      const copy = response.clone();
      event.waitUntil(caches.open(STATIC).then((cache) => cache.put(request, copy)));
    }
    return response;
  });
  return caches.match(request, MATCH).then((hit) => {
    if (hit) {
      event.waitUntil(network.catch(() => undefined));
      return hit;
    }
    return network;
  });
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.method === "POST" && LOGOUT.test(url.pathname)) {
    // Forgotten before the logout is even sent: nothing kept outlives the session.
    event.respondWith(forgetVisitor().then(() => fetch(request)));
    return;
  }
  if (request.method !== "GET") {
    return;
  }
  if (url.pathname.startsWith(CONFIG.staticPrefix)) {
    event.respondWith(staticFile(event));
  } else if (request.mode === "navigate" && REVALIDATED.some((pattern) => pattern.test(url.pathname))) {
    event.respondWith(staleWhileRevalidate(event, url));
  } else if (request.mode === "navigate" || request.destination === "image") {
    event.respondWith(networkFirst(event, url));
  }
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "logout") {
    event.waitUntil(forgetVisitor());
  }
});

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { title: event.data ? event.data.text() : "" };
  }
  const title = data.title || "{{ request.site.name|default:'Solomo'|escapejs }}";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || "",
      data: { url: data.url || "/" },
      icon: "{% load static %}{% static 'shop/pwa/icon-192.png' %}",
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  if (url.origin !== self.location.origin) {
    return;
  }
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (client.url === url.href && "focus" in client) {
          return client.focus();
        }
      }
      return self.clients.openWindow(url.href);
    })
  );
});

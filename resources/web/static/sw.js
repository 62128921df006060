// The phone page's service worker, served from the root (/sw.js) so that it covers every
// ticket page. It shows the hub's push notifications (their turn, even with the page closed
// and the phone locked) and the page's own alerts; a tap opens the ticket's page.
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (_) {
    message = { body: event.data.text() };
  }
  const urgent = Boolean(message.urgent);
  event.waitUntil(
    self.registration.showNotification(message.title || "", {
      body: message.body || "",
      lang: message.lang || "",
      tag: message.tag || "nowserving",
      renotify: true,
      requireInteraction: urgent,
      vibrate: urgent ? [400, 150, 400, 150, 800] : [250],
      data: { url: message.url || "/" },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL((event.notification.data || {}).url || "/", self.location.href);
  event.waitUntil(
    (async () => {
      const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const page = open.find((client) => new URL(client.url).pathname === url.pathname);
      return page ? page.focus() : self.clients.openWindow(url.href);
    })(),
  );
});

/* "Turn on notifications" in the account area: registers /sw.js, subscribes this device
   with the shop's VAPID key and sends the subscription to the server (CSRF-protected). */
(function () {
  "use strict";

  const root = document.getElementById("push-control");
  if (!root || root.dataset.enabled !== "true") {
    return;
  }
  const show = (role, visible) => {
    const element = root.querySelector(`[data-role="${role}"]`);
    if (element) {
      element.hidden = !visible;
    }
  };
  const csrfToken = () => {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  };
  const keyBytes = (base64url) => {
    const padded = (base64url + "=".repeat((4 - (base64url.length % 4)) % 4))
      .replace(/-/g, "+")
      .replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  };
  const send = (method, body) =>
    fetch(root.dataset.subscribeUrl, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then((response) => {
      if (!response.ok) {
        return response.json().then((data) => Promise.reject(new Error(data.error || response.status)));
      }
      return response.json();
    });

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    show("unsupported", true);
    return;
  }

  navigator.serviceWorker.register(root.dataset.serviceWorker, { scope: "/" }).then((registration) => {
    const refresh = () =>
      registration.pushManager.getSubscription().then((subscription) => {
        show("denied", Notification.permission === "denied");
        show("turn-on", !subscription && Notification.permission !== "denied");
        show("turn-off", Boolean(subscription));
      });

    root.querySelector('[data-role="turn-on"]').addEventListener("click", () => {
      Notification.requestPermission()
        .then((permission) => {
          if (permission !== "granted") {
            return null;
          }
          return registration.pushManager
            .subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(root.dataset.vapidKey) })
            .then((subscription) => send("POST", subscription.toJSON()));
        })
        .catch((error) => console.warn("Push subscription failed:", error))
        .then(refresh);
    });

    root.querySelector('[data-role="turn-off"]').addEventListener("click", () => {
      registration.pushManager
        .getSubscription()
        .then((subscription) => {
          if (!subscription) {
            return null;
          }
          return send("DELETE", { endpoint: subscription.endpoint }).then(() => subscription.unsubscribe());
        })
        .catch((error) => console.warn("Push unsubscription failed:", error))
        .then(refresh);
    });

    refresh();
  });
})();

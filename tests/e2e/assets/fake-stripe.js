/* Stands in for https://js.stripe.com/v3/ in browser tests (served by a Playwright route):
 * the same calls our pay page makes -- Stripe(key), elements({clientSecret}),
 * create("payment"), on("ready"), mount(selector), confirmPayment({elements, confirmParams})
 * -- with the card form in an iframe from js.stripe.com and the confirmation POSTed to
 * api.stripe.com, both answered by the test from the fake Stripe server's state. */
window.Stripe = function (publishableKey) {
  "use strict";
  return {
    elements: function (options) {
      var secret = options.clientSecret;
      return {
        clientSecret: secret,
        create: function () {
          var handlers = {};
          return {
            on: function (name, handler) {
              handlers[name] = handler;
            },
            mount: function (selector) {
              var host = document.querySelector(selector);
              var frame = document.createElement("iframe");
              frame.src = "https://js.stripe.com/fake-card-frame.html";
              frame.title = "Secure payment input frame";
              host.replaceChildren(frame);
              frame.addEventListener("load", function () {
                if (handlers.ready) {
                  handlers.ready();
                }
              });
            },
          };
        },
      };
    },
    confirmPayment: function (args) {
      var secret = args.elements.clientSecret;
      var intent = secret.split("_secret_")[0];
      return fetch("https://api.stripe.com/v1/payment_intents/" + intent + "/confirm", {
        method: "POST",
        headers: { Authorization: "Bearer " + publishableKey },
        body: new URLSearchParams({ client_secret: secret }),
      })
        .then(function (response) {
          return response.json();
        })
        .then(function (body) {
          if (body.error) {
            return { error: body.error };
          }
          window.location.assign(
            args.confirmParams.return_url +
              "?payment_intent=" + intent + "&redirect_status=" + body.status
          );
          return new Promise(function () {});
        });
    },
  };
};

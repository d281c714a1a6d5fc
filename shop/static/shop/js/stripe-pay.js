/* The pay page: Stripe's Payment Element in Stripe's iframe, confirmed by Stripe.js.
 * Stripe then sends the browser to the return URL (after 3-D Secure if the bank asks),
 * where the server reads the PaymentIntent from Stripe. */
(function () {
  "use strict";
  var form = document.getElementById("card-payment");
  if (!form || typeof Stripe === "undefined") {
    return;
  }
  var button = document.getElementById("pay-submit");
  var message = document.getElementById("payment-message");
  var stripe = Stripe(form.dataset.publishableKey, { locale: form.dataset.locale || "auto" });
  var elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
  var paymentElement = elements.create("payment", { layout: "tabs" });
  paymentElement.on("ready", function () {
    button.disabled = false;
  });
  paymentElement.mount("#payment-element");

  function show(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (button.disabled) {
      return; // one confirmation at a time
    }
    button.disabled = true;
    show("");
    stripe
      .confirmPayment({ elements: elements, confirmParams: { return_url: form.dataset.returnUrl } })
      .then(function (result) {
        // Only reached when Stripe could not confirm; otherwise it redirected.
        if (result.error) {
          show(result.error.message);
        }
        button.disabled = false;
      });
  });
})();

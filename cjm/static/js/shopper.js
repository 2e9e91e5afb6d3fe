// Mystery-shopper visit form: htmx autosaves the draft on change; this file only keeps that
// robust. No inline script anywhere (CSP): everything is bound by delegation.
(function () {
  "use strict";

  function autosaveForm(ctx) {
    var elt = ctx && ctx.sourceElement;
    return elt && elt.matches && elt.matches("form[data-autosave]") ? elt : null;
  }

  // Once the researcher taps "Save draft" or "Submit", a still-pending autosave must not race
  // the real submission (it would bump the version and turn the submit stale). An autosave
  // already on its way is waited for: its answer carries the new version into the form.
  var inFlight = 0;
  var held = null;

  document.addEventListener("htmx:before:request", function (event) {
    if (autosaveForm(event.detail.ctx)) inFlight += 1;
  });

  document.addEventListener("htmx:finally:request", function (event) {
    if (!autosaveForm(event.detail.ctx)) return;
    inFlight = Math.max(0, inFlight - 1);
    if (inFlight === 0 && held) {
      var again = held;
      held = null;
      again.form.requestSubmit(again.submitter);
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form.matches && form.matches("form[data-autosave]"))) return;
    if (inFlight > 0) {
      event.preventDefault();
      held = { form: form, submitter: event.submitter || null };
      return;
    }
    form.dataset.submitting = "true";
  });

  document.addEventListener("htmx:config:request", function (event) {
    var form = autosaveForm(event.detail.ctx);
    if (form && form.dataset.submitting === "true") event.preventDefault();
  });

  // A dropped connection: say so; the answers stay in the page and the next save sends them.
  document.addEventListener("htmx:error", function (event) {
    var form = autosaveForm(event.detail.ctx);
    var status = form && form.querySelector("#autosave-status");
    if (!status) return;
    var span = status.querySelector("span") || status.appendChild(document.createElement("span"));
    span.className = "error";
    span.textContent = status.dataset.offline;
  });
})();

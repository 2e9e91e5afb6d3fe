// Live workshop glue (CSP: no inline script). htmx and its SSE extension do the fetching: the
// #room element holds the event stream and fragments refetch themselves on its events. This file
// adds what htmx cannot: a local countdown from the server's end time, the typing signal, the
// "I left" beacon, and a reload when the workshop ends or the stream says we missed too much.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function post(url, fields) {
    var body = new URLSearchParams(fields);
    body.set("csrf_token", csrfToken());
    return fetch(url, { method: "POST", body: body, credentials: "same-origin" }).catch(function () {});
  }

  // --- the timer: every screen counts down to the same server end time -----------------------
  // data-server-now corrects this device's clock: the offset is taken when the fragment arrives.
  function tick() {
    var timers = document.querySelectorAll(".ws-timer[data-ends-at]");
    Array.prototype.forEach.call(timers, function (el) {
      if (!el.dataset.offset) el.dataset.offset = String(Date.now() - Number(el.dataset.serverNow));
      var left = Number(el.dataset.endsAt) + Number(el.dataset.offset) - Date.now();
      var value = el.querySelector(".ws-timer-value");
      if (left <= 0) {
        el.removeAttribute("data-ends-at");
        el.classList.remove("state-running");
        el.classList.add("state-done");
        if (value) value.textContent = el.dataset.doneText;
        return;
      }
      var seconds = Math.ceil(left / 1000);
      var text = Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
      if (value && value.textContent !== text) value.textContent = text;
    });
  }
  setInterval(tick, 250);
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:after:settle", tick);

  // --- typing: one ping when typing starts, one after 3 s of quiet ------------------------------
  var typing = false;
  var quiet = null;

  function setTyping(url, now) {
    if (typing === now) return;
    typing = now;
    post(url, { typing: now ? "1" : "0" });
  }

  document.addEventListener("input", function (event) {
    var url = event.target.dataset && event.target.dataset.typingUrl;
    if (!url) return;
    setTyping(url, true);
    clearTimeout(quiet);
    quiet = setTimeout(function () { setTyping(url, false); }, 3000);
  });

  document.addEventListener("submit", function (event) {
    var area = event.target.querySelector && event.target.querySelector("[data-typing-url]");
    if (!area) return;
    clearTimeout(quiet);
    setTyping(area.dataset.typingUrl, false);
  });

  // --- the room: leave on pagehide, come back on show, reload on end -----------------------------
  function room() {
    return document.getElementById("room");
  }

  window.addEventListener("pagehide", function () {
    var el = room();
    if (!el || !el.dataset.leaveUrl) return;
    var data = new FormData();
    data.set("csrf_token", csrfToken());
    navigator.sendBeacon(el.dataset.leaveUrl, data);
  });

  window.addEventListener("pageshow", function (event) {
    var el = room();
    if (event.persisted && el && el.dataset.pingUrl) post(el.dataset.pingUrl, { typing: "0" });
  });

  document.addEventListener("DOMContentLoaded", function () {
    var el = room();
    if (!el) return;
    el.addEventListener("reload", function () { window.location.reload(); });
    el.addEventListener("ended", function () {
      // Let the status fragment say "ended" first, then show the summary page.
      setTimeout(function () { window.location.reload(); }, 1500);
    });
  });
})();

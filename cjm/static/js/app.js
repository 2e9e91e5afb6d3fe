// Small glue for CJM Studio; htmx does the rest. No inline script anywhere (CSP), so every
// behaviour here is bound by event delegation and keeps working after htmx swaps.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // After an htmx swap, put keyboard focus back where the server asked (e.g. the "move up"
  // button of the row just moved), so keyboard users keep their place.
  document.addEventListener("htmx:after:settle", function () {
    var target = document.querySelector("[data-focus]");
    if (target) {
      target.removeAttribute("data-focus");
      target.focus();
    }
  });

  // Drag and drop reordering of lists marked data-reorder-url (stages, channels). The
  // move up/down buttons remain the keyboard and no-JS way; this posts the whole new order.
  var dragged = null;

  document.addEventListener("dragstart", function (event) {
    var item = event.target.closest && event.target.closest("[data-reorder-url] > li[draggable]");
    if (!item) return;
    dragged = item;
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.id);
  });

  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var over = event.target.closest && event.target.closest("li");
    if (!over || over === dragged || over.parentNode !== dragged.parentNode) return;
    event.preventDefault();
    var box = over.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
  });

  document.addEventListener("drop", function (event) {
    if (dragged) event.preventDefault();
  });

  document.addEventListener("dragend", function () {
    if (!dragged) return;
    var list = dragged.parentNode;
    dragged.classList.remove("dragging");
    dragged = null;
    var ids = Array.prototype.map.call(list.querySelectorAll(":scope > li[data-id]"), function (li) {
      return li.dataset.id;
    });
    var body = new URLSearchParams({ order: ids.join(","), csrf_token: csrfToken() });
    fetch(list.dataset.reorderUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    }).then(function (response) {
      if (!response.ok) {
        // Someone changed the list meanwhile (409) or the session expired: show the truth.
        window.location.reload();
        return;
      }
      document.body.dispatchEvent(new CustomEvent("journey-changed", { bubbles: true }));
    }, function () {
      window.location.reload();
    });
  });
})();

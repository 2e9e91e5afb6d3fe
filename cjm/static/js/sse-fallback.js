// The htmx SSE extension from the pinned CDN, with the vendored copy as fallback (a workshop room
// may have no internet). Loaded twice around the CDN <script> (CSP: no inline script):
// data-phase="watch" notes which extensions register; data-phase="check" loads the vendored copy
// when "sse" did not (CDN unreachable or its bytes failed the SRI check).
(function () {
  "use strict";
  var script = document.currentScript;
  if (!window.htmx) return;
  if (script.dataset.phase === "watch") {
    var seen = (window.cjmExtensions = new Set());
    var register = htmx.registerExtension;
    htmx.registerExtension = function (name) {
      seen.add(name);
      return register.apply(this, arguments);
    };
  } else if (!(window.cjmExtensions && window.cjmExtensions.has("sse"))) {
    document.write('<script src="' + script.dataset.local + '"><\/script>');
  }
})();

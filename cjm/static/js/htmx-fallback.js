// Loaded right after the CDN <script>: when the CDN was unreachable (a workshop room with no
// internet) or its bytes failed the SRI check, load the vendored copy instead. External file,
// because the Content-Security-Policy allows no inline script.
if (!window.htmx) {
  document.write('<script src="' + document.currentScript.dataset.local + '"><\/script>');
}

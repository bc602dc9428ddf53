/* The print and back buttons of the plain printable pages (the A4 report, the data copy):
   bound here rather than in inline handlers, which the Content-Security-Policy blocks. */
document.addEventListener('click', function (event) {
  var el = event.target && event.target.closest ? event.target.closest('[data-doc-action]') : null;
  if (!el) { return; }
  event.preventDefault();
  if (el.getAttribute('data-doc-action') === 'print') { window.print(); }
  if (el.getAttribute('data-doc-action') === 'back') { window.history.back(); }
});

/* The print and back buttons of the plain printable pages (the data copy, templates/data.html):
   bound here rather than in inline handlers, which a Content-Security-Policy blocks. Dash also
   loads this file on its pages, where no element carries data-doc-action. */
document.addEventListener('click', function (event) {
  var el = event.target && event.target.closest ? event.target.closest('[data-doc-action]') : null;
  if (!el) { return; }
  event.preventDefault();
  if (el.getAttribute('data-doc-action') === 'print') { window.print(); }
  if (el.getAttribute('data-doc-action') === 'back') { window.history.back(); }
});

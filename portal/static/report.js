// The A4 report's toolbar: print and back (a file, not inline handlers, so the CSP needs no 'unsafe-inline').
document.addEventListener("DOMContentLoaded", function () {
  var print = document.getElementById("rp-print");
  var back = document.getElementById("rp-back");
  if (print) print.addEventListener("click", function () { window.print(); });
  if (back) back.addEventListener("click", function (e) { e.preventDefault(); history.back(); });
});

// 善治: small progressive enhancements. Pages work without this file.
// Buttons with data-confirm ask before submitting (destructive or irreversible actions).
document.addEventListener("click", function (e) {
  var el = e.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) {
    e.preventDefault();
  }
});
// "返回" links on error pages go back in history when there is one.
document.addEventListener("click", function (e) {
  var el = e.target.closest("a.js-back");
  if (el && window.history.length > 1) {
    e.preventDefault();
    window.history.back();
  }
});
// Buttons with data-print print the page (回执, QR poster); the print stylesheet keeps only the paper.
document.addEventListener("click", function (e) {
  if (e.target.closest("[data-print]")) {
    e.preventDefault();
    window.print();
  }
});

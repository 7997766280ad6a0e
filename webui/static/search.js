// The search page on a phone: the filters start folded under their button, so the hits come first.
// Progressive enhancement only: without this file the filters simply stay open.
(function () {
  "use strict";
  var PHONE = "(max-width: 600px)";
  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.querySelector("details.filters-panel");
    if (!panel || !window.matchMedia) { return; }
    var phone = window.matchMedia(PHONE);
    function fit() {
      if (phone.matches) {
        panel.removeAttribute("open");
      } else {
        panel.setAttribute("open", "");
      }
    }
    fit();
    if (phone.addEventListener) { phone.addEventListener("change", fit); }
  });
})();

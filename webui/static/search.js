// The search page on a phone: the filters start folded under their button, so the hits come first; and the
// archive choice (a radio, which dossier.js's autosubmit leaves alone) re-runs the search like the checkboxes.
// Progressive enhancement only: without this file the filters simply stay open and 应用筛选 applies them.
(function () {
  "use strict";
  var PHONE = "(max-width: 600px)";
  document.addEventListener("DOMContentLoaded", function () {
    var archived = document.querySelectorAll('.facet-archived input[type="radio"]');
    Array.prototype.forEach.call(archived, function (radio) {
      radio.addEventListener("change", function () {
        if (radio.form && radio.form.hasAttribute("data-autosubmit")) { radio.form.submit(); }
      });
    });
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

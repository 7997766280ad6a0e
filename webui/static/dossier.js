// Progressive enhancement only: every page works without this file.
// Filter checkboxes, dates and the sort selector re-run the search as soon as they change.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-autosubmit]");
    Array.prototype.forEach.call(forms, function (form) {
      // Only the form's own controls: a hit's bulk checkbox (form="bulk-form") sits inside it but belongs elsewhere.
      form.addEventListener("change", function (event) {
        var t = event.target;
        if (t.form === form && t.matches('input[type="checkbox"], input[type="date"], select')) {
          form.submit();
        }
      });
    });
  });
})();

// Progressive enhancement only: every page works without this file.
// Filter checkboxes, dates and the sort selector re-run the search as soon as they change.
// window.Dossier.localTime: a UTC time from the API in the team's zone, as the server writes it (for the
// live pages' scripts, which load after this one).
(function () {
  "use strict";
  function localTime(iso, zone) {
    var raw = String(iso);
    var moment = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(raw) ? raw : raw + "Z");
    if (isNaN(moment.getTime())) { return raw.slice(0, 16).replace("T", " "); }
    try {
      return new Intl.DateTimeFormat("sv-SE", {
        timeZone: zone || undefined, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", hour12: false
      }).format(moment);
    } catch (e) {
      return raw.slice(0, 16).replace("T", " ");
    }
  }
  window.Dossier = window.Dossier || {};
  window.Dossier.localTime = localTime;
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

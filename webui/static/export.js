// Live progress of a background export (progressive enhancement: the page is complete without it).
// Polls /api/exports/<id> every second while the export is queued or running; every value is
// written with textContent, never as HTML.  When the file is ready the download link appears.
(function () {
  "use strict";

  var INTERVAL_MS = 1000;
  var LIVE = ["queued", "running"];

  function format(pattern, params) {
    return String(pattern).replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
    });
  }

  function start(root) {
    var messages = {};
    try {
      messages = JSON.parse(root.getAttribute("data-messages") || "{}");
    } catch (e) {
      messages = {};
    }
    function text(id, params) {
      var pattern = Object.prototype.hasOwnProperty.call(messages, id) ? messages[id] : id;
      return format(pattern, params || {});
    }
    function field(name) {
      return root.querySelector('[data-field="' + name + '"]');
    }
    var url = root.getAttribute("data-status-url");
    var liveError = root.querySelector("[data-live-error]");

    function show(job) {
      var status = field("status");
      status.textContent = text("export.status." + job.status);
      status.className = "badge export-status export-status-" + job.status;
      root.setAttribute("data-status", job.status);
      var bar = field("bar");
      bar.max = Math.max(1, job.total || 0);
      bar.value = job.status === "done" ? bar.max : (job.done || 0);
      field("progress_text").textContent = text("export.progress", {
        done: job.done || 0, total: job.total || 0, percent: job.percent || 0
      });
      var error = field("error");
      error.textContent = job.error || "";
      error.hidden = !job.error;
      var download = root.querySelector("[data-download]");
      download.hidden = !job.ready;
      if (job.expires_at) {
        field("expires").textContent = text("export.expires", { at: window.Dossier.localTime(job.expires_at, root.getAttribute("data-timezone")) });
      }
      var note = root.querySelector("[data-live-note]");
      if (note && LIVE.indexOf(job.status) < 0) { note.hidden = true; }
      return LIVE.indexOf(job.status) >= 0;
    }

    function poll() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (job) {
          liveError.hidden = true;
          if (show(job)) { window.setTimeout(poll, INTERVAL_MS); }
        })
        .catch(function () {
          liveError.textContent = text("export.live_error");
          liveError.hidden = false;
          window.setTimeout(poll, INTERVAL_MS * 3);
        });
    }

    if (LIVE.indexOf(root.getAttribute("data-status")) >= 0) {
      window.setTimeout(poll, INTERVAL_MS);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-export-job]"), start);
  });
})();

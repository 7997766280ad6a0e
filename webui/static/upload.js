// The upload form's drop zone (progressive enhancement: without this file the plain multi-file
// input still works). Dropped files go into the form's own <input type=file>, so the form posts
// them exactly as if they had been chosen; the chosen files are listed with their sizes, and a
// choice over the server's limits is flagged before it is sent.
(function () {
  "use strict";

  function format(pattern, params) {
    return String(pattern).replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
    });
  }

  function size(bytes) {
    if (bytes >= 1024 * 1024) { return (bytes / (1024 * 1024)).toFixed(1) + " MB"; }
    if (bytes >= 1024) { return (bytes / 1024).toFixed(1) + " KB"; }
    return bytes + " B";
  }

  function setUp(zone) {
    var input = zone.querySelector('input[type="file"]');
    if (!input) { return; }
    var messages = {};
    try { messages = JSON.parse(zone.getAttribute("data-messages") || "{}"); } catch (e) { messages = {}; }
    var text = function (id, params) { return format(messages[id] || id, params || {}); };
    var maxFiles = Number(zone.getAttribute("data-max-files")) || 0;
    var maxBytes = Number(zone.getAttribute("data-max-bytes")) || 0;
    var list = zone.querySelector("[data-chosen]");
    var summary = zone.querySelector("[data-chosen-summary]");
    var problem = zone.querySelector("[data-upload-problem]");
    var hint = zone.querySelector("[data-drop-hint]");

    zone.classList.add("dropzone-active");
    if (hint) { hint.hidden = false; }

    function show() {
      var files = Array.prototype.slice.call(input.files || []);
      var total = files.reduce(function (n, f) { return n + f.size; }, 0);
      list.replaceChildren();
      files.forEach(function (f) {
        var li = document.createElement("li");
        var name = document.createElement("span");
        name.className = "filename";
        name.textContent = f.name;
        var bytes = document.createElement("span");
        bytes.className = "muted size";
        bytes.textContent = " " + size(f.size);
        li.append(name, bytes);
        list.appendChild(li);
      });
      list.hidden = files.length === 0;
      summary.hidden = files.length === 0;
      summary.textContent = files.length ? text("upload.chosen", { n: files.length, size: size(total) }) : "";
      var message = "";
      if (maxFiles && files.length > maxFiles) {
        message = text("upload.too_many", { n: maxFiles });
      } else if (maxBytes && total > maxBytes) {
        message = text("upload.over_size", { mb: Math.floor(maxBytes / (1024 * 1024)) });
      }
      // The browser refuses to submit while the input reports a problem, and says why.
      input.setCustomValidity(message);
      problem.textContent = message;
      problem.hidden = !message;
    }

    function stop(event) {
      event.preventDefault();
      event.stopPropagation();
    }

    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        stop(event);
        if (event.dataTransfer) { event.dataTransfer.dropEffect = "copy"; }
        zone.classList.add("dragover");
      });
    });
    zone.addEventListener("dragleave", function (event) {
      if (!zone.contains(event.relatedTarget)) { zone.classList.remove("dragover"); }
    });
    zone.addEventListener("drop", function (event) {
      stop(event);
      zone.classList.remove("dragover");
      var dropped = event.dataTransfer && event.dataTransfer.files;
      if (!dropped || !dropped.length) { return; }
      input.files = dropped;
      show();
    });
    zone.addEventListener("click", function (event) {
      if (event.target === zone || event.target === hint) { input.click(); }
    });
    input.addEventListener("change", show);
    show();
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-dropzone]"), setUp);
  });
})();

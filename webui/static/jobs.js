// Live progress of intake batches (progressive enhancement: the pages are complete without it).
// The batch page polls /api/batches/<id> and the list polls /api/batches every 1.5 s while a
// batch is not done; every value is written with textContent, never as HTML.
(function () {
  "use strict";

  var INTERVAL_MS = 1500;
  var SETTLED = ["done", "duplicate", "failed"];

  function format(pattern, params) {
    return String(pattern).replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
    });
  }

  function Texts(root) {
    var messages = {};
    this.zone = root.getAttribute("data-timezone") || "";
    try {
      messages = JSON.parse(root.getAttribute("data-messages") || "{}");
    } catch (e) {
      messages = {};
    }
    this.get = function (id, params) {
      var pattern = Object.prototype.hasOwnProperty.call(messages, id) ? messages[id] : id;
      return format(pattern, params || {});
    };
  }

  function duration(texts, seconds) {
    if (seconds === null || seconds === undefined || isNaN(seconds)) {
      return texts.get("jobs.unknown");
    }
    var total = Math.max(0, Math.round(Number(seconds)));
    var h = Math.floor(total / 3600);
    var m = Math.floor((total % 3600) / 60);
    var s = total % 60;
    if (h) { return texts.get("duration.h", { h: h, m: m }); }
    if (m) { return texts.get("duration.m", { m: m, s: s }); }
    return texts.get("duration.s", { s: s });
  }

  // A UTC time from the API in the team's zone (data-timezone), as the server writes it: 2026-12-07 14:33.
  function when(iso, texts, zone) {
    return iso ? window.Dossier.localTime(iso, zone) : texts.get("jobs.unknown");
  }

  function count(obj, key) {
    return obj && obj[key] ? Number(obj[key]) : 0;
  }

  function label(texts, id, fallback) {
    var text = texts.get(id);
    return text === id ? fallback : text;
  }

  // The value of every [data-field] for one batch dict.
  function fieldValues(b, texts) {
    var files = b.files || {};
    var pages = b.pages || {};
    var filesSettled = SETTLED.reduce(function (n, k) { return n + count(files, k); }, 0);
    var pagesSettled = count(pages, "done") + count(pages, "failed");
    var values = {
      state: label(texts, "jobs.state." + b.state, b.state),
      files_text: texts.get("jobs.files_progress", { done: filesSettled, total: count(files, "total") }),
      pages_text: texts.get("jobs.pages_progress", { done: pagesSettled, total: count(pages, "total") }),
      speed: b.pages_per_s ? texts.get("jobs.pages_per_s", { v: Number(b.pages_per_s).toFixed(2) })
                           : texts.get("jobs.unknown"),
      eta: b.state === "done" ? texts.get("jobs.unknown")
         : (b.eta_s === null || b.eta_s === undefined) ? texts.get("jobs.estimating") : duration(texts, b.eta_s),
      elapsed: duration(texts, b.elapsed_s),
      finished_at: when(b.finished_at, texts, texts.zone)
    };
    ["total", "queued", "processing", "done", "duplicate", "failed"].forEach(function (k) {
      values["files." + k] = String(count(files, k));
    });
    ["pending", "failed"].forEach(function (k) {
      values["pages." + k] = String(count(pages, k));
    });
    return {
      values: values,
      bars: {
        files_bar: [filesSettled, count(files, "total")],
        pages_bar: [pagesSettled, count(pages, "total")]
      },
      hasPages: count(pages, "total") > 0
    };
  }

  function applyBatch(scope, b, texts) {
    var computed = fieldValues(b, texts);
    Array.prototype.forEach.call(scope.querySelectorAll("[data-field]"), function (el) {
      var name = el.getAttribute("data-field");
      if (Object.prototype.hasOwnProperty.call(computed.bars, name)) {
        var pair = computed.bars[name];
        el.max = Math.max(pair[1], 1);
        el.value = pair[0];
        el.textContent = pair[0] + " / " + pair[1];
      } else if (name === "pages_line") {
        el.hidden = !computed.hasPages;
      } else if (Object.prototype.hasOwnProperty.call(computed.values, name)) {
        if (el.textContent !== computed.values[name]) {
          el.textContent = computed.values[name];
        }
        if (name === "state") {
          el.className = "badge badge-state badge-" + b.state;
        }
        if (name === "files.failed") {
          el.classList.toggle("has-failures", count(b.files, "failed") > 0);
        }
      }
    });
    scope.setAttribute("data-state", b.state);
  }

  // Fill a cloned row: a link to the document when there is one, plain text otherwise.
  // The file's name shows, its folder (a command-line path) muted beside it and in the tooltip.
  function fillFile(node, entry, documentUrl) {
    var link = node.querySelector("a.file");
    var plain = node.querySelector("span.file");
    var name = entry.name || entry.file || "";
    var folder = entry.folder || "";
    var shown = entry.document_id ? link : plain;
    shown.textContent = name;
    if (folder) { shown.title = folder + "/" + name; }
    if (entry.document_id) {
      link.href = documentUrl + encodeURIComponent(entry.document_id);
      if (plain) { plain.remove(); }
    } else if (link) {
      link.remove();
    }
    var hint = node.querySelector(".file-folder");
    if (hint) { hint.textContent = folder; }
  }

  function renderFailures(root, b, texts) {
    var list = root.querySelector('[data-list="failures"]');
    var template = root.querySelector('template[data-template="failure"]');
    if (!list || !template) { return; }
    var failures = b.failures || [];
    var key = JSON.stringify(failures);
    if (list.getAttribute("data-key") === key) { return; }
    list.setAttribute("data-key", key);
    var documentUrl = root.getAttribute("data-document-url") || "/documents/";
    var fragment = document.createDocumentFragment();
    failures.forEach(function (f) {
      var node = template.content.firstElementChild.cloneNode(true);
      fillFile(node, f, documentUrl);
      var page = node.querySelector(".failure-page");
      if (f.page) { page.textContent = texts.get("jobs.failure_page", { n: f.page }); } else { page.remove(); }
      node.querySelector(".reason").textContent = f.error || "";
      var form = node.querySelector("form");
      if (form) {
        if (f.document_id && f.retryable) {
          form.querySelector('input[name="document_id"]').value = String(f.document_id);
        } else {
          form.remove();
        }
      }
      var note = node.querySelector(".not-retryable");
      if (f.retryable) { note.remove(); } else { note.textContent = texts.get("jobs.not_retryable"); }
      fragment.appendChild(node);
    });
    list.replaceChildren(fragment);
    var none = root.querySelector("[data-no-failures]");
    if (none) { none.hidden = failures.length > 0; }
    var retryAll = root.querySelector("[data-retry-all]");
    if (retryAll) { retryAll.hidden = !failures.some(function (f) { return f.retryable; }); }
  }

  function renderItems(root, b, texts) {
    var body = root.querySelector('[data-list="items"]');
    var template = root.querySelector('template[data-template="item"]');
    if (!body || !template) { return; }
    // The page this view shows (?page=N): the same slice of the batch's files as the server rendered.
    var size = Number(root.getAttribute("data-page-size")) || 0;
    var page = Number(root.getAttribute("data-page")) || 1;
    var items = size ? (b.items || []).slice((page - 1) * size, page * size) : (b.items || []);
    var key = JSON.stringify(items);
    if (body.getAttribute("data-key") === key) { return; }
    body.setAttribute("data-key", key);
    var documentUrl = root.getAttribute("data-document-url") || "/documents/";
    var fragment = document.createDocumentFragment();
    items.forEach(function (it) {
      var row = template.content.firstElementChild.cloneNode(true);
      row.classList.add("item-" + it.status);
      fillFile(row, it, documentUrl);
      var badge = row.querySelector(".badge");
      badge.classList.add("badge-" + it.status);
      badge.textContent = label(texts, "status." + it.status, it.status);
      row.querySelector(".reason").textContent = it.error || "";
      fragment.appendChild(row);
    });
    body.replaceChildren(fragment);
  }

  function liveError(root, texts, show) {
    var el = root.querySelector("[data-live-error]");
    if (!el) { return; }
    el.textContent = show ? texts.get("jobs.live_error") : "";
    el.hidden = !show;
  }

  function fetchJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          var error = new Error("HTTP " + response.status);
          error.status = response.status;
          throw error;
        }
        return response.json();
      });
  }

  // Poll `url` and hand each answer to `apply`, which says whether to keep going.
  function poll(root, url, texts, apply) {
    function tick() {
      fetchJson(url).then(function (data) {
        liveError(root, texts, false);
        if (apply(data)) { window.setTimeout(tick, INTERVAL_MS); }
      }).catch(function (error) {
        liveError(root, texts, true);
        // Logged out or the batch is gone: polling again cannot help.
        if (error.status === 401 || error.status === 403 || error.status === 404) { return; }
        window.setTimeout(tick, INTERVAL_MS * 2);
      });
    }
    window.setTimeout(tick, INTERVAL_MS);
  }

  function watchBatch(root) {
    var texts = new Texts(root);
    if (root.getAttribute("data-state") === "done") { return; }
    poll(root, root.getAttribute("data-status-url"), texts, function (b) {
      applyBatch(root, b, texts);
      renderFailures(root, b, texts);
      renderItems(root, b, texts);
      var running = b.state !== "done";
      var note = root.querySelector("[data-live-note]");
      if (note) { note.hidden = !running; }
      return running;
    });
  }

  function watchList(root) {
    var texts = new Texts(root);
    var rows = root.querySelectorAll("[data-batch]");
    var open = Array.prototype.some.call(rows, function (row) {
      return row.getAttribute("data-state") !== "done";
    });
    if (!open) { return; }
    poll(root, root.getAttribute("data-status-url"), texts, function (data) {
      var byId = {};
      (data.batches || []).forEach(function (b) { byId[String(b.id)] = b; });
      var running = false;
      Array.prototype.forEach.call(rows, function (row) {
        var b = byId[row.getAttribute("data-batch-id")];
        if (!b) { return; }
        applyBatch(row, b, texts);
        if (b.state !== "done") { running = true; }
      });
      return running;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-job]"), watchBatch);
    Array.prototype.forEach.call(document.querySelectorAll("[data-jobs-list]"), watchList);
  });
})();

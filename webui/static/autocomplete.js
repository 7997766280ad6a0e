// Autocomplete for customer and tag fields: the ARIA combobox pattern (list autocomplete).
// Progressive enhancement: an <input data-suggest="customer|tag|ctag|search"> works as a plain
// field without this file.  data-suggest-multi: the field holds a list ("a，b"); the text after
// the last separator is completed.  "search": the last word of the search box becomes
// customer:"NAME" or tag:"NAME".  Suggestions come from GET /api/suggest (permission-checked).
(function () {
  "use strict";
  var SEPARATOR = /[,，;；、|\/／]/;
  var FILTERS = { name: "customer", alias: "customer", tag: "tag", ctag: "ctag" };
  var counter = 0;

  function fragmentOf(input, mode) {
    var value = input.value;
    if (mode === "multi") {
      var parts = value.split(SEPARATOR);
      return parts[parts.length - 1].trim();
    }
    if (mode === "search") {
      if (/\s$/.test(value)) { return ""; }
      var words = value.split(/\s+/);
      var last = words[words.length - 1];
      return last.indexOf(":") >= 0 || last.indexOf("：") >= 0 || last.charAt(0) === "-" ? "" : last;
    }
    return value.trim();
  }

  function withChoice(input, mode, s) {
    var value = input.value;
    if (mode === "multi") {
      var cut = -1;
      for (var i = value.length - 1; i >= 0; i -= 1) {
        if (SEPARATOR.test(value.charAt(i))) { cut = i; break; }
      }
      var head = cut >= 0 ? value.slice(0, cut + 1) : "";
      if (head && !/\s$/.test(head) && /[,;|]$/.test(head)) { head += " "; }
      var sep = /，|、/.test(value) || !/[,;]/.test(value) ? "，" : ", ";
      return head + s.value + sep;
    }
    if (mode === "search") {
      var start = value.search(/\S+$/);
      var before = start >= 0 ? value.slice(0, start) : value;
      return before + FILTERS[s.kind] + ':"' + s.value + '" ';
    }
    return s.value;
  }

  function attach(input) {
    var field = input.getAttribute("data-suggest");
    var mode = field === "search" ? "search" : input.hasAttribute("data-suggest-multi") ? "multi" : "single";
    var url = input.getAttribute("data-suggest-url") || "/api/suggest";
    counter += 1;
    var listId = "suggest-list-" + counter;
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "suggest-listbox";
    list.setAttribute("role", "listbox");
    var labelled = input.labels && input.labels.length ? input.labels[0] : null;
    if (labelled) {
      if (!labelled.id) { labelled.id = listId + "-label"; }
      list.setAttribute("aria-labelledby", labelled.id);
    }
    list.hidden = true;
    document.body.appendChild(list);
    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    document.body.appendChild(status);

    input.removeAttribute("list"); // the datalist fallback gives way to this list
    input.setAttribute("autocomplete", "off");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    var items = [];
    var active = -1;
    var seq = 0;
    var timer = null;

    function place() {
      var r = input.getBoundingClientRect();
      list.style.left = (r.left + window.scrollX) + "px";
      list.style.top = (r.bottom + window.scrollY + 2) + "px";
      list.style.minWidth = r.width + "px";
      list.style.maxWidth = Math.max(r.width, Math.min(560, document.documentElement.clientWidth - r.left - 8)) + "px";
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.children;
      for (var i = 0; i < options.length; i += 1) {
        options[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        if (options[index].scrollIntoView) { options[index].scrollIntoView({ block: "nearest" }); }
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var s = items[index];
      if (!s) { return; }
      input.value = withChoice(input, mode, s);
      close();
      input.focus();
      var end = input.value.length;
      if (input.setSelectionRange && input.type !== "search") { input.setSelectionRange(end, end); }
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function render(data) {
      items = data.suggestions || [];
      list.textContent = "";
      items.forEach(function (s, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.className = "suggest-option";
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.setAttribute("data-value", s.value);
        var main = document.createElement("span");
        main.className = "suggest-value";
        main.textContent = s.value;
        li.appendChild(main);
        var kind = document.createElement("span");
        kind.className = "suggest-kind";
        kind.textContent = s.kind === "alias" ? s.label + " " + s.match : s.label;
        li.appendChild(kind);
        li.title = s.value;
        li.addEventListener("mousedown", function (event) { event.preventDefault(); });
        li.addEventListener("click", function () { choose(i); });
        list.appendChild(li);
      });
      status.textContent = data.status || "";
      if (items.length) {
        place();
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        highlight(-1);
      } else {
        close();
      }
    }

    function lookup() {
      var fragment = fragmentOf(input, mode);
      if (!fragment) { close(); items = []; return; }
      seq += 1;
      var mine = seq;
      var query = "?field=" + encodeURIComponent(field) + "&q=" + encodeURIComponent(fragment.slice(0, 64)) + "&limit=8";
      fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (data) { if (mine === seq && document.activeElement === input) { render(data); } })
        .catch(function () { if (mine === seq) { close(); } });
    }

    function later() {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(lookup, 120);
    }
    // While an input method composes (pinyin → 汉字) its keys and text are its own: look up once it commits.
    input.addEventListener("input", function (event) { if (!event.isComposing) { later(); } });
    input.addEventListener("compositionend", later);
    input.addEventListener("keydown", function (event) {
      if (event.isComposing || event.keyCode === 229) { return; }
      var open = !list.hidden && items.length > 0;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open) { lookup(); return; }
        highlight(active + 1 >= items.length ? 0 : active + 1);
      } else if (event.key === "ArrowUp") {
        if (!open) { return; }
        event.preventDefault();
        highlight(active <= 0 ? items.length - 1 : active - 1);
      } else if (event.key === "Enter") {
        if (open && active >= 0) {
          event.preventDefault();
          choose(active);
        }
      } else if (event.key === "Escape") {
        if (open) {
          event.preventDefault();
          close();
        }
      } else if (event.key === "Tab") {
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    window.addEventListener("resize", function () { if (!list.hidden) { place(); } });
  }

  var inputs = document.querySelectorAll("input[data-suggest]");
  Array.prototype.forEach.call(inputs, attach);
})();

// The customer folder's two document views (by type, by year) as tabs.
// Progressive enhancement: without this file both views are shown one after the other.
(function () {
  "use strict";

  function setUp(root) {
    var list = root.querySelector("[data-tab-list]");
    if (!list) { return; }
    var tabs = Array.prototype.slice.call(list.querySelectorAll("[data-tab]"));
    var panels = tabs.map(function (tab) { return document.getElementById(tab.getAttribute("data-tab")); });

    function show(id, focus) {
      tabs.forEach(function (tab, i) {
        var on = tab.getAttribute("data-tab") === id;
        tab.setAttribute("aria-selected", on ? "true" : "false");
        tab.tabIndex = on ? 0 : -1;
        if (panels[i]) { panels[i].hidden = !on; }
        if (on && focus) { tab.focus(); }
      });
    }

    tabs.forEach(function (tab, i) {
      tab.addEventListener("click", function () {
        var id = tab.getAttribute("data-tab");
        show(id, false);
        // The view survives a reload and the back button, without a new history entry.
        window.history.replaceState(null, "", "#" + id);
      });
      tab.addEventListener("keydown", function (event) {
        var step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
        if (!step) { return; }
        event.preventDefault();
        var next = tabs[(i + step + tabs.length) % tabs.length];
        show(next.getAttribute("data-tab"), true);
      });
    });
    Array.prototype.forEach.call(root.querySelectorAll(".panel-title"), function (title) {
      title.classList.add("visually-hidden");
    });
    list.hidden = false;
    var wanted = window.location.hash.slice(1);
    var known = tabs.some(function (tab) { return tab.getAttribute("data-tab") === wanted; });
    show(known ? wanted : tabs[0].getAttribute("data-tab"), false);
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-tabs]"), setUp);
  });
})();

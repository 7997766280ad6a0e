// The document page viewer: progressive enhancement of the listed pages (templates/documents/_viewer.html).
// Without this file every page stays listed with its picture and text.  With it: one page at a time,
// previous / next, a page number box, ← / → keys (not while typing), and zoom (−, +, fit width, 100%).
// Sizes are set through the CSSOM (element.style), which the strict CSP allows; no inline styles.
(function () {
  "use strict";

  var STEP = 1.25;
  var MIN_ZOOM = 0.1;
  var MAX_ZOOM = 4;

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function pageNumber(section) {
    return parseInt(section.id.replace("page-", ""), 10);
  }

  function setup(viewer) {
    var pages = Array.prototype.slice.call(viewer.querySelectorAll(".viewer-pages > .page"));
    var bar = viewer.querySelector(".viewer-bar");
    if (!pages.length || !bar) return;
    var input = bar.querySelector(".viewer-page-input");
    var position = bar.querySelector(".viewer-position");
    var prev = bar.querySelector(".viewer-prev");
    var next = bar.querySelector(".viewer-next");
    var level = bar.querySelector(".viewer-zoom-level");
    var current = -1;
    var fit = true; // the picture fits the frame's width; else it is shown at `scale` of its own width
    var scale = 1;

    function indexOfPage(n) {
      for (var i = 0; i < pages.length; i += 1) {
        if (pageNumber(pages[i]) === n) return i;
      }
      return -1;
    }

    function image() {
      return pages[current].querySelector(".page-image-frame img");
    }

    function shownScale(img) {
      // The picture's shown width as a share of its own (1 = 100%); 0 while it is not there yet.
      return img && img.naturalWidth && img.offsetWidth ? img.getBoundingClientRect().width / img.naturalWidth : 0;
    }

    function showZoom() {
      if (!level) return;
      var now = shownScale(image());
      level.textContent = now ? Math.round(now * 100) + "%" : fit ? "" : Math.round(scale * 100) + "%";
    }

    function applyZoom() {
      var img = image();
      if (!img) return;
      if (fit) {
        img.style.width = "";
      } else if (img.naturalWidth) {
        img.style.width = Math.round(img.naturalWidth * scale) + "px";
      }
      img.classList.toggle("zoomed", !fit);
      // A zoomed picture scrolls inside its frame (both scroll bars within the window), never the page.
      img.parentElement.classList.toggle("page-image-zoomed", !fit && img.offsetWidth > img.parentElement.clientWidth);
      showZoom();
    }

    function show(index) {
      index = Math.max(0, Math.min(pages.length - 1, index));
      if (index === current) return;
      if (current >= 0) pages[current].classList.remove("page-current");
      current = index;
      pages[current].classList.add("page-current");
      var shown = current + 1;
      input.value = String(shown);
      position.textContent = position.getAttribute("data-template").replace("{n}", String(shown));
      prev.disabled = current === 0;
      next.disabled = current === pages.length - 1;
      var img = image();
      if (img && !img.complete) img.addEventListener("load", applyZoom, { once: true });
      applyZoom();
      // Fetch the next page's picture now, so turning to it is instant.
      var ahead = pages[current + 1] && pages[current + 1].querySelector(".page-image-frame img");
      if (ahead) ahead.loading = "eager";
    }

    function go(index) {
      show(index);
      // The address keeps the page: a reload or a shared link opens it again.
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, "", "#" + pages[current].id);
      }
    }

    function turn(delta) {
      go(current + delta);
      var target = all ? pages[current] : viewer;
      if (all || target.getBoundingClientRect().top < 0) target.scrollIntoView({ block: "start" });
    }

    function setZoom(factor) {
      // Zoom from what is shown now (the fitted size too); nothing to do before the picture is there.
      var now = fit ? shownScale(image()) : scale;
      if (!now) return;
      fit = false;
      scale = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, now * factor));
      applyZoom();
    }

    // 显示全部页面: every page listed again (to read on or find with the browser), the bar still turns pages.
    var all = false;
    var allButton = bar.querySelector(".viewer-all");
    allButton.addEventListener("click", function () {
      all = !all;
      viewer.classList.toggle("viewer-on", !all);
      allButton.setAttribute("aria-pressed", String(all));
      pages.forEach(function (page) {
        var img = page.querySelector(".page-image-frame img");
        if (img && all) img.style.width = "";
      });
      applyZoom();
    });

    prev.addEventListener("click", function () { turn(-1); });
    next.addEventListener("click", function () { turn(1); });
    input.addEventListener("change", function () {
      var n = parseInt(input.value, 10);
      if (isNaN(n)) n = current + 1;
      go(n - 1);
      input.value = String(current + 1);
    });
    bar.querySelector(".viewer-zoom-in").addEventListener("click", function () { setZoom(STEP); });
    bar.querySelector(".viewer-zoom-out").addEventListener("click", function () { setZoom(1 / STEP); });
    bar.querySelector(".viewer-fit").addEventListener("click", function () {
      fit = true;
      applyZoom();
    });
    bar.querySelector(".viewer-actual").addEventListener("click", function () {
      if (!shownScale(image())) return;
      fit = false;
      scale = 1;
      applyZoom();
    });
    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
      if (typing(event.target)) return;
      if (event.key === "ArrowLeft") {
        turn(-1);
        event.preventDefault();
      } else if (event.key === "ArrowRight") {
        turn(1);
        event.preventDefault();
      }
    });

    function fromHash() {
      if (location.hash === "#entity-mark") {
        var mark = document.getElementById("entity-mark");
        var section = mark && mark.closest(".viewer-pages > .page");
        return section ? pages.indexOf(section) : -1;
      }
      var m = /^#page-(\d+)$/.exec(location.hash);
      return m ? indexOfPage(parseInt(m[1], 10)) : -1;
    }

    window.addEventListener("resize", showZoom);
    window.addEventListener("hashchange", function () {
      var i = fromHash();
      if (i >= 0) show(i);
    });

    // The first page to open: the URL's page, the marked entity's page, the first page with a
    // search term, else page 1.
    var start = fromHash();
    if (start < 0 && viewer.hasAttribute("data-start")) {
      start = indexOfPage(parseInt(viewer.getAttribute("data-start"), 10));
    }
    if (start < 0) {
      var hit = viewer.querySelector(".viewer-pages .page-text mark");
      var hitPage = hit && hit.closest(".viewer-pages > .page");
      start = hitPage ? pages.indexOf(hitPage) : 0;
    }
    viewer.classList.add("viewer-on");
    bar.hidden = false;
    show(start);
    var marked = document.getElementById("entity-mark");
    if (marked && location.hash === "#entity-mark") marked.scrollIntoView({ block: "center" });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var viewer = document.querySelector(".viewer.viewer-images");
    if (viewer) setup(viewer);
  });
})();

"""The shared browser harness: headless Chromium + chromedriver, an app served over HTTP, and the quality checks.

Browser tests take the ``browser`` fixture of tests/webui/conftest.py (one Chromium for the whole test
session, reset before each test: no cookies, a fresh downloads folder, the log drained) and, for a page,
call :func:`check_page`, which

- runs axe-core (vendored under tests/webui/vendor/axe-core, injected with ``execute_script``; never served
  by the app) with the WCAG 2.0/2.1 A and AA rules, at 1024 px, and fails with one readable line per
  violation: rule, impact, selector, message;
- tabs through the first few controls and checks each shows a focus outline (keyboard users see where they are);
- asserts the page does not scroll horizontally at 1024 px and at 1400 px;
- fails on any SEVERE entry of the browser's console log (script errors, CSP violations, failed loads);
- saves a full-page screenshot at each width under :func:`artifacts_dir`.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
HAVE_CHROMIUM = CHROMIUM.exists() and CHROMEDRIVER.exists()
SKIP_REASON = "needs /usr/bin/chromium and /usr/bin/chromedriver (Debian chromium, chromium-driver)"

AXE_VERSION = "4.14.1"
AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
#: The axe rule sets run: WCAG 2.0 and 2.1, levels A and AA, and axe's best practices (one h1, heading
#: order, landmarks with distinct names, no empty table headers …).
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")
#: Widths every page is checked and photographed at (CSS pixels); axe runs at the first.
WIDTHS = (1024, 1400)
VIEWPORT_HEIGHT = 900
#: Console lines that are no fault of a page (none today; the favicon has a link in base.html).
IGNORED_CONSOLE: tuple[str, ...] = ()


#: The default artifacts folder: test-artifacts/screenshots at the repository root (ignored by git).
DEFAULT_ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def artifacts_dir() -> Path:
    """Where screenshots go: ``$DOSSIER_TEST_ARTIFACTS`` or :data:`DEFAULT_ARTIFACTS`."""
    root = os.environ.get("DOSSIER_TEST_ARTIFACTS")
    folder = Path(root) if root else DEFAULT_ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def new_driver(profile: Path, downloads: Path) -> Any:
    """A headless Chromium with a fresh profile under ``profile``, downloads into ``downloads``, console log on."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_AVOID_STATS", "true")  # selenium-manager is never needed: paths are given
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--window-size=1280,1000",
        "--lang=zh-CN",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    set_downloads(driver, downloads)
    # A click that submits a form returns before the next page is there: let look-ups retry.
    driver.implicitly_wait(10)
    return driver


def set_downloads(driver: Any, downloads: Path) -> None:
    """Send the browser's downloads to ``downloads`` (also ``driver.downloads``)."""
    downloads.mkdir(parents=True, exist_ok=True)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.downloads = downloads


def reset(driver: Any, downloads: Path) -> None:
    """Make a used browser like a new one for the next test: blank page, no cookies, new downloads, empty log."""
    driver.get("about:blank")
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    set_downloads(driver, downloads)
    driver.get_log("browser")
    driver.dossier_user = None


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve the Flask ``app`` on a free 127.0.0.1 port in a thread; yields its base URL."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(5)


def log_in(driver: Any, server: str, username: str, password: str) -> None:
    """Log in through the login form as ``username`` (after dropping any earlier session), as a person would."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.get(server + "/auth/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, ".login button[type=submit]").click()
    WebDriverWait(driver, 15).until(lambda b: "/auth/login" not in b.current_url)
    driver.dossier_user = username


def as_user(driver: Any, server: str, username: str, password: str) -> None:
    """Be logged in as ``username``: log in only when the browser is someone else (or no one) now."""
    if getattr(driver, "dossier_user", None) != username:
        log_in(driver, server, username, password)


# -- the checks ------------------------------------------------------------------------------------------------

_RUN_AXE = """
const done = arguments[arguments.length - 1];
const rules = axe.getRules(arguments[0]).map(r => r.ruleId).filter(id => !arguments[1].includes(id));
axe.run(document, {runOnly: {type: "rule", values: rules}, resultTypes: ["violations"]})
  .then(r => done(r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary || ""})),
  }))))
  .catch(e => done([{id: "axe-error", impact: "critical", help: String(e), nodes: []}]));
"""


def axe_violations(
    driver: Any, tags: Iterable[str] = AXE_TAGS, skip: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Run axe-core's rules of ``tags`` but ``skip`` (rule ids) on the current page; its violations as
    ``{id, impact, help, nodes: [{target, summary}]}``."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(_axe_source())
    driver.set_script_timeout(60)
    return list(driver.execute_async_script(_RUN_AXE, list(tags), list(skip)))


_AXE_CACHE: list[str] = []


def _axe_source() -> str:
    if not _AXE_CACHE:
        _AXE_CACHE.append(AXE_JS.read_text(encoding="utf-8"))
    return _AXE_CACHE[0]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """One line per failing element: ``rule (impact) selector: what is wrong``."""
    lines = []
    for v in violations:
        for node in v["nodes"] or [{"target": "", "summary": ""}]:
            summary = " ".join(node["summary"].split())
            lines.append(f"- {v['id']} ({v['impact']}) {node['target']}: {v['help']}. {summary}".rstrip())
    return "\n".join(lines)


def horizontal_overflow(driver: Any) -> int:
    """How many CSS pixels the page is wider than its viewport (0: no horizontal scroll)."""
    return int(
        driver.execute_script(
            "const e = document.documentElement; return Math.max(0, e.scrollWidth - e.clientWidth);"
        )
    )


def severe_console(driver: Any, ignore: Iterable[str] = ()) -> list[str]:
    """The SEVERE console lines since the last call (script errors, CSP violations, failed loads)."""
    patterns = [re.compile(p) for p in (*IGNORED_CONSOLE, *ignore)]
    return [
        e["message"]
        for e in driver.get_log("browser")
        if e["level"] == "SEVERE" and not any(p.search(e["message"]) for p in patterns)
    ]


_FOCUSED = """
const e = document.activeElement;
if (!e || e === document.body) return null;
const s = getComputedStyle(e);
const ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || (s.boxShadow && s.boxShadow !== "none");
const name = e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\\s+/).join(".") : "");
return {name: name, ring: ring, text: (e.innerText || e.value || "").trim().slice(0, 30)};
"""


_MAIN_FOCUS = """
const found = [];
const controls = [...document.querySelectorAll(
  "main a[href], main button, main input:not([type=hidden]), main select, main textarea, main [tabindex]"
)].filter(e => e.offsetParent !== null && !e.disabled && e.tabIndex >= 0).slice(0, arguments[0]);
for (const e of controls) {
  e.focus({preventScroll: true});
  if (document.activeElement !== e) continue;
  const s = getComputedStyle(e);
  const ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || (s.boxShadow && s.boxShadow !== "none");
  if (!ring) found.push(e.outerHTML.slice(0, 100));
}
return found;
"""


def focus_problems(driver: Any, steps: int = 4, controls: int = 25) -> list[str]:
    """Keyboard focus must be visible: Tab ``steps`` times from the top (the skip link, the header), then
    focus the first ``controls`` controls of <main> (still in keyboard mode); list those without a ring."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    # A page matches :focus only while its window has the focus, which a headless window may not have (after
    # a download, say): let the page behave as focused.
    driver.execute_cdp_cmd("Emulation.setFocusEmulationEnabled", {"enabled": True})
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);")
    problems = []
    for _ in range(steps):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        focused = driver.execute_script(_FOCUSED)
        if focused is None:
            break
        if not focused["ring"]:
            problems.append(f"- {focused['name']} ({focused['text']!r}) shows no focus outline")
    problems += [f"- {html} shows no focus outline" for html in driver.execute_script(_MAIN_FOCUS, controls)]
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);")
    return problems


def load_images(driver: Any, timeout: float = 10) -> None:
    """Load every image now (lazy ones too) and wait until all are in: their size counts for the layout."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script(
        "document.querySelectorAll('img[loading=lazy]').forEach(i => { i.loading = 'eager'; })"
    )
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return [...document.images].every(i => i.complete)")
    )


def set_width(driver: Any, width: int, height: int = VIEWPORT_HEIGHT) -> None:
    """Make the viewport exactly ``width`` x ``height`` CSS pixels (device scale 1)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def screenshot(driver: Any, path: Path) -> Path:
    """A full-page PNG of the current page at the current width."""
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "page"


def check_page(
    driver: Any,
    name: str,
    *,
    widths: Iterable[int] = WIDTHS,
    ignore_console: Iterable[str] = (),
    axe: bool = True,
    skip_rules: Iterable[str] = (),
) -> list[Path]:
    """Check the page the browser shows now (see the module docstring); returns the screenshots' paths.

    ``name`` names the screenshots (``<name>-1024.png``); ``ignore_console`` are regular expressions of
    console lines this page may log (an error page's own 404, say); ``skip_rules`` are axe rule ids
    not checked on this page (a known, reported gap: say why where you pass it).  All problems are
    collected and reported together in one AssertionError.
    """
    problems: list[str] = []
    shots: list[Path] = []
    folder = artifacts_dir()
    load_images(driver)
    try:
        for i, width in enumerate(widths):
            set_width(driver, width)
            if i == 0 and axe:
                found = axe_violations(driver, skip=skip_rules)
                if found:
                    problems.append(f"axe at {width}px:\n{describe_violations(found)}")
                unseen = focus_problems(driver)
                if unseen:
                    problems.append("keyboard focus:\n" + "\n".join(unseen))
            overflow = horizontal_overflow(driver)
            if overflow:
                problems.append(f"scrolls horizontally at {width}px by {overflow}px")
            shots.append(screenshot(driver, folder / f"{_slug(name)}-{width}.png"))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    severe = severe_console(driver, ignore_console)
    if severe:
        problems.append("console errors:\n" + "\n".join(f"- {line}" for line in severe))
    assert not problems, f"{name} ({driver.current_url}):\n" + "\n".join(problems)
    return shots

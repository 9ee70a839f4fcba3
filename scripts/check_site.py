#!/usr/bin/env python3
"""Check a built docs site in headless Chromium, the way a reader would meet it.

    python scripts/check_site.py [SITE=_docs] [--screenshots docs/screenshots]

Serves SITE on 127.0.0.1 (random port), opens every page in one headless Debian Chromium driven over the DevTools
protocol (through a pipe: no port, no extra package, no browser download) and reports:
- a notebook in nbs/ without its page, or a page missing from the sidebar;
- a page without its title (empty <title> or H1, or the H1 is only the notebook's file name: no `# Title` cell);
- a broken internal link (page or #anchor that does not exist) or a link still pointing at the published site;
- an image of the site that did not load, or any request to the site that failed (404, ...); pictures from other
  sites (badges) cannot load offline and are not judged;
- a Python traceback shown in the page (a cell that raised while the notebook ran for the docs).
`static_check` runs the same checks on the HTML files alone (no browser; what a script can see without running the
pages): the tests run it always, and the browser checks where Chromium starts.
With --screenshots it saves home.png, ppo.png (scrolled to the `PPOTrainer` API entry) and experiment.png (the first
experiment page, scrolled to its full-scale GPU results, else to its first figure). Exit status 1 when anything was found.
"""
from __future__ import annotations

import argparse
import base64
import fcntl
import functools
import html.parser
import http.server
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_docs import html_name, list_notebooks, read_settings  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio", "--no-default-browser-check"]
EXPERIMENT_PAGES = ["positive.html", "negative.html", "neutral.html", "control.html", "experiment.html", "results.html"]

# Everything the checks need from one loaded page, gathered in the page itself.
PAGE_PROBE = r"""JSON.stringify({
  title: document.title.trim(),
  h1: (document.querySelector('h1.title') || document.querySelector('h1') || {innerText: ''}).innerText.trim(),
  text: document.body ? document.body.innerText : '',
  errors: document.querySelectorAll('.nb-error').length,
  figures: document.querySelectorAll('.nb-figure').length,
  links: [...document.querySelectorAll('a[href]')].map(a => ({href: a.href, raw: a.getAttribute('href')})),
  images: [...document.images].map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
  ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  sidebar: [...document.querySelectorAll('nav.sidebar a')].map(a => a.getAttribute('href')),
})"""


def _move_fd_above(fd: int, lowest: int) -> int:
    "A copy of `fd` numbered `lowest` or above (the original is closed)"
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, lowest)
    os.close(fd)
    return moved


class Chromium:
    "Headless Chromium over the DevTools protocol on a pipe (fd 3: commands in, fd 4: replies out, NUL-separated)"

    # Tried in turn when Chromium dies at start-up (containers without a zygote-friendly sandbox, crash handlers that
    # cannot write their database, ...): its stderr goes to a log file beside the profile and is quoted in the error.
    FALLBACK_FLAGS = ([], ["--no-zygote", "--disable-crash-reporter", "--disable-breakpad"],
                      ["--no-zygote", "--single-process", "--disable-crash-reporter", "--disable-breakpad", "--disable-features=VizDisplayCompositor"])

    def __init__(self, exe: str, width: int = 1440, height: int = 900, timeout: float = 60):
        self.proc = self.to_browser = self.from_browser = self.stderr = self.profile = None
        errors = []
        for extra in self.FALLBACK_FLAGS:
            try: return self._start(exe, extra, width, height, timeout)
            except (RuntimeError, TimeoutError, OSError) as e:
                errors.append(f"{' '.join(extra) or 'default flags'}: {e}\n{self._stderr_tail()}")
                self._stop()
        raise RuntimeError("Chromium did not start (" + str(len(errors)) + " tries):\n" + "\n".join(errors))

    def _start(self, exe: str, extra: list[str], width: int, height: int, timeout: float):
        self.timeout, self.next_id, self.buffer, self.events = timeout, 0, b"", []
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self.stderr = open(Path(self.profile).parent / (Path(self.profile).name + ".log"), "w+b")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        # Chromium's ends go to fds >= 10 first, so that putting them on 3 and 4 cannot overwrite one with the other
        to_browser_r, from_browser_w = (_move_fd_above(fd, 10) for fd in (to_browser_r, from_browser_w))
        args = [exe, *CHROMIUM_FLAGS, *extra, "--remote-debugging-pipe", f"--user-data-dir={self.profile}", "about:blank"]
        # bash (not sh: dash reads only one-digit fds in redirections) puts the pipe ends on the fds Chromium expects,
        # then becomes Chromium
        try:
            self.proc = subprocess.Popen(["bash", "-c", f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w}', "bash", *args],
                                         pass_fds=(to_browser_r, from_browser_w), stdout=subprocess.DEVNULL,
                                         stderr=self.stderr, stdin=subprocess.DEVNULL,
                                         env={**os.environ, "HOME": os.environ.get("HOME") or self.profile})
        finally:  # Chromium holds its own copies now; ours must go, so that its exit closes the pipe
            os.close(to_browser_r)
            os.close(from_browser_w)
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for method in ("Page.enable", "Network.enable", "Runtime.enable"): self.call(method, session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)

    def _stderr_tail(self, n: int = 1500) -> str:
        "The end of what Chromium wrote to stderr (why it died)"
        if self.stderr is None: return ""
        self.stderr.flush(); self.stderr.seek(0)
        return "  chromium stderr: " + self.stderr.read().decode(errors="replace")[-n:].strip().replace("\n", "\n  ")

    def _stop(self):
        "Kill the browser if it still runs; free its pipes, stderr log and profile (safe to call twice)"
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill(); self.proc.wait()
        for fd in (self.to_browser, self.from_browser):
            if fd is not None: os.close(fd)
        if self.stderr is not None:
            self.stderr.close(); Path(self.stderr.name).unlink(missing_ok=True)
        if self.profile is not None: shutil.rmtree(self.profile, ignore_errors=True)
        self.proc = self.to_browser = self.from_browser = self.stderr = self.profile = None

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.from_browser], [], [], left)[0]:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk: raise RuntimeError("Chromium closed the DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: bool = False, **params) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session: msg["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply: raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, timeout: float | None = None) -> dict:
        deadline = time.time() + (timeout or self.timeout)
        for i, ev in enumerate(self.events):
            if ev.get("method") == method: return self.events.pop(i)
        while True:
            ev = self._read(deadline)
            if ev.get("method") == method: return ev
            self.events.append(ev)

    def load(self, url: str) -> tuple[dict, list[str]]:
        "Open `url`, wait for its load event; the page probe and the failed requests"
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        self.wait_event("Page.loadEventFired")
        probe = json.loads(self.evaluate(PAGE_PROBE))
        failed, urls = [], {}
        for ev in self.events:
            p = ev.get("params", {})
            if ev.get("method") == "Network.responseReceived" and p["response"]["status"] >= 400:
                failed.append(f"{p['response']['status']} {p['response']['url']}")
            elif ev.get("method") == "Network.requestWillBeSent":
                urls[p["requestId"]] = p["request"]["url"]
            elif ev.get("method") == "Network.loadingFailed" and not p.get("canceled"):
                failed.append(f"{p.get('errorText')} ({p.get('type')}) {urls.get(p['requestId'], p['requestId'])}")
            elif ev.get("method") == "Runtime.exceptionThrown":
                failed.append(f"JavaScript error: {p['exceptionDetails'].get('text')}")
        return probe, failed

    def evaluate(self, expression: str):
        res = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res: raise RuntimeError(f"evaluate failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def screenshot(self, path: Path, scroll_to: list[str] = ()):
        "Save the viewport as PNG, first scrolling to the first of the CSS selectors `scroll_to` that matches"
        if scroll_to:
            self.evaluate(f"(() => {{ const e = {json.dumps(list(scroll_to))}.map(s => document.querySelector(s)).find(e => e); "
                          "if (e) { e.scrollIntoView({block: 'start'}); window.scrollBy(0, -8); } })()")
            self.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        data = self.call("Page.captureScreenshot", session=True, format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self):
        try: self.call("Browser.close")
        except Exception: pass  # noqa: BLE001 -- it may already be gone
        try: self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired: pass  # _stop kills it
        self._stop()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass


def serve(site: Path):
    "Serve `site` on 127.0.0.1 on a free port in a daemon thread; returns (server, base url)"
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


def find_chromium() -> str | None:
    return next((p for p in map(shutil.which, ["chromium", "chromium-browser", "google-chrome"]) if p), None)


def expected_pages(root: Path = ROOT) -> dict[str, str]:
    "page -> notebook, for every notebook in nbs/ (nbdev's naming rule)"
    settings = read_settings(root)
    nbs = root / settings.get("nbs_path", "nbs")
    return {html_name(p.relative_to(nbs)): p.relative_to(nbs).as_posix() for p in list_notebooks(nbs)}


class _PageParser(html.parser.HTMLParser):
    "Collects what PAGE_PROBE collects in the browser, from the HTML text alone"

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.probe = {"title": "", "h1": "", "text": "", "errors": 0, "figures": 0, "links": [], "images": [], "ids": [],
                      "sidebar": []}
        self.stack, self.in_sidebar, self.h1_done, self.text = [], 0, False, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if a.get("id"): self.probe["ids"].append(a["id"])
        if "nb-error" in classes: self.probe["errors"] += 1
        if "nb-figure" in classes: self.probe["figures"] += 1
        if tag == "nav" and "sidebar" in classes: self.in_sidebar = 1
        elif tag == "nav" and self.in_sidebar: self.in_sidebar += 1
        if tag == "a" and a.get("href") is not None:
            self.probe["links"].append({"href": a["href"], "raw": a["href"]})
            if self.in_sidebar: self.probe["sidebar"].append(a["href"])
        if tag == "img": self.probe["images"].append({"src": a.get("src", ""), "ok": None})
        if tag in ("title", "h1") and tag not in self.stack and not (tag == "h1" and self.h1_done): self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "nav" and self.in_sidebar: self.in_sidebar -= 1
        if tag in self.stack:
            self.stack.remove(tag)
            if tag == "h1": self.h1_done = True

    def handle_data(self, data):
        for tag in self.stack: self.probe[tag] += data
        self.text.append(data)

    def result(self) -> dict:
        self.probe.update(title=self.probe["title"].strip(), h1=self.probe["h1"].strip(), text="".join(self.text))
        return self.probe


STATIC_BASE = "http://site.invalid/"  # stands for the site's root when links are resolved without a server


def static_probe(site: Path, page: str) -> dict:
    "The page probe of `site/page` read from its HTML: links made absolute against STATIC_BASE, images checked on disk"
    parser = _PageParser()
    parser.feed((site / page).read_text(encoding="utf-8"))
    probe = parser.result()
    for link in probe["links"]: link["href"] = urljoin(STATIC_BASE + page, link["raw"])
    for img in probe["images"]:
        src = urljoin(STATIC_BASE + page, img["src"])
        img["src"] = src
        img["ok"] = src.startswith("data:") or (src.startswith(STATIC_BASE) and (site / urlparse(src).path.lstrip("/")).is_file())
    return probe


def judge_pages(site: Path, facts: dict, base: str, root: Path = ROOT) -> list[str]:
    "The problems of a site from its pages' probes (`facts`, page -> probe), links resolved against `base`"
    settings = read_settings(root)
    published = (settings.get("doc_host", "") + settings.get("doc_baseurl", "")).rstrip("/") + "/"
    expected = expected_pages(root)
    problems = [f"{page}: missing page for nbs/{nb}" for page, nb in expected.items() if not (site / page).is_file()]
    built = [p for p in expected if p in facts]  # a missing page is reported once, above
    for page, probe in facts.items():
        where = f"{page}:"
        if not probe["title"] or probe["title"].startswith("–"): problems.append(f"{where} empty <title>")
        nb = expected.get(page)
        if not probe["h1"]: problems.append(f"{where} no H1 title")
        elif nb and probe["h1"] == Path(nb).stem:
            problems.append(f"{where} no title: the H1 is the file name (nbs/{nb} needs a `# Title` markdown cell)")
        if probe["errors"] or "Traceback (most recent call last)" in probe["text"]:
            problems.append(f"{where} shows a Python traceback ({probe['errors']} error output(s))")
        for img in probe["images"]:  # pictures from other sites cannot load offline: only ours are judged
            if not img["ok"] and (img["src"].startswith(base) or img["src"].startswith("data:")):
                problems.append(f"{where} image did not load: {img['src']}")
        missing_in_sidebar = [p for p in built if p not in {urljoin(page, h) for h in probe["sidebar"]}]
        if missing_in_sidebar: problems.append(f"{where} sidebar lacks {missing_in_sidebar}")
        for link in {(l["href"], l["raw"]): l for l in probe["links"]}.values():
            url, raw = link["href"], link["raw"]
            if raw.startswith(published):
                problems.append(f"{page}: link to the published site instead of the page: {raw}")
                continue
            if not url.startswith(base): continue  # GitHub, Colab, ...: not ours to check offline
            target, fragment = urldefrag(url)
            rel = urlparse(target).path.lstrip("/") or "index.html"
            if rel.endswith("/"): rel += "index.html"
            if rel in facts:
                if fragment and fragment not in facts[rel]["ids"]:
                    problems.append(f"{page}: broken anchor {raw} (no id {fragment!r} in {rel})")
            elif not (site / rel).is_file():
                problems.append(f"{page}: broken link {raw} ({rel} does not exist)")
    return problems


def site_pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


def static_check(site: Path, root: Path = ROOT) -> tuple[list[str], dict]:
    "The checks that need no browser, on the HTML files of `site`; returns (problems, per-page facts)"
    facts = {page: static_probe(site, page) for page in site_pages(site)}
    return judge_pages(site, facts, STATIC_BASE, root), facts


def check_site(site: Path, screenshots: Path | None = None, root: Path = ROOT, exe: str | None = None,
               log=print) -> tuple[list[str], dict]:
    "Load every page of `site` in Chromium; returns (problems, per-page facts)"
    exe = exe or find_chromium()
    if not exe: raise FileNotFoundError("chromium not found (apt-get install chromium)")
    pages = site_pages(site)
    browser = Chromium(exe)  # before the server: a browser that cannot start raises here, with its stderr
    httpd, base = serve(site)
    problems, facts = [], {}
    try:
        start = time.time()
        for page in pages:
            probe, failed = browser.load(base + page)
            facts[page] = probe
            problems += [f"{page}: failed request: {f}" for f in failed if base in f]
        log(f"loaded {len(pages)} pages in Chromium in {time.time() - start:.1f}s")
        problems = judge_pages(site, facts, base, root) + problems
        if screenshots is not None:
            shots = [("home.png", "index.html", []), ("ppo.png", "ppo.html", ["#ppotrainer", ".nb-showdoc"])]
            present = [p for p in EXPERIMENT_PAGES if p in facts]  # the first run page with a plot, else the first
            experiment = next((p for p in present if facts[p]["figures"]), present[0] if present else None)
            if experiment: shots.append(("experiment.png", experiment, ["#full-scale-gpu", ".nb-figure", ".nb-html", "h2"]))
            else: problems.append("no experiment page to screenshot (expected one of " + ", ".join(EXPERIMENT_PAGES) + ")")
            for name, page, selector in shots:
                if page not in facts:
                    problems.append(f"cannot screenshot {page}: no such page")
                    continue
                browser.load(base + page)
                browser.screenshot(screenshots / name, scroll_to=selector)
                log(f"screenshot {screenshots / name} <- {page}")
    finally:
        browser.close()
        httpd.shutdown()
        httpd.server_close()
    return problems, facts


def main(argv=None):
    settings = read_settings()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site", nargs="?", type=Path, default=ROOT / settings.get("doc_path", "_docs"))
    ap.add_argument("--screenshots", type=Path, help="folder for home.png, ppo.png, experiment.png")
    ap.add_argument("--static", action="store_true", help="only the checks that need no browser")
    args = ap.parse_args(argv)
    problems, facts = static_check(args.site.resolve()) if args.static else check_site(args.site.resolve(), args.screenshots)
    for p in problems: print("PROBLEM", p)
    print(f"{len(facts)} pages checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

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
With --screenshots it saves home.png, ppo.png (scrolled to the `PPOTrainer` API entry) and experiment.png (the first
experiment page, scrolled to its first figure). Exit status 1 when anything was found.
"""
from __future__ import annotations

import argparse
import base64
import functools
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


class Chromium:
    "Headless Chromium over the DevTools protocol on a pipe (fd 3: commands in, fd 4: replies out, NUL-separated)"

    def __init__(self, exe: str, width: int = 1440, height: int = 900, timeout: float = 60):
        self.timeout, self.next_id, self.buffer, self.events = timeout, 0, b"", []
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        args = [exe, *CHROMIUM_FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self.profile}", "about:blank"]
        # the shell puts our pipe ends on the fds Chromium expects, then becomes Chromium
        self.proc = subprocess.Popen(["/bin/sh", "-c", f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w}', "sh", *args],
                                     pass_fds=(to_browser_r, from_browser_w), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for method in ("Page.enable", "Network.enable", "Runtime.enable"): self.call(method, session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)

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
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.to_browser, self.from_browser): os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)


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


def check_site(site: Path, screenshots: Path | None = None, root: Path = ROOT, exe: str | None = None,
               log=print) -> tuple[list[str], dict]:
    "Load every page of `site` in Chromium; returns (problems, per-page facts)"
    exe = exe or find_chromium()
    if not exe: raise FileNotFoundError("chromium not found (apt-get install chromium)")
    settings = read_settings(root)
    published = (settings.get("doc_host", "") + settings.get("doc_baseurl", "")).rstrip("/") + "/"
    expected = expected_pages(root)
    problems, facts = [], {}
    for page, nb in expected.items():
        if not (site / page).is_file(): problems.append(f"{page}: missing page for nbs/{nb}")
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    httpd, base = serve(site)
    browser = Chromium(exe)
    try:
        start = time.time()
        for page in pages:
            probe, failed = browser.load(base + page)
            facts[page] = probe
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
            problems += [f"{where} failed request: {f}" for f in failed if base in f]
            built = [p for p in expected if p in pages]  # a missing page is reported once, above
            missing_in_sidebar = [p for p in built if p not in {urljoin(page, h) for h in probe["sidebar"]}]
            if missing_in_sidebar: problems.append(f"{where} sidebar lacks {missing_in_sidebar}")
        log(f"loaded {len(pages)} pages in Chromium in {time.time() - start:.1f}s")
        for page, probe in facts.items():  # links, now that every page's ids are known
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
        if screenshots is not None:
            shots = [("home.png", "index.html", []), ("ppo.png", "ppo.html", ["#ppotrainer", ".nb-showdoc"])]
            present = [p for p in EXPERIMENT_PAGES if p in facts]  # the first run page with a plot, else the first
            experiment = next((p for p in present if facts[p]["figures"]), present[0] if present else None)
            if experiment: shots.append(("experiment.png", experiment, [".nb-figure", ".nb-html", "h2"]))
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
    args = ap.parse_args(argv)
    problems, facts = check_site(args.site.resolve(), args.screenshots)
    for p in problems: print("PROBLEM", p)
    print(f"{len(facts)} pages checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

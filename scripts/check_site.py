#!/usr/bin/env python3
"""Check a built docs site the way a reader meets it: its HTML, then every page in headless Chromium.

    python scripts/check_site.py [SITE=_docs] [--screenshots DIR] [--static]

Why these tools: BeautifulSoup (nbconvert needs it) reads the HTML; Selenium drives Debian's `chromium` through its
`chromium-driver` (apt, no browser download). HTML: every notebook has its page, in every sidebar; titles and H1s; no
broken internal link, anchor or image; no traceback shown. Browser (not with --static): no JavaScript error or failed
request, images decode, no page wider than the window, no table row over TALL_ROW px. Exit status 1 on a problem.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import posixpath
import shutil
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_docs import notebooks  # noqa: E402

TALL_ROW = 100  # pixels: about four lines of text
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1440,900"]
SHOTS = [("home.png", "index.html", "h1"), ("ppo.png", "ppo.html", "#ppotrainer"),
         ("results.png", "results.html", "h2")]
EXTERNAL = ("http:", "https:", "mailto:", "data:", "//", "javascript:")
PROBE = """const found = [...document.images].filter(i => !i.naturalWidth).map(i => 'broken image ' + i.src);
if (document.documentElement.scrollWidth > innerWidth + 1)
  found.push('wider than the window (an output that does not scroll)');
const tall = [...document.querySelectorAll('tr')].filter(r => r.getBoundingClientRect().height > arguments[0]);
if (tall.length) found.push(tall.length + ' table row(s) taller than ' + arguments[0] + 'px');
return found;"""


def expected_pages(root: Path = ROOT) -> dict[str, str]:
    "page -> notebook, for every notebook in nbs/ (nbdev's names)"
    return {page: p.relative_to(root).as_posix() for page, p in notebooks(root / "nbs").items()}


def page_facts(site: Path, page: str) -> dict:
    "What the checks need from one page's HTML"
    from bs4 import BeautifulSoup
    soup = BeautifulSoup((site / page).read_text(encoding="utf-8"), "html.parser")
    links = {a["href"] for a in soup.find_all("a", href=True)} | {i["src"] for i in soup.find_all("img", src=True)}
    title, h1 = (tag.get_text().strip() if tag else "" for tag in (soup.title, soup.h1))
    return dict(title=title, h1=h1, text=soup.get_text(), ids={e["id"] for e in soup.find_all(id=True)}, links=links,
                sidebar=[a["href"] for a in soup.select("nav.sidebar li a[href]")])


def link_problems(page: str, links: set, facts: dict, files: set) -> list[str]:
    "Internal links (and image sources) of `page` whose file or anchor does not exist"
    problems = []
    for url in sorted(u for u in links if u and not u.startswith(EXTERNAL)):
        target, _, anchor = url.partition("#")
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page), target)) if target else page
        if target not in files:
            problems.append(f"{page}: broken link {url}")
        elif anchor and target in facts and anchor not in facts[target]["ids"]:
            problems.append(f"{page}: broken anchor {url}")
    return problems


def static_check(site: Path, root: Path = ROOT) -> tuple[list[str], dict]:
    "The checks on the HTML files of `site`; (problems, page -> facts)"
    files = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    facts = {page: page_facts(site, page) for page in sorted(f for f in files if f.endswith(".html"))}
    expected = expected_pages(root)
    problems = [f"{page}: missing page for {nb}" for page, nb in expected.items() if page not in facts]
    for page, fact in facts.items():
        if not fact["title"] or fact["h1"] in ("", Path(page).stem):
            problems.append(f"{page}: no title (its notebook needs a `# Title` markdown cell)")
        if "Traceback (most recent call last)" in fact["text"]:
            problems.append(f"{page}: shows a Python traceback")
        missing = [p for p in expected if p in facts and p not in fact["sidebar"]]
        problems += [f"{page}: sidebar lacks {missing}"] if missing else []
        problems += link_problems(page, fact["links"], facts, files)
    return problems, facts


def serve(site: Path) -> http.server.ThreadingHTTPServer:
    "Serve `site` on 127.0.0.1, on a free port, from a daemon thread, without logging every request"
    quiet = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *args: None})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def find_browser() -> tuple[str | None, str | None]:
    "Debian's chromium and chromium-driver (apt-get install chromium chromium-driver), or a Chrome; None if missing"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    return chromium, shutil.which("chromedriver")


def start_browser(chromium: str, driver: str, log: Path):
    "Headless Chromium under Selenium; a RuntimeError quoting chromedriver's and Chromium's output if it cannot start"
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        service = webdriver.ChromeService(driver, service_args=["--log-level=SEVERE"], log_output=str(log))
        return webdriver.Chrome(options, service)
    except WebDriverException as e:
        output = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        raise RuntimeError(f"Chromium did not start: {e.msg}\n{output}") from e


def browser_problems(browser, url: str) -> list[str]:
    "Load one page; what only a browser sees: console errors (JavaScript, failed requests), images, layout"
    browser.get(url)
    return browser.execute_script(PROBE, TALL_ROW) + [f"console: {e['message']}" for e in browser.get_log("browser")
                                                      if e["level"] == "SEVERE"]


def browser_check(site: Path, pages: list[str], screenshots: Path | None = None, chromium: str | None = None,
                  driver: str | None = None) -> list[str]:
    "Every page in headless Chromium, then the screenshots; the problems found"
    chromium, driver = chromium or find_browser()[0], driver or find_browser()[1]
    if not chromium or not driver:
        raise FileNotFoundError("chromium or chromedriver not found (apt-get install chromium chromium-driver)")
    with tempfile.TemporaryDirectory() as tmp:
        browser = start_browser(chromium, driver, Path(tmp) / "chromedriver.log")
        server = serve(site)
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        try:
            problems = [f"{page}: {p}" for page in pages for p in browser_problems(browser, base + page)]
            for name, page, selector in SHOTS if screenshots else []:
                browser.get(base + page)
                browser.execute_script("document.querySelector(arguments[0])?.scrollIntoView()", selector)
                screenshots.mkdir(parents=True, exist_ok=True)
                browser.save_screenshot(str(screenshots / name))
        finally:
            browser.quit()
            server.shutdown()
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site", nargs="?", type=Path, default=ROOT / "_docs")
    ap.add_argument("--screenshots", type=Path, help="folder for home.png, ppo.png and results.png")
    ap.add_argument("--static", action="store_true", help="only the checks on the HTML, no browser")
    args = ap.parse_args(argv)
    problems, facts = static_check(args.site)
    if not args.static:
        problems += browser_check(args.site.resolve(), list(facts), args.screenshots)
    print(*[f"PROBLEM {p}" for p in problems], f"{len(facts)} pages checked, {len(problems)} problem(s)", sep="\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

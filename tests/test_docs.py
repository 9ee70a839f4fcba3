"""The docs: the offline site builds and every page is right, in its HTML and in headless Chromium; README.md matches
index.ipynb; committed outputs print no machine paths; the run chapters open in Colab.

The site is built once with the documented command, `python scripts/build_docs.py --out <tmp>` (nbdev's processors,
nbconvert's HTML). `test_site_static` runs scripts/check_site.py's HTML checks (every notebook has its page, titles,
sidebar, internal links and anchors, images, no traceback shown); `test_site_browser` loads every page in Debian's
chromium through Selenium and chromium-driver (JavaScript errors, failed requests, images, wide pages, tall table
rows) and saves docs/screenshots/{home,ppo,results}.png ($DOCS_SCREENSHOTS elsewhere). The browser test is skipped
only when chromium or chromedriver is not installed; a browser that is installed but cannot start fails, quoting why."""
import json
import os
import re
import subprocess
import sys
from configparser import ConfigParser
from pathlib import Path

import pytest

from conftest import NBS, ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from check_site import browser_check, expected_pages, find_browser, static_check  # noqa: E402

SETTINGS = ConfigParser(delimiters=["="])
SETTINGS.read(ROOT / "settings.ini", encoding="utf-8")
CFG = SETTINGS["DEFAULT"]
ALL_NBS = sorted(NBS.glob("*.ipynb"))
# the chapters from 07 on open in Colab (all but the command line's)
COLAB_NBS = [p for p in ALL_NBS if re.match(r"^(0[7-9]|[1-9]\d)_", p.name) and not p.stem.endswith("_cli")]
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(root|work|home|Users|tmp)/[^\s'\"\\]*")


def test_readme_up_to_date():
    proc = subprocess.run([sys.executable, "scripts/make_readme.py", "--check"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"README.md is stale: run `python scripts/make_readme.py`\n{proc.stdout[-4000:]}" \
                                 f"{proc.stderr[-2000:]}"


def test_page_names_follow_nbdev():
    "Pages get nbdev's (quarto's) names, so the offline and the published site agree"
    pages = expected_pages()
    assert pages.get("index.html") == "nbs/index.ipynb", "nbs/index.ipynb (the home page) is missing"
    assert pages.get("ppo.html") == "nbs/02_ppo.ipynb", pages
    assert len(set(pages)) == len(ALL_NBS), "two notebooks would get the same page"


def test_static_check_finds_problems(tmp_path):
    "The checker itself: broken links, anchors and images, a traceback, an untitled page, missing pages are caught"
    (tmp_path / "core.html").write_text("""<html><head><title>core</title></head><body>
    <nav class="sidebar"><ol><li><a href="core.html">core</a></li></ol></nav><h1 id="core">Core</h1>
    <a href="nowhere.html">x</a><a href="core.html#no-such-id">y</a><a href="#core">z</a><img src="figures/gone.png">
    <img src="https://img.shields.io/badge.svg"><pre>Traceback (most recent call last):</pre></body></html>""")
    (tmp_path / "cli.html").write_text("<html><head><title>cli</title></head><body><h1>cli</h1></body></html>")
    problems, facts = static_check(tmp_path)
    text = "\n".join(problems)
    for expected in ("cli.html: no title", "core.html: broken link nowhere.html",
                     "core.html: broken anchor core.html#no-such-id", "core.html: broken link figures/gone.png",
                     "core.html: shows a Python traceback", "index.html: missing page for nbs/index.ipynb"):
        assert expected in text, (expected, problems)
    assert "#core" not in text and "shields.io" not in text, problems
    assert facts["core.html"]["h1"] == "Core" and facts["core.html"]["sidebar"] == ["core.html"]


def test_browser_that_cannot_start_is_reported(tmp_path):
    "A chromium that dies at start-up is reported with what it wrote to stderr"
    if not find_browser()[1]:
        pytest.skip("chromedriver is not installed (apt-get install chromium-driver)")
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'FATAL: zygote could not fork' >&2\nexit 1\n")
    fake.chmod(0o755)
    (tmp_path / "site").mkdir()
    with pytest.raises(RuntimeError, match="Chromium did not start") as info:
        browser_check(tmp_path / "site", [], chromium=str(fake))
    assert "zygote could not fork" in str(info.value)


@pytest.mark.parametrize("nb", ALL_NBS, ids=lambda p: p.name)
def test_no_machine_paths_in_outputs(nb):
    "Committed outputs show what a user needs, not where the notebook last ran (/root/.cache/..., /work/...)"
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    found = [f"cell {i}: {m.group(0)[:80]}" for i, cell in enumerate(cells) for out in cell.get("outputs", [])
             for m in MACHINE_PATH.finditer(json.dumps(out))]
    assert not found, f"{nb.name}: outputs print machine paths (show a relative path or a name instead):\n" + \
                      "\n".join(found)


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    "`python scripts/build_docs.py --out <tmp>`, once for the module's tests"
    site = tmp_path_factory.mktemp("docs") / "site"
    proc = subprocess.run([sys.executable, "scripts/build_docs.py", "--out", str(site)], cwd=ROOT,
                          capture_output=True, text=True, timeout=1200)
    if proc.returncode != 0:
        failed = [line[:400] for line in proc.stderr.splitlines() if line.startswith("FAILED ")]
        pytest.fail("scripts/build_docs.py failed:\n" + "\n".join(failed or [proc.stderr[-4000:]]))
    return site


def test_site_static(built_site):
    "The HTML checks: pages, titles, sidebar, links and anchors, images, no traceback; the API entries are there"
    problems, facts = static_check(built_site)
    assert not problems, "docs site problems:\n" + "\n".join(problems)
    assert "pip install" in facts["index.html"]["text"] and "PPOTrainer" in facts["index.html"]["text"]
    assert "ppotrainer" in facts["ppo.html"]["ids"], "ppo.html lacks the PPOTrainer API entry"


def test_subtitles_render_markdown(built_site):
    "A chapter's `>` subtitle shows `code` as code, not as raw backticks (the control chapter's `[positive]`)"
    for page in expected_pages():
        subtitle = re.search(r'<div class="description">(.*?)</div>', (built_site / page).read_text(), re.S)
        assert subtitle is None or "`" not in subtitle.group(1), f"{page}: raw backticks in {subtitle.group(1)}"
    assert "<code>[positive]</code>" in (built_site / "control.html").read_text(), "control.html: subtitle"


def test_site_browser(built_site):
    "Every page in headless Chromium (console errors, images, page width, table rows), then three screenshots"
    chromium, driver = find_browser()
    if not chromium or not driver:
        pytest.skip("chromium or chromedriver is not installed (apt-get install chromium chromium-driver)")
    shots = Path(os.environ.get("DOCS_SCREENSHOTS", ROOT / "docs" / "screenshots"))
    pages = sorted(p.name for p in built_site.glob("*.html"))
    problems = browser_check(built_site, pages, screenshots=shots)
    assert not problems, "docs site problems in Chromium:\n" + "\n".join(problems)
    for name in ("home.png", "ppo.png", "results.png"):
        assert (shots / name).stat().st_size > 10_000, f"{shots / name} looks empty"


# --- Colab: the chapters from 07 on open in Colab and install the library themselves ---------------------------
def _sources(nb_path, kind, first=None):
    cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"][:first]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == kind]


@pytest.mark.parametrize("nb", COLAB_NBS, ids=lambda p: p.name)
def test_colab_badge(nb):
    url = (f"https://colab.research.google.com/github/{CFG['user']}/{CFG['repo']}/blob/{CFG['branch']}/"
           f"{CFG['nbs_path']}/{nb.name}")
    md = _sources(nb, "markdown", first=4)
    badge = re.compile(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]"
                       r"\(([^)]+)\)")
    found = [m.group(1) for s in md for m in badge.finditer(s)]
    assert found, f"{nb.name}: no Open in Colab badge in its first cells (see CONTRIBUTING.md, 'Colab')"
    assert url in found, f"{nb.name}: the badge points to {found}, expected {url}"
    title = next((s for s in md if re.search(r"^#\s", s, flags=re.M)), "")
    assert "colab-badge" not in title, f"{nb.name}: put the badge in its own cell: nbdev drops the title cell's rest"


@pytest.mark.parametrize("nb", COLAB_NBS, ids=lambda p: p.name)
def test_colab_install_cell(nb):
    code = [s for s in _sources(nb, "code") if not re.match(r"^\s*#\|\s*default_exp", s)]
    assert code, f"{nb.name}: no code cells"
    first = code[0]
    checks = (re.search(r"try:\s*(\n\s+)?import rlhf_imdb", first) and "except ImportError" in first) or \
        re.search(r"find_spec\(\s*['\"]rlhf_imdb['\"]\s*\)\s*is None", first)
    assert checks, (f"{nb.name}: the first code cell must install the library only when it is missing "
                    f"(`try: import rlhf_imdb` / `except ImportError:`, or `find_spec('rlhf_imdb') is None`):\n{first}")
    installs = re.finditer(r"(%pip install|!pip install|run_line_magic\(\s*['\"]pip['\"]|['\"]pip['\"],\s*"
                           r"['\"]install['\"])[^\n]*", first)
    assert any(re.search(r"rlhf_imdb|rlhf-imdb", m.group(0)) for m in installs), \
        f"{nb.name}: the first cell must pip install rlhf_imdb"
    assert "get_device(" in first, f"{nb.name}: the first cell must select the device with get_device()"
    assert "#| export" not in first, f"{nb.name}: the Colab cell must not be exported"

"""The docs: the offline site builds and every page is right in a real browser; README.md matches index.ipynb;
the experiment notebooks open in Colab.

The site is built once with the documented command, `python scripts/build_docs.py --out <tmp>`; `test_site_static` runs
`scripts/check_site.py`'s checks on its HTML (every notebook has its page, titles, sidebar, internal links and anchors,
images, no traceback shown) and `test_site_browser` runs them again in headless Chromium, which also sees failed
requests and JavaScript errors, and saves docs/screenshots/{home,ppo,experiment}.png ($DOCS_SCREENSHOTS elsewhere).
Notebooks without stored outputs are run for their pages (cached in _proc/_offline_docs/); DOCS_EXECUTE=never
renders stored outputs only, as quarto does. The browser test is skipped only when no Chromium is installed or it
cannot start on the machine (the skip quotes its stderr)."""
import json
import os
import re
import subprocess
import sys
import time
from configparser import ConfigParser
from pathlib import Path

import pytest

from conftest import NBS, ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from check_site import Chromium, check_site, expected_pages, find_chromium, static_check  # noqa: E402

SETTINGS = ConfigParser(delimiters=["="])
SETTINGS.read(ROOT / "settings.ini", encoding="utf-8")
CFG = SETTINGS["DEFAULT"]
EXPERIMENT_NBS = sorted(p for p in NBS.glob("*.ipynb") if re.match(r"^(0[7-9]|1[0-2])_", p.name))


def test_readme_up_to_date():
    proc = subprocess.run([sys.executable, "scripts/make_readme.py", "--check"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"README.md is stale: run `python scripts/make_readme.py`\n{proc.stdout[-4000:]}{proc.stderr[-2000:]}"


def test_page_names_follow_nbdev():
    "The offline pages get nbdev's (quarto's) file names, so links and the published site agree"
    from nbdev.doclinks import _nbpath2html
    for page, nb in expected_pages().items():
        assert page == _nbpath2html(Path(nb)).as_posix(), (page, nb)
    assert "index.html" in expected_pages(), "nbs/index.ipynb (the home page) is missing"


def test_static_check_finds_problems(tmp_path):
    "The checker itself: a page with a broken link, a broken anchor, a missing image and a traceback is caught"
    page = """<html><head><title>core – rlhf_imdb</title></head><body><nav class="sidebar"><a href="core.html">core</a></nav>
    <h1 id="core">Core</h1><a href="nowhere.html">x</a><a href="core.html#no-such-id">y</a><img src="figures/gone.png">
    <img src="https://img.shields.io/badge.svg"><pre class="nb-output nb-error">Traceback (most recent call last):</pre></body></html>"""
    (tmp_path / "core.html").write_text(page)
    problems, facts = static_check(tmp_path)
    text = "\n".join(problems)
    for expected in ("core.html: broken link nowhere.html", "broken anchor core.html#no-such-id", "image did not load: http://site.invalid/figures/gone.png",
                     "core.html: shows a Python traceback (1 error output(s))", "index.html: missing page for nbs/index.ipynb"):
        assert expected in text, (expected, problems)
    assert "shields.io" not in text, "pictures from other sites are not judged offline"
    assert facts["core.html"]["h1"] == "Core" and facts["core.html"]["sidebar"] == ["core.html"]


def test_browser_that_cannot_start_is_reported(tmp_path):
    "A Chromium that dies at start-up is retried with the fallback flags, then reported with its stderr"
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'FATAL: zygote could not fork' >&2\nexit 1\n")
    fake.chmod(0o755)
    (tmp_path / "site").mkdir()
    with pytest.raises(RuntimeError, match="Chromium did not start") as info:
        check_site(tmp_path / "site", exe=str(fake), log=lambda *a: None)
    assert str(info.value).count("zygote could not fork") == 3 and "--single-process" in str(info.value)


def test_browser_starts_with_high_fds():
    "The regression behind a red CI run: with many files open, the DevTools pipe fds are >= 10, which `sh` cannot redirect"
    chromium = find_chromium()
    if not chromium: pytest.skip("chromium is not installed")
    held = [open(os.devnull) for _ in range(20)]  # pushes new fds past 10, as in a long pytest process
    try:
        browser = Chromium(chromium)
        try: assert browser.evaluate("6 * 7") == 42
        finally: browser.close()
    finally:
        for f in held: f.close()


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    "`python scripts/build_docs.py --out <tmp>`, once for the module's tests: (site folder, pages.json, build seconds)"
    site = tmp_path_factory.mktemp("docs") / "site"
    start = time.time()
    execute = os.environ.get("DOCS_EXECUTE", "auto")  # auto: run the notebooks that have no stored outputs
    proc = subprocess.run([sys.executable, "scripts/build_docs.py", "--out", str(site), "--execute", execute], cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        failed = [l[:400] for l in (proc.stdout + proc.stderr).splitlines() if l.startswith("FAILED ")]
        pytest.fail("scripts/build_docs.py failed (its pages show the tracebacks):\n" + "\n".join(failed or [proc.stderr[-4000:]]))
    return site, json.loads((site / "pages.json").read_text()), time.time() - start


def test_site_static(built_site):
    "Every check that needs no browser, on the built HTML: pages, titles, sidebar, links and anchors, images, no traceback"
    site, pages, build_s = built_site
    assert [p["href"] for p in pages] == list(expected_pages()), "pages.json must list every notebook, in sidebar order"
    problems, facts = static_check(site)
    print(f"\ndocs: built {len(pages)} pages in {build_s:.0f}s")
    assert not problems, "docs site problems:\n" + "\n".join(problems)
    assert "pip install" in facts["index.html"]["text"] and "PPOTrainer" in facts["index.html"]["text"], "home page lacks install / example"
    assert "ppotrainer" in facts["ppo.html"]["ids"], "ppo.html lacks the PPOTrainer API entry"
    assert sum(p["figures"] for p in facts.values()) >= 10, "the site should show the notebooks' plots"


def test_site_browser(built_site):
    "The same checks in headless Chromium (requests that fail, images that do not decode, JavaScript errors) + screenshots"
    chromium = find_chromium()
    if not chromium: pytest.skip("chromium is not installed (apt-get install chromium): the browser half of the docs test needs it")
    site, pages, _ = built_site
    shots = Path(os.environ.get("DOCS_SCREENSHOTS", ROOT / "docs" / "screenshots"))
    start = time.time()
    try: problems, facts = check_site(site, screenshots=shots, exe=chromium, log=lambda *a: None)
    except RuntimeError as e:
        if "Chromium did not start" not in str(e): raise
        pytest.skip(f"{chromium} is installed but does not start on this machine (test_site_static ran the other checks): {e}")
    print(f"\ndocs: checked {len(pages)} pages in Chromium in {time.time() - start:.0f}s")
    assert not problems, "docs site problems:\n" + "\n".join(problems)
    for name in ("home.png", "ppo.png", "experiment.png"):
        assert (shots / name).stat().st_size > 10_000, f"{shots / name} looks empty"
    assert "ppotrainer" in facts["ppo.html"]["ids"], "ppo.html lacks the PPOTrainer API entry"


# --- Colab: every experiment notebook (07-12) opens in Colab and installs the library itself ---------------------
def _cells(nb_path):
    return json.loads(nb_path.read_text(encoding="utf-8"))["cells"]


def _src(cell): return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("nb", EXPERIMENT_NBS, ids=lambda p: p.name)
def test_colab_badge(nb):
    url = f"https://colab.research.google.com/github/{CFG['user']}/{CFG['repo']}/blob/{CFG['branch']}/{CFG['nbs_path']}/{nb.name}"
    md = [_src(c) for c in _cells(nb)[:4] if c["cell_type"] == "markdown"]
    badge = re.compile(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]\(([^)]+)\)")
    found = [m.group(1) for s in md for m in badge.finditer(s)]
    assert found, f"{nb.name}: no Open in Colab badge in its first cells (see CONTRIBUTING.md, 'Colab')"
    assert url in found, f"{nb.name}: the badge points to {found}, expected {url}"
    title = next((s for s in md if re.search(r"^#\s", s, flags=re.M)), "")
    assert "colab-badge" not in title, f"{nb.name}: put the badge in its own cell: nbdev drops the title cell's other lines"


@pytest.mark.parametrize("nb", EXPERIMENT_NBS, ids=lambda p: p.name)
def test_colab_install_cell(nb):
    code = [_src(c) for c in _cells(nb) if c["cell_type"] == "code"]
    code = [s for s in code if not re.match(r"^\s*#\|\s*default_exp", s)]  # 07 starts with its default_exp cell
    assert code, f"{nb.name}: no code cells"
    first = code[0]
    checks = (re.search(r"try:\s*(\n\s+)?import rlhf_imdb", first) and "except ImportError" in first) or \
        re.search(r"find_spec\(\s*['\"]rlhf_imdb['\"]\s*\)\s*is None", first)
    assert checks, (f"{nb.name}: the first code cell must install the library only when it is missing "
                    f"(`try: import rlhf_imdb` / `except ImportError:`, or `find_spec('rlhf_imdb') is None`):\n{first}")
    installs = re.finditer(r"(%pip install|!pip install|run_line_magic\(\s*['\"]pip['\"]|['\"]pip['\"],\s*['\"]install['\"])[^\n]*", first)
    assert any(re.search(r"rlhf_imdb|rlhf-imdb", m.group(0)) for m in installs), f"{nb.name}: the first cell must pip install rlhf_imdb"
    assert "get_device(" in first, f"{nb.name}: the first cell must select the device with get_device()"
    assert "#| export" not in first, f"{nb.name}: the Colab cell must not be exported"


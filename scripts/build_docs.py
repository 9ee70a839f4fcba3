#!/usr/bin/env python3
"""Build the rlhf_imdb documentation site offline, without quarto.

    python scripts/build_docs.py                 # -> _docs/ (settings.ini doc_path, where nbdev_docs writes too)
    python scripts/build_docs.py --out _site --serve 8000   # build, then preview on http://127.0.0.1:8000

Where quarto exists, `nbdev_docs` builds the site; this script builds the same pages (same file names, same notebook
order, same nbdev processing) on machines where quarto cannot be installed. For every notebook in nbs/:

1. outputs: notebooks are committed without outputs, so a notebook whose code cells have no stored outputs is run
   top to bottom first, exactly as `nbdev_test` runs it (cells flagged `notest`/`slow`/`gpu` or `#| eval: false`
   are skipped), so pages show the tiny-scale tables and plots. Results are cached in `_proc/_offline_docs/`, keyed
   by the notebook, the library source and settings.ini. `--execute never` renders stored outputs only.
2. nbdev processing: nbdev's own `FilterDefaults` processors (those `nbdev_proc_nbs` runs before quarto): frontmatter
   from the H1 title, `show_doc` API entries for every exported symbol, `#| hide` / `#| export` cells removed,
   backticked symbols linked to their docs.
3. rendering: markdown (cells and `show_doc` output) through pandoc -- the markdown dialect quarto itself uses, with
   LaTeX as MathML, which browsers draw without any script or network -- code through Pygments, outputs (text,
   HTML tables, PNG/SVG plots written as files under figures/) into one Jinja2 layout: sidebar in notebook
   order, "on this page" contents, previous/next links. Without pandoc, markdown falls back to nbconvert's mistune.

Exit status 1 if any notebook failed to run or to process (its page is still written, showing the traceback).
"""
from __future__ import annotations

import argparse
import base64
import concurrent.futures as cf
import hashlib
import html
import json
import multiprocessing
import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
from configparser import ConfigParser
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THEME = Path(__file__).resolve().parent / "docs_theme"
CACHE_VERSION = "2"  # bump when the execution/processing step changes, to drop old cache entries
MIME_ORDER = ["text/html", "image/svg+xml", "image/png", "image/jpeg", "image/gif", "text/markdown", "text/latex", "text/plain"]
MARKER = "<!-- NBCELL {} -->"
_re_marker = re.compile(r"<!-- NBCELL (\d+) -->")
_re_directive = re.compile(r"^\s*#\|\s*([\w-]+)\s*:\s*(.*?)\s*$")


def read_settings(root: Path = ROOT) -> dict:
    "settings.ini [DEFAULT] as a dict (read directly, so this works before nbdev is imported)"
    config = ConfigParser(delimiters=["="])
    config.read(root / "settings.ini", encoding="utf-8")
    return dict(config["DEFAULT"])


def html_name(rel: Path) -> str:
    "The page a notebook becomes: nbdev's rule (`00_core.ipynb` -> `core.html`), so links match the quarto site"
    return rel.with_name(re.sub(r"^\d+[a-zA-Z0-9]*_", "", rel.name.lower())).with_suffix(".html").as_posix()


def list_notebooks(nbs: Path) -> list[Path]:
    "Notebooks in nbs/ (recursively; not `_` or `.` folders or files), index first, then in file-name order"
    found = [p for p in nbs.rglob("*.ipynb") if not any(part.startswith((".", "_")) for part in p.relative_to(nbs).parts)]
    return sorted(found, key=lambda p: (p.relative_to(nbs).as_posix() != "index.ipynb", p.relative_to(nbs).as_posix()))


def chapter_number(rel: Path) -> str:
    m = re.match(r"^(\d+)[a-zA-Z0-9]*_", rel.name)
    return m.group(1) if m else ""


def has_outputs(nb: dict) -> bool:
    return any(c.get("outputs") for c in nb.get("cells", []) if c.get("cell_type") == "code")


def source_hash(settings: dict, root: Path = ROOT) -> str:
    "Hash of everything a notebook's outputs depend on besides the notebook: library source, settings, this builder"
    from importlib.metadata import version
    h = hashlib.sha256(f"{CACHE_VERSION} nbdev {version('nbdev')} execnb {version('execnb')}".encode())
    lib = root / settings.get("lib_path", settings["lib_name"])
    for p in sorted(lib.rglob("*.py")) + [root / "settings.ini"]:
        if p.is_file(): h.update(p.relative_to(root).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------------------------------
# Step 1 + 2, in worker processes: run the notebook when it has no outputs, then apply nbdev's docs processors
# ---------------------------------------------------------------------------------------------------------------------
def _execute(nb, path: Path, skip_flags: set) -> str | None:
    "Run `nb` in place as `nbdev_test` does (same skipped cells, cwd = the notebook's folder); the error text or None"
    from execnb.shell import CaptureShell
    from nbdev.process import extract_directives

    current = [None]

    def no_eval(cell):
        if cell.cell_type != "code": return True
        if "nbdev_export" + "(" in cell.source: return True
        directives = extract_directives(cell, remove=False)
        if directives.get("eval:", [""])[0].lower() == "false": return True
        if skip_flags & directives.keys(): return True
        current[0] = cell
        return False

    shell = CaptureShell(path)
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        shell.run_all(nb, exc_stop=True, preproc=no_eval)
        return None
    except BaseException as e:  # noqa: BLE001 -- the page shows the traceback, the build reports it
        cell = current[0]
        where = f"cell {cell.idx_} ({cell.source.strip().splitlines()[0][:60]!r}): " if cell is not None and cell.source.strip() else ""
        return f"{where}{type(e).__name__}: {e}"
    finally:
        os.chdir(cwd)


def _title_cell_warning(nb) -> str | None:
    "nbdev (and quarto) keep only the H1 and `>` lines of the title cell: say so when it holds more"
    for cell in nb.cells:
        if cell.cell_type != "markdown": continue
        if not re.search(r"^#\s+\S", cell.source, flags=re.M): return None
        extra = [l for l in cell.source.splitlines() if l.strip() and not re.match(r"^(#\s|>\s|-\s+\S.*:)", l)]
        return f"title cell has text besides the H1 and `>` subtitle, which nbdev drops: {extra[0][:60]!r}" if extra else None
    return None


def cache_files(job: dict) -> tuple[bool, Path, Path]:
    "Whether the notebook is run for its page; the cache files of its run and of its processed page"
    path = Path(job["path"])
    data = path.read_bytes()
    run = job["execute"] == "always" or (job["execute"] == "auto" and not has_outputs(json.loads(data)))
    cache_dir, name = Path(job["cache_dir"]), Path(job["rel"]).with_suffix("").as_posix().replace("/", "__")
    key = hashlib.sha256(data + job["lib_hash"].encode()).hexdigest()[:20]
    ran_file = cache_dir / f"{name}.run.{key}.ipynb"                         # the notebook with its run outputs
    page_file = cache_dir / f"{name}.page.{key}{'.run' if run else ''}.json"  # ... and after nbdev's processing
    return run, ran_file, page_file


def process_notebook(job: dict) -> dict:
    "Worker: one notebook -> processed notebook dict (+ timing and errors). Runs in its own process."
    os.chdir(job["root"])
    os.environ["IN_TEST"] = "1"  # as nbdev_test and nbdev's docs processing set it
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("MPLBACKEND", "agg")
    # notebooks run side by side: one BLAS/OpenMP pool per core, not per notebook (oversubscribed torch threads
    # spin-wait on each other; a tiny PPO step measured 45x slower on 2 busy cores)
    os.environ.setdefault("OMP_NUM_THREADS", str(job["threads"]))
    from execnb.nbio import nb2dict, read_nb, write_nb
    from nbdev.processors import FilterDefaults

    path, start = Path(job["path"]), time.time()
    result = dict(path=job["path"], executed=False, cached=False, error=None, warnings=[])
    nb = read_nb(path)
    if (w := _title_cell_warning(nb)): result["warnings"].append(w)
    run, ran_file, page_file = cache_files(job)
    cache_dir, name = ran_file.parent, ran_file.name.split(".")[0]

    def keep(file):  # a new cache entry replaces this notebook's older ones
        for old in cache_dir.glob(f"{name}.{file.name.split('.')[1]}.*"): old.unlink()
        cache_dir.mkdir(parents=True, exist_ok=True)
        return file

    fresh = job["execute"] == "always"  # --execute always: run again, whatever the cache holds
    if not job.get("write_outputs") and not fresh and page_file.exists():
        result.update(nb=json.loads(page_file.read_text(encoding="utf-8")), cached=True, seconds=0.0)
        return result
    if run:
        if ran_file.exists() and not fresh:
            nb, result["cached"] = read_nb(ran_file), True
            nb["path_"] = str(path)
        else:
            result["executed"] = True
            result["error"] = _execute(nb, path, set(job["skip_flags"]))
            if result["error"] is None: write_nb(nb, keep(ran_file))
    if job.get("write_outputs"):  # for quarto: the run outputs go into the notebook itself, unprocessed
        if run and not result["error"]: write_nb(nb, path)
    else:
        try: FilterDefaults()(nb)
        except BaseException as e:  # noqa: BLE001
            import traceback
            result["error"] = result["error"] or f"nbdev processing failed: {type(e).__name__}: {e}"
            nb.cells.append(dict(cell_type="code", source="", metadata={}, execution_count=None, outputs=[dict(
                output_type="error", ename=type(e).__name__, evalue=str(e),
                traceback=traceback.format_exception(type(e), e, e.__traceback__))]))
        if result["error"] is None: keep(page_file).write_text(json.dumps(nb2dict(nb)), encoding="utf-8")
    result["nb"] = nb2dict(nb)
    result["seconds"] = round(time.time() - start, 1)
    return result


# ---------------------------------------------------------------------------------------------------------------------
# Step 3: rendering
# ---------------------------------------------------------------------------------------------------------------------
class Markdown:
    "Markdown -> HTML for many chunks at once: one pandoc call per page (MathML math), or mistune without pandoc"

    def __init__(self, pandoc: str | None):
        self.pandoc = pandoc

    def _pandoc(self, text: str) -> str:
        cmd = [self.pandoc, "-f", "markdown-yaml_metadata_block", "-t", "html5", "--mathml", "--no-highlight", "--wrap=none"]
        return subprocess.run(cmd, input=text, capture_output=True, text=True, check=True).stdout

    def _mistune(self, text: str) -> str:
        from nbconvert.filters.markdown_mistune import markdown2html_mistune
        return markdown2html_mistune(text)

    def convert(self, chunks: list[str]) -> list[str]:
        if not chunks: return []
        one = self._pandoc if self.pandoc else self._mistune
        joined = "\n\n".join(f"{MARKER.format(i)}\n\n{c}" for i, c in enumerate(chunks))
        parts = _re_marker.split(one(joined))
        if len(parts) == 2 * len(chunks) + 1:  # ['', '0', html0, '1', html1, ...]
            return [parts[2 * i + 2] for i in range(len(chunks))]
        return [one(c) for c in chunks]  # a chunk swallowed a marker (e.g. an unclosed code fence): one call each


def highlight(code: str, language: str = "python") -> str:
    from pygments import highlight as _hl
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound
    try: lexer = get_lexer_by_name(language or "text")
    except ClassNotFound: lexer = get_lexer_by_name("text")
    return _hl(code, lexer, HtmlFormatter(cssclass="highlight", wrapcode=True))


def split_directives(source: str) -> tuple[dict, str]:
    "Leading quarto-style `#| key: value` lines (kept by nbdev's processing) -> dict, and the code without them"
    lines, directives = source.splitlines(), {}
    while lines and (m := _re_directive.match(lines[0])):
        directives[m.group(1)] = m.group(2).strip("'\"")
        lines.pop(0)
    return directives, "\n".join(lines).strip("\n")


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _collapse_cr(text: str) -> str:
    "Progress bars redraw with carriage returns: keep what a terminal would show last on each line"
    return "\n".join(line.rstrip("\r").split("\r")[-1] for line in text.split("\n"))


@dataclass
class Page:
    rel: Path                    # notebook path relative to nbs/
    href: str                    # page file name in the site
    title: str = ""
    description: str = ""
    number: str = ""
    nb: dict | None = None
    error: str | None = None
    warnings: list = field(default_factory=list)
    seconds: float = 0.0
    executed: bool = False
    cached: bool = False
    depth_prefix: str = ""       # "../" per folder level of the page, for links to site-root files


class PageRenderer:
    "Turns one processed notebook into the HTML body of its page; figures go to `out/figures/`"

    def __init__(self, page: Page, out: Path, nbs: Path, markdown: Markdown):
        self.page, self.out, self.nbs, self.md = page, out, nbs, markdown
        self.chunks: list[str] = []
        self.n_figures = 0

    def _md(self, text: str) -> str:
        self.chunks.append(text)
        return f"\x00MD{len(self.chunks) - 1}\x00"

    def _figure(self, data: str, mime: str, meta: dict) -> str:
        ext = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}[mime]
        self.n_figures += 1
        name = f"figures/{Path(self.page.href).with_suffix('').as_posix().replace('/', '_')}-{self.n_figures}.{ext}"
        (self.out / name).parent.mkdir(parents=True, exist_ok=True)
        (self.out / name).write_bytes(base64.b64decode(_text(data)))
        width = (meta.get(mime) or {}).get("width") if isinstance(meta.get(mime), dict) else meta.get("width")
        size = f' width="{int(width)}"' if width else ""
        return f'<img src="{self.page.depth_prefix}{name}"{size} alt="figure {self.n_figures}">'

    def output(self, o: dict, directives: dict) -> str:
        from nbconvert.filters.ansi import ansi2html
        kind = o.get("output_type")
        if kind == "stream":
            text = _collapse_cr(_text(o.get("text", ""))).strip("\n")
            if not text.strip(): return ""
            return f'<pre class="nb-output nb-stream nb-{o.get("name", "stdout")}">{ansi2html(text)}</pre>'
        if kind == "error":
            tb = o.get("traceback") or []
            tb = "\n".join(line.rstrip("\n") for line in tb) if isinstance(tb, list) else str(tb)
            tb = tb or f"{o.get('ename')}: {o.get('evalue')}"
            return f'<pre class="nb-output nb-error">{ansi2html(tb)}</pre>'
        data, meta = o.get("data", {}), o.get("metadata", {})
        for mime in MIME_ORDER:
            if mime not in data: continue
            value = data[mime]
            if mime == "text/html": return f'<div class="nb-output nb-html">{_text(value)}</div>'
            if mime == "image/svg+xml": return f'<div class="nb-output nb-figure">{_text(value)}</div>'
            if mime.startswith("image/"): return f'<div class="nb-output nb-figure">{self._figure(value, mime, meta)}</div>'
            if mime == "text/markdown":
                return f'<div class="nb-output nb-markdown">{self._md(_text(value))}</div>'
            if mime == "text/latex": return f'<div class="nb-output nb-markdown">{self._md(_text(value))}</div>'
            return f'<pre class="nb-output nb-text">{ansi2html(_text(value))}</pre>'
        return ""

    def cell(self, cell: dict) -> str:
        source = _text(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            for name, files in (cell.get("attachments") or {}).items():  # pasted images live inside the notebook
                mime, data = next(iter(files.items()))
                source = source.replace(f"attachment:{name}", f"data:{mime};base64,{_text(data)}")
            return f'<div class="nb-cell nb-md">{self._md(source)}</div>' if source.strip() else ""
        if cell.get("cell_type") != "code": return ""
        directives, code = split_directives(source)
        if directives.get("include") == "false": return ""
        parts = []
        if code.strip() and directives.get("echo") != "false":
            block = highlight(code)
            if directives.get("code-fold") in ("true", "show"):
                summary = html.escape(directives.get("code-summary", "Code"))
                block = f'<details class="nb-fold"{" open" if directives["code-fold"] == "show" else ""}><summary>{summary}</summary>{block}</details>'
            parts.append(f'<div class="nb-input">{block}</div>')
        if directives.get("output") != "false":
            outs = [self.output(o, directives) for o in cell.get("outputs", [])]
            outs = [o for o in outs if o]
            if outs: parts.append('<div class="nb-outputs">' + "".join(outs) + "</div>")
        if not parts: return ""
        showdoc = " nb-showdoc" if code.lstrip().startswith("show_doc(") else ""
        return f'<div class="nb-cell nb-code{showdoc}">' + "".join(parts) + "</div>"

    def body(self) -> str:
        cells = self.page.nb.get("cells", [])
        if cells and cells[0].get("cell_type") == "raw": cells = cells[1:]  # nbdev's frontmatter cell
        html_cells = "\n".join(filter(None, (self.cell(c) for c in cells)))
        converted = self.md.convert(self.chunks)
        return re.sub(r"\x00MD(\d+)\x00", lambda m: converted[int(m.group(1))], html_cells)


def frontmatter(nb: dict) -> dict:
    import yaml
    cells = nb.get("cells", [])
    if cells and cells[0].get("cell_type") == "raw":
        m = re.match(r"^---\s*\n(.*?)\n---", _text(cells[0].get("source", "")).strip(), flags=re.S)
        if m:
            try: return yaml.safe_load(m.group(1)) or {}
            except yaml.YAMLError: return {}
    return {}


class _Headings(HTMLParser):
    "Collects (level, id, text) of h2/h3 elements for the 'on this page' list"

    def __init__(self):
        super().__init__()
        self.items, self._cur = [], None

    def handle_starttag(self, tag, attrs):
        if tag in ("h2", "h3") and dict(attrs).get("id"): self._cur = [int(tag[1]), dict(attrs)["id"], ""]

    def handle_data(self, data):
        if self._cur is not None: self._cur[2] += data

    def handle_endtag(self, tag):
        if tag in ("h2", "h3") and self._cur is not None:
            self.items.append(tuple(self._cur))
            self._cur = None


def postprocess(body: str, page: Page, pages_by_nb: dict, site_url: str, out: Path, nbs: Path) -> str:
    "Links to notebooks and to the published site become relative page links; local images are copied; MathML fix"
    prefix = page.depth_prefix

    def fix_href(m):
        attr, url = m.group(1), html.unescape(m.group(2))
        if site_url and url.startswith(site_url):  # nbdev's symbol links point at the published site
            return f'{attr}="\x01{html.escape(prefix + url[len(site_url):].lstrip("/"))}\x01"'  # resolved in fix_anchors
        elif not re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", url):
            target, _, anchor = url.partition("#")
            if target.endswith(".ipynb"):
                rel = ((nbs / page.rel).parent / target).resolve()
                other = pages_by_nb.get(rel)
                url = prefix + (other.href if other else html_name(Path(target))) + (f"#{anchor}" if anchor else "")
        return f'{attr}="{html.escape(url)}"'

    body = re.sub(r'(href)="([^"]*)"', fix_href, body)

    def fix_src(m):
        url = html.unescape(m.group(1))
        if re.match(r"^[a-z][a-z0-9+.-]*:|^/", url) or url.startswith(prefix + "figures/"): return m.group(0)
        src = ((nbs / page.rel).parent / url.split("#")[0].split("?")[0]).resolve()
        if src.is_file() and nbs.resolve() in src.parents:  # an image next to the notebooks: copy it along
            dest = out / src.relative_to(nbs.resolve())
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
        return m.group(0)

    body = re.sub(r'<img src="([^"]*)"', fix_src, body)
    # the "Open in Colab" badge image lives on Google's site: the offline site carries its own
    body = body.replace('src="https://colab.research.google.com/assets/colab-badge.svg"', f'src="{prefix}colab-badge.svg"')
    # pandoc writes \mathrm{KL} as <mstyle mathvariant="normal">; MathML Core browsers read mathvariant only on <mi>
    body = re.sub(r'<mstyle mathvariant="normal">(.*?)</mstyle>',
                  lambda m: m.group(1).replace("<mi>", '<mi mathvariant="normal">'), body, flags=re.S)

    def fence(m):  # fenced code inside markdown: same Pygments colours as code cells
        return highlight(html.unescape(m.group(2)), m.group(1) or "text")

    body = re.sub(r'<pre class="(?:sourceCode )?([\w+-]*)"><code[^>]*>(.*?)</code></pre>', fence, body, flags=re.S)
    body = re.sub(r"<pre><code>(.*?)</code></pre>", lambda m: highlight(html.unescape(m.group(1)), "text"), body, flags=re.S)
    return body


def fix_anchors(body: str, page: Page, ids: dict[str, set]) -> str:
    """Links that nbdev made from backticked names (`_helper`, `Class.method`) point at `page.html#name` even when the
    name has no API entry there (private names, undocumented methods): those keep the page and lose the anchor."""
    def resolve(m):
        url = html.unescape(m.group(1))
        target, _, anchor = url.partition("#")
        target_page = posixpath.normpath(posixpath.join(posixpath.dirname(page.href), target))
        if anchor and anchor not in ids.get(target_page, ()): url = target
        return '"' + html.escape(url) + '"'
    return re.sub(r'"\x01([^"\x01]*)\x01"', resolve, body)


# ---------------------------------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------------------------------
def build(out: Path, execute: str = "auto", jobs: int = 2, only: list[str] | None = None, write_outputs: bool = False,
          quiet: bool = False, root: Path = ROOT) -> list[Page]:
    settings = read_settings(root)
    nbs = root / settings.get("nbs_path", "nbs")
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    paths = list_notebooks(nbs)
    if only: paths = [p for p in paths if any(o in p.name for o in only)]
    pages = []
    for p in paths:
        rel = p.relative_to(nbs)
        page = Page(rel=rel, href=html_name(rel), number=chapter_number(rel))
        page.depth_prefix = "../" * (len(Path(page.href).parts) - 1)
        pages.append(page)
    if not pages: raise SystemExit(f"no notebooks in {nbs}")

    lib_hash = source_hash(settings, root)
    jobs_in = [dict(path=str(nbs / pg.rel), rel=pg.rel.as_posix(), root=str(root), execute=execute,
                    cache_dir=str(root / "_proc" / "_offline_docs"), lib_hash=lib_hash,  # "_": quarto skips it
                    skip_flags=settings.get("tst_flags", "").split(), write_outputs=write_outputs,
                    threads=max(1, (os.cpu_count() or 1) // max(1, jobs))) for pg in pages]
    by_path = {pg.rel.as_posix(): pg for pg in pages}
    start = time.time()
    ctx = multiprocessing.get_context("spawn")
    kwargs = dict(max_tasks_per_child=1) if sys.version_info >= (3, 11) else {}  # a fresh process per notebook
    done = []  # pages whose processed notebook is cached need no worker at all
    for j in jobs_in:
        page_file = cache_files(j)[2]
        if not write_outputs and execute != "always" and page_file.exists():
            done.append((j, dict(nb=json.loads(page_file.read_text(encoding="utf-8")), error=None, warnings=[],
                                 seconds=0.0, executed=False, cached=True)))
    todo = [j for j in jobs_in if j not in [d[0] for d in done]]
    with cf.ProcessPoolExecutor(max_workers=max(1, min(jobs, len(todo) or 1)), mp_context=ctx, **kwargs) as pool:
        futures = {pool.submit(process_notebook, j): j for j in todo}
        for fut in [*done, *cf.as_completed(futures)]:
            rel = fut[0]["rel"] if isinstance(fut, tuple) else futures[fut]["rel"]
            pg = by_path[rel]
            try: res = fut[1] if isinstance(fut, tuple) else fut.result()
            except BaseException as e:  # noqa: BLE001 -- a crashed worker: the page still exists and shows it
                res = dict(nb=dict(cells=[]), error=f"worker crashed: {type(e).__name__}: {e}", warnings=[], seconds=0,
                           executed=False, cached=False)
                res["nb"]["cells"].append(dict(cell_type="code", source="", outputs=[dict(
                    output_type="error", ename=type(e).__name__, evalue=str(e),
                    traceback=[f"Traceback (most recent call last):\n  building {rel}\n{type(e).__name__}: {e}"])]))
            pg.nb, pg.error, pg.warnings = res["nb"], res["error"], res["warnings"]
            pg.seconds, pg.executed, pg.cached = res["seconds"], res["executed"], res["cached"]
            how = "ran" if pg.executed else ("cached" if pg.cached else "stored outputs")
            say(f"  {rel:<34} {how:<15} {pg.seconds:6.1f}s" + (f"  ERROR {pg.error.splitlines()[0]}" if pg.error else ""))
            for w in pg.warnings: say(f"    warning: {w}")
    say(f"notebooks processed in {time.time() - start:.1f}s")
    if write_outputs: return pages

    pandoc = shutil.which("pandoc")
    if not pandoc: say("warning: pandoc not found (apt-get install pandoc): markdown via mistune, LaTeX left as text")
    markdown = Markdown(pandoc)
    for pg in pages:
        fm = frontmatter(pg.nb)
        pg.title = str(fm.get("title") or pg.rel.stem)
        pg.description = str(fm.get("description") or "")

    from jinja2 import Environment, FileSystemLoader, select_autoescape
    env = Environment(loader=FileSystemLoader(str(THEME)), autoescape=select_autoescape(["html"]))
    template = env.get_template("page.html")
    if out.exists():  # replaced whole; refuse to wipe a folder that is not a site
        is_site = (out / "pages.json").exists() or out == (root / settings.get("doc_path", "_docs")).resolve()
        if not is_site and any(out.iterdir()) or out in (root.resolve(), *root.resolve().parents):
            raise SystemExit(f"--out {out} exists and is not a site built here: choose an empty or new folder")
        shutil.rmtree(out)
    (out / "figures").mkdir(parents=True)
    for asset in ("style.css", "colab-badge.svg"): shutil.copy2(THEME / asset, out / asset)
    from pygments.formatters import HtmlFormatter
    (out / "pygments.css").write_text(HtmlFormatter(style="friendly").get_style_defs(".highlight"), encoding="utf-8")
    site_url = (settings.get("doc_host", "") + settings.get("doc_baseurl", "")).rstrip("/") + "/"
    pages_by_nb = {(nbs / pg.rel).resolve(): pg for pg in pages}
    git_url, branch = settings.get("git_url", ""), settings.get("branch", "main")
    bodies, ids = {}, {}
    for pg in pages:
        bodies[pg.href] = postprocess(PageRenderer(pg, out, nbs, markdown).body(), pg, pages_by_nb, site_url, out, nbs)
        ids[pg.href] = set(re.findall(r'\bid="([^"]+)"', bodies[pg.href]))
    for i, pg in enumerate(pages):
        body = fix_anchors(bodies[pg.href], pg, ids)
        toc = _Headings()
        toc.feed(body)
        dest = out / pg.href
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(template.render(
            page=pg, pages=pages, body=body, toc=toc.items, prefix=pg.depth_prefix,
            prev=pages[i - 1] if i > 0 else None, next=pages[i + 1] if i + 1 < len(pages) else None,
            site_title=settings.get("title", settings["lib_name"]), version=settings.get("version", ""),
            description=settings.get("description", ""), git_url=git_url,
            source_url=f"{git_url}/blob/{branch}/{settings.get('nbs_path', 'nbs')}/{pg.rel.as_posix()}" if git_url else "",
        ), encoding="utf-8")
    (out / ".nojekyll").write_text("")
    (out / "pages.json").write_text(json.dumps([dict(href=p.href, title=p.title, notebook=p.rel.as_posix())
                                                for p in pages], indent=1), encoding="utf-8")
    say(f"site: {len(pages)} pages in {out} ({time.time() - start:.1f}s)")
    return pages


def serve(out: Path, port: int):
    import functools
    import http.server
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        print(f"serving {out} on http://127.0.0.1:{httpd.server_address[1]}/ (Ctrl-C stops)", flush=True)
        try: httpd.serve_forever()
        except KeyboardInterrupt: pass


def main(argv=None):
    settings = read_settings()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / settings.get("doc_path", "_docs"), help="output folder (default: %(default)s)")
    ap.add_argument("--execute", choices=["auto", "always", "never"], default="auto",
                    help="run notebooks before rendering: auto = those without stored outputs, reusing cached runs "
                         "(default); always = run every notebook again")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="notebooks processed in parallel")
    ap.add_argument("--only", action="append", help="build only notebooks whose file name contains this (repeatable)")
    ap.add_argument("--write-outputs", action="store_true",
                    help="instead of a site: run notebooks without outputs and save the outputs into nbs/ "
                         "(the deploy workflow does this before nbdev_docs, so the quarto site shows them too)")
    ap.add_argument("--serve", type=int, nargs="?", const=8000, metavar="PORT", help="serve the site on 127.0.0.1 after building")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    pages = build(args.out.resolve(), execute=args.execute, jobs=args.jobs, only=args.only,
                  write_outputs=args.write_outputs, quiet=args.quiet)
    failed = [p for p in pages if p.error]
    for p in failed:  # one line each: the error and the first line of the cell that raised it
        lines = [l.strip() for l in p.error.splitlines() if l.strip()]
        print(f"FAILED {p.rel}: {' | '.join(lines[:2])[:300]}", file=sys.stderr)
    if args.serve is not None and not args.write_outputs: serve(args.out.resolve(), args.serve)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Build the documentation site offline: nbdev's notebook processing, then nbconvert's HTML.

    python scripts/build_docs.py [--out _docs] [--jobs 2]     # then: python -m http.server -d _docs

Why these tools: `nbdev_docs` needs quarto; this needs only the [dev] extra. It runs nbdev_docs' own first step,
`nbdev.serve.proc_nbs` (nbdev's docs processors, cached in _proc/: title and subtitle from the H1, `#| hide` cells
dropped, `show_doc` entries run, names linked), then nbconvert's HTMLExporter with its `lab` template plus a sidebar
(scripts/docs_theme/). latex2mathml turns LaTeX into MathML, which browsers draw offline without a script. Pages keep
nbdev's names (nbs/02_ppo.ipynb -> ppo.html) and show the stored outputs; nothing else runs.
"""
from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import sys
from pathlib import Path

from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]
THEME = Path(__file__).resolve().parent / "docs_theme"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def notebooks(nbs: Path) -> dict[str, Path]:
    "page -> notebook, index first, then by file name; nbdev's notebooks (no `_`/`.` names) and page names"
    from nbdev.doclinks import _nbpath2html, nbglob
    paths = sorted(nbglob(nbs, as_path=True), key=lambda p: (p.name != "index.ipynb", p.relative_to(nbs).as_posix()))
    return {_nbpath2html(p.relative_to(nbs)).as_posix(): p for p in paths}  # nbs/02_ppo.ipynb -> ppo.html


def mathml(tex: str, display: str) -> str:
    "LaTeX as MathML; the TeX as code where latex2mathml cannot read it"
    from latex2mathml.converter import convert
    try:
        return convert(tex, display=display)
    except Exception:  # noqa: BLE001
        return f"<code>{html.escape(tex)}</code>"


class Renderer(IPythonRenderer):
    "nbconvert's markdown renderer, with math as MathML and lower-case heading ids (the anchors nbdev links to)"

    def block_math(self, body: str) -> str:
        return mathml(body, "block")

    def inline_math(self, body: str) -> str:
        return mathml(body, "inline")

    def heading(self, text: str, level: int, **attrs) -> str:
        tag = super().heading(text, level, **attrs)
        return re.sub(r'(id="|href="#)([^"]*)', lambda m: m.group(1) + m.group(2).lower(), tag)


class DocsExporter(HTMLExporter):
    "HTMLExporter with the renderer above; quarto's attributes after show_doc's `[source](url)` link dropped"

    @pass_context
    def markdown2html(self, context, source):
        renderer = Renderer(escape=False, attachments=context.get("cell", {}).get("attachments", {}))
        return MarkdownWithMath(renderer=renderer).render(re.sub(r"\]\(([^)\s]+)\)\{[^}\n]*\}", r"](\1)", source))


def split_frontmatter(nb) -> dict:
    "Take nbdev's frontmatter (the raw `---` cell its processors put first) out of `nb`; its fields"
    import yaml
    match = re.match(r"^---\n(.*?)\n---", nb.cells[0].source.strip(), flags=re.S) if nb.cells else None
    if not match or nb.cells[0].cell_type != "raw":
        return {}
    nb.cells.pop(0)
    return yaml.safe_load(match.group(1)) or {}


def apply_directives(nb) -> None:
    "Quarto's cell options, which nbdev's processors leave in the code: `#| include/echo/output: false`"
    for cell in nb.cells:
        lines = cell.source.splitlines()
        while cell.cell_type == "code" and lines and lines[0].startswith("#|"):
            key, _, value = (part.strip().lower() for part in lines.pop(0)[2:].partition(":"))
            if value == "false" and key in ("echo", "include"):
                cell.metadata.setdefault("transient", {})["remove_source"] = True
            if value == "false" and key in ("output", "include"):
                cell.outputs = []
        cell.source = "\n".join(lines)


def drop_missing_anchors(bodies: dict) -> dict:
    "nbdev links every backticked name, documented or not: keep the page and drop an anchor it does not have"
    ids = {page: set(re.findall(r'\sid="([^"]+)"', body)) for page, body in bodies.items()}

    def fix(match):
        page, anchor = match.group(1), match.group(2)
        return f'href="{page}"' if page in ids and anchor not in ids[page] else match.group(0)
    return {page: re.sub(r'href="([^"#:]+\.html)#([^"]+)"', fix, body) for page, body in bodies.items()}


def write_site(out: Path, bodies: dict) -> None:
    "Replace `out` with the pages and the theme's assets; refuse to wipe a folder that is not a site"
    if out.exists() and any(out.iterdir()) and not (out / "index.html").exists():
        raise SystemExit(f"--out {out}: not empty and not a site built here; choose an empty or new folder")
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(THEME, out, ignore=shutil.ignore_patterns("*.j2", "*.json"))
    for page, body in bodies.items():
        (out / page).write_text(body, encoding="utf-8")


def build(out: Path, jobs: int = 2) -> None:
    "Build the site into `out`, which is replaced whole"
    import nbformat
    from nbdev.config import get_config
    from nbdev.serve import proc_nbs
    os.chdir(ROOT)  # nbdev reads settings.ini from the working directory
    cfg = get_config()
    os.environ.setdefault("PYTHONWARNINGS", "ignore::UserWarning")  # workers: no nbdev FAQ warning per import cell
    cache = proc_nbs(cfg.nbs_path, n_workers=jobs)  # nbdev_docs' own step: the processed notebooks, in _proc/
    pages, paths = zip(*notebooks(cfg.nbs_path).items())
    nodes = [nbformat.read(cache / p.relative_to(cfg.nbs_path), as_version=4) for p in paths]
    fronts = [split_frontmatter(node) for node in nodes]
    sidebar = [(page, str(front.get("title") or Path(page).stem)) for page, front in zip(pages, fronts)]
    coalesce = Config(CoalesceStreamsPreprocessor={"enabled": True})  # progress bars: the last state of each line
    exporter = DocsExporter(template_name="docs_theme", extra_template_basedirs=[str(THEME.parent)], config=coalesce,
                            exclude_input_prompt=True, exclude_output_prompt=True)
    site_url = f'"{cfg.doc_host}{cfg.doc_baseurl}'.rstrip("/") + "/"  # nbdev's links to the published site
    bodies = {}
    for (page, title), node, front in zip(sidebar, nodes, fronts):
        apply_directives(node)
        node.metadata["title"] = f"{title} – {cfg.title}"
        subtitle = exporter.markdown2html({}, str(front.get("description") or ""))
        resources = dict(page=page, title=title, subtitle=subtitle, sidebar=sidebar, site_title=cfg.title)
        body = exporter.from_notebook_node(node, resources=resources)[0]
        bodies[page] = body.replace(site_url, '"').replace(COLAB_BADGE, "colab-badge.svg")
    write_site(out, drop_missing_anchors(bodies))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "_docs", help="output folder (default: %(default)s)")
    ap.add_argument("--jobs", type=int, default=2, help="notebooks processed in parallel (default: %(default)s)")
    args = ap.parse_args(argv)
    try:
        build(args.out.resolve(), args.jobs)
    except Exception as e:  # nbdev names the notebook and the cell; the first error in the worker's traceback is why
        why = re.search(r"^\w+(Error|Exception):.*$", str(e.__cause__ or ""), flags=re.M)
        raise SystemExit(f"FAILED {str(e).splitlines()[0]} {why.group(0) if why else ''}") from e
    print(f"site written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

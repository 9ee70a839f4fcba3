#!/usr/bin/env python3
"""Write README.md from nbs/index.ipynb: what `nbdev_readme` does, with nbconvert in place of quarto.

    python scripts/make_readme.py [--check]   # --check: exit 1, with a diff, when README.md is out of date

Why these tools: `nbdev_readme` is nbdev's docs processors, then `quarto render -t gfm`. This is the same processors
less two that depend on the machine (`exec_show_docs` runs code, `add_links` reads installed packages' indexes), then
nbconvert's MarkdownExporter: the README depends on index.ipynb alone.
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_docs import apply_directives, split_frontmatter  # noqa: E402


def readme_text(root: Path = ROOT) -> str:
    "README.md as index.ipynb gives it: the H1 and its `>` subtitle, then every cell as GitHub markdown"
    import nbformat
    from execnb.nbio import nb2dict, read_nb
    from nbconvert.exporters import MarkdownExporter
    from nbdev.process import NBProcessor
    from nbdev.processors import FilterDefaults, add_links, exec_show_docs
    os.chdir(root)  # nbdev reads settings.ini from the working directory
    processed = read_nb(root / "nbs" / "index.ipynb")
    procs = [p for p in FilterDefaults().procs() if p not in (exec_show_docs, add_links)]
    NBProcessor(nb=processed, procs=procs).process()
    nb = nbformat.reads(json.dumps(nb2dict(processed)), as_version=4)
    front = split_frontmatter(nb)
    apply_directives(nb)
    nb.metadata["language_info"] = {"name": "python"}  # the code fences' language (nbdev_clean removes it)
    body = MarkdownExporter().from_notebook_node(nb)[0]
    text = f"# {front.get('title', '')}\n\n> {front.get('description', '')}\n\n{body}"
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with README.md instead of writing it")
    check = ap.parse_args(argv).check
    new, readme = readme_text(), ROOT / "README.md"
    old = readme.read_text(encoding="utf-8") if readme.exists() else ""
    if check and old != new:
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), "README.md", "new"))
        print("\nREADME.md is out of date: run `python scripts/make_readme.py`")
        return 1
    if not check:
        readme.write_text(new, encoding="utf-8")
    print("README.md is up to date with nbs/index.ipynb")
    return 0


if __name__ == "__main__":
    sys.exit(main())

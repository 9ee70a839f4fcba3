#!/usr/bin/env python3
"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does, without quarto).

    python scripts/make_readme.py           # rewrite README.md
    python scripts/make_readme.py --check   # exit 1, with a diff, when README.md is not what index.ipynb gives

The notebook goes through nbdev's docs processors (frontmatter from the H1 title, `#| hide` and `#| export` cells
removed, magics dropped), then each cell is written as GitHub markdown (prose as is, code in ```python fences, text
outputs in plain fences) by the few lines below, not by a template that changes between versions. Only stored
outputs are used (the notebook is not run)
and backticked names are not turned into links, so the result depends on index.ipynb alone: the same README on every
machine, which is what lets `tests/test_docs.py` catch a README that was not regenerated.
"""
from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_docs import frontmatter, read_settings, split_directives  # noqa: E402


def readme_text(root: Path = ROOT) -> str:
    settings = read_settings(root)
    nb_path = root / settings.get("nbs_path", "nbs") / settings.get("readme_nb", "index.ipynb")
    cwd = os.getcwd()
    os.chdir(root)  # nbdev finds settings.ini from the working directory
    try:
        from execnb.nbio import nb2dict, read_nb
        from nbdev.processors import FilterDefaults, add_links, exec_show_docs

        class ReadmeProcs(FilterDefaults):
            "nbdev's docs processors, less running show_doc cells and less links (they depend on what is installed)"
            def base_procs(self): return [p for p in super().base_procs() if p not in (exec_show_docs, add_links)]

        nb = read_nb(nb_path)
        ReadmeProcs()(nb)
        nb = nb2dict(nb)
    finally:
        os.chdir(cwd)
    fm = frontmatter(nb)
    cells = nb["cells"][1:] if nb["cells"] and nb["cells"][0]["cell_type"] == "raw" else nb["cells"]
    for cell in cells:  # quarto-style `#| key: value` lines stay in nbdev's output; quarto hides them, so do we
        cell["source"] = "".join(cell["source"])
        if cell["cell_type"] == "code":
            directives, code = split_directives("".join(cell["source"]))
            cell["source"] = code
            if directives.get("echo") == "false": cell["source"] = ""
            if directives.get("output") == "false": cell["outputs"] = []
            if directives.get("include") == "false": cell["source"], cell["outputs"] = "", []
    cells = [c for c in cells if "".join(c["source"]).strip() or c.get("outputs")]

    body = "\n\n".join(filter(None, (cell_markdown(c) for c in cells)))
    head = f"# {fm.get('title', settings['lib_name'])}\n\n"
    if fm.get("description"): head += f"> {fm['description']}\n\n"
    return normalize(head + body)


def cell_markdown(cell: dict) -> str:
    "One cell as GitHub markdown: prose as is, code in a ```python fence, text outputs in plain fences, HTML as is"
    if cell["cell_type"] == "markdown": return cell["source"].strip()
    if cell["cell_type"] != "code": return ""
    parts = [f"```python\n{cell['source'].strip()}\n```"] if cell["source"].strip() else []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if out["output_type"] == "stream": text = "".join(out["text"])
        elif out["output_type"] == "error": text = "\n".join(out.get("traceback", []))
        elif any(k.startswith("image/") for k in data):
            raise SystemExit("index.ipynb has image outputs: README.md cannot carry them")
        elif "text/markdown" in data: parts.append("".join(data["text/markdown"]).strip()); continue
        elif "text/html" in data: parts.append("".join(data["text/html"]).strip()); continue
        else: text = "".join(data.get("text/plain", ""))
        if text.strip(): parts.append(f"```\n{text.strip()}\n```")
    return "\n\n".join(parts)


def normalize(text: str) -> str:
    "Trailing spaces off, runs of blank lines to one, one final newline: what we compare and what we write"
    text = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with README.md instead of writing it")
    args = ap.parse_args(argv)
    new, readme = readme_text(), ROOT / "README.md"
    if args.check:
        old = normalize(readme.read_text(encoding="utf-8")) if readme.exists() else ""
        if old == new:
            print("README.md is up to date with nbs/index.ipynb")
            return 0
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), "README.md", "from index.ipynb"))
        print("\nREADME.md is out of date: run `python scripts/make_readme.py`")
        return 1
    readme.write_text(new, encoding="utf-8")
    print(f"wrote {readme} ({len(new.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

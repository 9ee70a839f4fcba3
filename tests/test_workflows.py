"""The GitHub Actions workflows are valid and do what the project relies on.

YAML-parse every file in .github/workflows, check the structure GitHub requires (triggers, jobs with `runs-on` and
steps, each step one `uses` or `run`, `needs` naming real jobs, closed `${{ }}` expressions), then the two
workflows' contents: tests on push and pull request with an export-drift step and a pytest step; the docs deploy
rendering with quarto (`nbdev_docs`) and publishing to GitHub Pages."""
import re
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(p for p in WORKFLOWS.glob("*") if p.suffix in (".yml", ".yaml"))
KNOWN_EVENTS = {"push", "pull_request", "workflow_dispatch", "schedule", "release", "workflow_call", "workflow_run",
                "pull_request_target", "repository_dispatch", "page_build"}


def load(path):
    wf = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(wf, dict), f"{path.name}: not a YAML mapping"
    if True in wf: wf["on"] = wf.pop(True)  # YAML 1.1 reads the bare key `on` as the boolean true
    return wf


def triggers(wf):
    on = wf["on"]
    if isinstance(on, str): return {on: None}
    if isinstance(on, list): return {o: None for o in on}
    return dict(on)


def steps(wf):
    return [(name, s) for name, job in wf["jobs"].items() for s in job.get("steps", [])]


def uses(wf): return [s["uses"].split("@")[0] for _, s in steps(wf) if "uses" in s]
def runs(wf): return [s["run"] for _, s in steps(wf) if "run" in s]


def test_both_workflows_exist():
    names = {p.name for p in FILES}
    assert {"test.yaml", "deploy.yaml"} <= names, f"expected test.yaml and deploy.yaml in {WORKFLOWS}, found {sorted(names)}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_workflow_structure(path):
    text = path.read_text(encoding="utf-8")
    assert "\t" not in text, f"{path.name}: tabs are not allowed in YAML indentation"
    wf = load(path)
    assert wf.get("name"), f"{path.name}: no name"
    assert "on" in wf, f"{path.name}: no `on:` triggers"
    unknown = set(triggers(wf)) - KNOWN_EVENTS
    assert not unknown, f"{path.name}: unknown events {unknown}"
    jobs = wf.get("jobs")
    assert isinstance(jobs, dict) and jobs, f"{path.name}: no jobs"
    for name, job in jobs.items():
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name), f"{path.name}: bad job id {name!r}"
        assert "runs-on" in job, f"{path.name}: job {name} has no runs-on"
        assert isinstance(job.get("steps"), list) and job["steps"], f"{path.name}: job {name} has no steps"
        for need in [job["needs"]] if isinstance(job.get("needs"), str) else job.get("needs", []):
            assert need in jobs, f"{path.name}: job {name} needs unknown job {need!r}"
        for i, step in enumerate(job["steps"]):
            assert isinstance(step, dict), f"{path.name}: {name} step {i} is not a mapping"
            assert ("uses" in step) != ("run" in step), f"{path.name}: {name} step {i} needs exactly one of uses/run: {step}"
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[\w.-]+", step["uses"]), f"{path.name}: bad action ref {step['uses']!r}"
    opened, closed = text.count("${{"), text.count("}}")
    assert opened == closed, f"{path.name}: unbalanced ${{{{ }}}} expressions ({opened} opened, {closed} closed)"


def test_tests_workflow():
    wf = load(WORKFLOWS / "test.yaml")
    assert {"push", "pull_request"} <= set(triggers(wf)), "tests must run on push and on pull_request"
    assert "actions/checkout" in uses(wf)
    scripts = runs(wf)
    install = next((i for i, r in enumerate(scripts) if "install.sh" in r or "pip install" in r), None)
    export = next((i for i, r in enumerate(scripts) if "nbdev_export" in r), None)
    tests = next((i for i, r in enumerate(scripts) if re.search(r"\bpytest\b.*\btests\b", r)), None)
    assert install is not None, "no install step"
    assert export is not None, "no step running nbdev_export"
    assert re.search(r"git (status --porcelain|diff --(exit-code|quiet))", scripts[export]) and "exit 1" in scripts[export], \
        "the nbdev_export step must fail when the export changes the library"
    assert tests is not None, "no step running pytest on tests/"
    assert install < export < tests, "steps must run in order: install, export check, tests"


def test_deploy_workflow():
    wf = load(WORKFLOWS / "deploy.yaml")
    on = triggers(wf)
    assert "push" in on and "main" in (on["push"] or {}).get("branches", []), "deploy on push to main"
    used, scripts = uses(wf), runs(wf)
    renders = "fastai/workflows/quarto-ghp" in used or (
        any("nbdev_docs" in r for r in scripts) and ("quarto-dev/quarto-actions/setup" in used or any("install_quarto" in r for r in scripts)))
    assert renders, "the deploy must render the site with quarto (nbdev_docs after quarto-actions/setup, or fastai/workflows/quarto-ghp)"
    publishes = {"actions/deploy-pages", "peaceiris/actions-gh-pages", "fastai/workflows/quarto-ghp"} & set(used)
    assert publishes, "the deploy must publish to GitHub Pages"
    if "actions/deploy-pages" in used:
        assert "actions/upload-pages-artifact" in used, "deploy-pages needs an uploaded pages artifact"
        assert wf.get("permissions", {}).get("pages") == "write" and wf["permissions"].get("id-token") == "write", \
            "deploy-pages needs `pages: write` and `id-token: write` permissions"
        artifact = next(s for _, s in steps(wf) if s.get("uses", "").startswith("actions/upload-pages-artifact"))
        assert artifact.get("with", {}).get("path", "").strip("./") == "_docs", "upload nbdev's doc_path, _docs"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_workflow_schema(path):
    "Against SchemaStore's GitHub workflow schema, which check-jsonschema ships (offline); skipped when not installed"
    pytest.importorskip("check_jsonschema", reason="pip install check-jsonschema for the full schema check")
    proc = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr

"""Every notebook runs top to bottom under `nbdev_test` (cells flagged `notest`, `slow` or `gpu` are skipped).

One pytest case per notebook, each in its own process, so a failure names the chapter that broke."""
import subprocess

import pytest

from conftest import NBS, ROOT

NOTEBOOKS = sorted(p.relative_to(NBS).as_posix() for p in NBS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_notebook(nb):
    cmd = ["nbdev_test", "--path", str(NBS / nb), "--do_print"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Success" in out, f"nbdev_test failed for {nb}:\n{out[-6000:]}"

"""The Makefile's set-up steps: one line saying what is installed, then how it ended
(``tools/pip_step.py``); ``make dist`` needs only a venv with ``build``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = (ROOT / "Makefile").read_text()

PIP_OUTPUT = """\
Obtaining file:///work/main
Collecting aws-cdk-lib>=2.275.0 (from export_constructs==0.2.0)
  Downloading aws_cdk_lib-2.276.0-py3-none-any.whl (45.1 MB)
Collecting boto3>=1.40
  Using cached boto3-1.41.0-py3-none-any.whl
  /tmp/pip-build-env/overlay/lib/python3.11/site-packages/setuptools/command/editable_wheel.py:354: BuildBackendWarning
Installing collected packages: boto3, aws-cdk-lib, export_constructs
Successfully installed aws-cdk-lib-2.276.0 boto3-1.41.0 export_constructs-0.2.0
"""


def fake_python(tmp_path: Path, exit_code: int) -> Path:
    """A "python" whose ``-m pip install`` prints ``PIP_OUTPUT`` and exits with ``exit_code``."""
    (tmp_path / "out.txt").write_text(PIP_OUTPUT)
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\ncat {tmp_path / 'out.txt'}\nexit {exit_code}\n")
    script.chmod(0o755)
    return script


def run_step(python: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "pip_step.py"), "step: installing things", str(python), "-e", "."],
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_step_is_its_label_then_how_it_ended(tmp_path: Path) -> None:
    done = run_step(fake_python(tmp_path, 0))
    assert done.returncode == 0
    assert done.stdout.splitlines()[0] == "step: installing things"
    assert re.fullmatch(r"  done in \d+ s: 3 packages installed", done.stdout.splitlines()[-1]), done.stdout
    assert len(done.stdout.splitlines()) == 2  # in a log: nothing of pip's between
    assert "BuildBackendWarning" not in done.stdout + done.stderr


def test_a_failed_step_prints_pip_s_output_and_its_exit_code(tmp_path: Path) -> None:
    failed = run_step(fake_python(tmp_path, 3))
    assert failed.returncode == 3
    assert "Downloading aws_cdk_lib-2.276.0" in failed.stdout
    assert failed.stdout.splitlines()[-1].startswith("  FAILED after ") and "exit code 3" in failed.stdout


def test_every_pip_install_of_the_makefile_is_a_step() -> None:
    """No silent ``pip install --quiet`` is left: each install says what it installs."""
    assert not re.findall(r"-m pip install", MAKEFILE)
    steps = re.findall(r'@\$\(PIP_STEP\) "([^"]+)"', MAKEFILE)
    assert len(steps) >= 5 and all(":" in s for s in steps), steps


def test_make_dist_does_not_need_the_test_venv() -> None:
    (dist,) = re.findall(r"^dist: (.*?)(?: ##.*)?$", MAKEFILE, re.MULTILINE)
    assert "$(VENV)/" not in dist and "$(BUILD_VENV)/.installed" in dist
    recipe = MAKEFILE.split("\ndist:", 1)[1].split("\n\n", 1)[0]
    assert "$(BUILD_VENV)/bin/python -m build" in recipe and "--no-isolation" not in recipe


def test_make_docs_needs_only_the_docs_extra() -> None:
    """``make docs`` installs the package with its [docs] extra into a venv of its own, not the
    ~770 MB test venv."""
    (docs,) = re.findall(r"^docs: (.*?)(?: ##.*)?$", MAKEFILE, re.MULTILINE)
    assert docs.strip() == "$(DOCS_VENV)/.installed"
    recipe = MAKEFILE.split("\ndocs:", 1)[1].split("\n\n", 1)[0]
    assert "$(DOCS_VENV)/bin/python -m tools.apidocs" in recipe and "$(PY)" not in recipe
    install = MAKEFILE.split("\n$(DOCS_VENV)/.installed:", 1)[1].split("\n\n", 1)[0]
    assert "-e '.[docs]'" in install and "[test]" not in install

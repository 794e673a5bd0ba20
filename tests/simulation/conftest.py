from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def sample_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample app synthesized once into a cloud assembly folder, as `make synth` does
    (without the nag plugins, which the construct tests run)."""
    import aws_cdk as cdk

    from sample_app.app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    app, _ = build_app(cdk.App(outdir=str(outdir)), nag=False)
    app.synth()
    return outdir


def copy_assembly(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


TEMPLATE = "ExportConstructsSample.template.json"


def job_of(assembly: Path, service: str) -> str:
    """The logical id of the sample app's job of ``service``."""
    template = json.loads((assembly / TEMPLATE).read_text())
    (logical_id,) = [k for k, v in template["Resources"].items() if v["Type"] == f"Custom::ExportJob-{service}"]
    return str(logical_id)


def edited(assembly: Path, target: Path, service: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the assembly whose ``service`` job's properties ``edit`` has changed."""
    updated = copy_assembly(assembly, target)
    path = updated / TEMPLATE
    template = json.loads(path.read_text())
    edit(template["Resources"][job_of(assembly, service)]["Properties"])
    path.write_text(json.dumps(template))
    return updated

from __future__ import annotations

import os
import shutil
from pathlib import Path

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

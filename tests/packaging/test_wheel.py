"""The wheel works on its own.

Built from a copy of the sources (as ``python -m build`` does: an sdist, then the wheel from
the sdist), installed into a fresh venv where the source tree is not importable, it
synthesizes a stack with one job of each service, and the handler's code asset in the cloud
assembly is the installed package's ``handler/`` folder.

Offline and quick: the wheel is built with ``--no-isolation`` (the build backend is in the
test extras) and installed with ``--no-deps``. Its dependencies are what the wheel declares and
nothing else: the distributions of its ``Requires-Dist`` (without extras), and theirs in turn,
are linked from this venv's site-packages into a folder of their own that a ``.pth`` file puts
on the new venv's path. botocore and boto3, which the test venv has, are not among them, as in
a user's venv with only the wheel. A path listed in a ``.pth`` file is added to ``sys.path`` but
the ``.pth`` files inside it are not processed, and the editable install's finder is not linked,
so nothing maps ``export_constructs`` to the source tree; the test checks that.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from export_constructs import services
from export_constructs.handler import consts

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = ROOT / "export_constructs"
#: What a copy of the tree leaves out: environments, caches and build output (a stale
#: ``build/lib`` would otherwise leak deleted modules into the wheel).
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv*",
    "node_modules",
    "cdk.out",
    "__pycache__",
    "*.pyc",
    "*.egg-info",
    ".*_cache",
    ".hypothesis",
    "build",
    "dist",
    "docs",
)
SERVICES = tuple(s.name for s in services.SERVICES)

#: The app the installed wheel synthesizes: one job of each service into one destination. It
#: reports where ``export_constructs`` and every other module came from, and ``sys.path``.
APP = """
import json, sys
import aws_cdk as cdk
import export_constructs
from export_constructs import (
    CloudWatchLogsExportJob, ExportDestination, ForecastExportJob, PersonalizeDatasetExportJob, PinpointExportJob,
    RdsSnapshotExportJob, RoboMakerWorldExportJob,
)

app = cdk.App(outdir=sys.argv[1])
stack = cdk.Stack(app, "WheelStack", env=cdk.Environment(account="123456789012", region="us-east-1"))
dest = ExportDestination(stack, "Exports")
PersonalizeDatasetExportJob(stack, "Users", destination=dest,
    dataset_arn="arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS")
ForecastExportJob(stack, "Demand", destination=dest,
    forecast_arn="arn:aws:forecast:us-east-1:123456789012:forecast/shop_demand")
PinpointExportJob(stack, "Endpoints", destination=dest, application_id="0123456789abcdef0123456789abcdef")
RoboMakerWorldExportJob(stack, "Worlds", destination=dest,
    worlds=["arn:aws:robomaker:us-east-1:123456789012:world/sim-0f1e2d3c4b5a/world-0a1b2c3d"])
RdsSnapshotExportJob(stack, "Orders", destination=dest,
    source_arn="arn:aws:rds:us-east-1:123456789012:snapshot:shop-db-2026-12-01")
CloudWatchLogsExportJob(stack, "Logs", destination=dest, log_group="/aws/lambda/orders",
    window=cdk.Duration.days(1))
app.synth()
files = sorted({str(getattr(m, "__file__", None) or "") for m in list(sys.modules.values())} - {""})
print(json.dumps({"package": export_constructs.__file__, "sys_path": sys.path, "modules": sorted(sys.modules),
                  "files": files}))
"""


def declared_closure(requirements: list[str]) -> list[importlib.metadata.Distribution]:
    """The installed distributions ``requirements`` (``Requires-Dist`` lines) need, and theirs in
    turn: extras and requirements whose markers do not hold here are left out."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = [Requirement(line) for line in requirements]
    while todo:
        requirement = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        found[name] = distribution = importlib.metadata.distribution(requirement.name)
        todo += [Requirement(line) for line in distribution.requires or []]
    return list(found.values())


def link_distributions(distributions: list[importlib.metadata.Distribution], target: Path) -> None:
    """A site folder with just ``distributions``: each top-level file or folder they install,
    linked from where it is installed."""
    target.mkdir()
    for distribution in distributions:
        base = Path(str(distribution.locate_file("")))
        for top in {Path(str(f)).parts[0] for f in distribution.files or [] if not str(f).startswith("..")}:
            if not (target / top).exists():
                (target / top).symlink_to(base / top)


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def package_files() -> set[str]:
    """The package's files in the source tree, relative to the tree: what the wheel must hold."""
    return {
        p.relative_to(ROOT).as_posix()
        for p in PACKAGE_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, built from a copy of the tree (nothing is written into it)."""
    work = tmp_path_factory.mktemp("build")
    shutil.copytree(ROOT, work / "src", ignore=NOT_SOURCES)
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", work / "dist", work / "src")
    return work / "dist"


def only(paths: list[Path]) -> Path:
    assert len(paths) == 1, paths
    return paths[0]


def test_the_wheel_holds_the_package_with_its_handler_and_testing_and_nothing_else(dist: Path) -> None:
    wheel = only(sorted(dist.glob("export_constructs-*-py3-none-any.whl")))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata_name = only([Path(n) for n in names if n.endswith(".dist-info/METADATA")])
        metadata = archive.read(metadata_name.as_posix()).decode()
    package = {n for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert package == package_files()  # every file of the package, no other (no tests/, sample_app/)
    assert {"export_constructs/handler/entry.py", "export_constructs/py.typed"} <= package
    assert any(n.startswith("export_constructs/handler/adapters/") for n in package)
    assert any(n.startswith("export_constructs/testing/fakes/") for n in package)
    assert f"{metadata_name.parent.as_posix()}/licenses/LICENSE" in names
    assert "License-Expression: Apache-2.0" in metadata
    assert "Requires-Dist: aws-cdk-lib" in metadata
    assert "Requires-Python: >=3.11" in metadata
    assert 'Requires-Dist: boto3>=1.40; extra == "testing"' in metadata  # for export_constructs.testing


def test_the_sdist_holds_the_sources_licence_and_changelog(dist: Path) -> None:
    sdist = only(sorted(dist.glob("export_constructs-*.tar.gz")))
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    for required in ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "PKG-INFO", *package_files()):
        assert required in names
    assert not {n for n in names if n.split("/")[0] in ("tests", "sample_app", "bench", ".venv", "node_modules")}


def test_the_installed_wheel_synthesizes_all_six_jobs_without_the_source_tree(dist: Path, tmp_path: Path) -> None:
    wheel = only(sorted(dist.glob("*.whl")))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # This venv's pip installs into the new one (which has none): no download, no dependency.
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel)
    new_site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        requires = [
            line.removeprefix("Requires-Dist: ")
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist: ")
        ]
    closure = declared_closure(requires)
    names = {canonicalize_name(d.metadata["Name"]) for d in closure}
    assert {"aws-cdk-lib", "constructs", "jsii"} <= names
    assert not names & {"boto3", "botocore"}  # not declared: the constructs must not need them
    dependencies = tmp_path / "declared-dependencies"
    link_distributions(closure, dependencies)
    (new_site / "project_dependencies.pth").write_text(f"{dependencies}\n")

    workdir = tmp_path / "app"
    workdir.mkdir()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CDK_", "VIRTUAL_ENV"))}
    environment["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    # -I: no PYTHONPATH, no user site, not even the current directory on sys.path.
    output = run(python, "-I", "-c", APP, workdir / "cdk.out", cwd=workdir, env=environment)
    report = json.loads(output.strip().splitlines()[-1])
    assert not [m for m in report["modules"] if m.split(".")[0] in ("botocore", "boto3")]

    # export_constructs came from the wheel, and nothing at all from the source tree.
    assert Path(report["package"]).resolve().is_relative_to(env_dir.resolve())
    assert not [m for m in report["modules"] if m.startswith("__editable__")]
    entries = [Path(p).resolve() for p in report["sys_path"] if p]
    assert ROOT not in entries
    assert dependencies.resolve() in entries
    from_tree = [f for f in report["files"] if Path(f).is_relative_to(ROOT)]  # not resolved: links stay links
    assert from_tree == []

    # The simulation needs boto3, which only the [testing] extra brings: the import says so.
    refused = subprocess.run(
        [python, "-I", "-c", "import export_constructs.testing"], capture_output=True, text=True, env=environment
    )
    assert refused.returncode == 1
    assert "ImportError" in refused.stderr and "export_constructs[testing]" in refused.stderr

    template = json.loads((workdir / "cdk.out" / "WheelStack.template.json").read_text())
    # One job of each service (RDS's, with its default 6-hour timeout, also has its result resource).
    types = [r["Type"] for r in template["Resources"].values() if r.get("Properties", {}).get("Mode") != "report"]
    for service in SERVICES:
        assert types.count(f"Custom::{consts.RESOURCE_TYPE_PREFIX}{service}") == 1, service

    # The handler's code asset: the folder the OnEvent function's S3 key names.
    (key,) = {
        r["Properties"]["Code"]["S3Key"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == consts.ON_EVENT_ENTRY
    }
    asset = workdir / "cdk.out" / f"asset.{key.removesuffix('.zip')}"
    shipped = {p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file()}
    installed = new_site / "export_constructs"
    handler = {
        p.relative_to(installed).as_posix()
        for p in (installed / "handler").rglob("*.py")
        if "__pycache__" not in p.parts  # pip compiled the package: the asset leaves those out
    }
    assert any((installed / "handler").rglob("*.pyc"))
    assert shipped == handler
    assert {"handler/entry.py", *(f"handler/adapters/{s.lower()}.py" for s in SERVICES)} <= shipped
    assert not [p for p in shipped if p.startswith("testing/") or not p.startswith("handler/")]

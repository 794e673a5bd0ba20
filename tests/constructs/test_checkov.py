"""checkov over the sample app's synthesized template: no failed check but the ones pinned below,
each with its reason, on resources the library creates.

checkov pins dependencies the project cannot share, so it runs from its own venv
(``make .venv-checkov/.installed``; ``make test`` builds it and exports ``CHECKOV``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from export_constructs._nag import REASON_DLQ, REASON_LOG_BUCKET_LOGS, REASON_LOG_DELIVERY, REASON_VPC

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"


@dataclass(frozen=True)
class Skip:
    """A failed check the library accepts, on the resources whose logical ids match ``resources``
    (a regular expression, matched in full)."""

    resources: str
    reason: str


#: The provider's functions and the Provider framework's functions inside it.
PROVIDER_FUNCTIONS = (
    r"ExportJobProvider(OnEvent|IsComplete|framework(onEvent|isComplete|onTimeout)|RunnerRun)[0-9A-F]{8}"
)

SKIPS: dict[str, Skip] = {
    "CKV_AWS_18": Skip(r"ExportsAccessLogs[0-9A-F]{8}", REASON_LOG_BUCKET_LOGS),
    "CKV_AWS_116": Skip(PROVIDER_FUNCTIONS, REASON_DLQ),
    "CKV_AWS_117": Skip(PROVIDER_FUNCTIONS, REASON_VPC),
    "CKV_AWS_111": Skip(r"ExportJobProviderwaiterstatemachineRoleDefaultPolicy[0-9A-F]{8}", REASON_LOG_DELIVERY),
}


def checkov_path() -> Path:
    path = Path(os.environ.get("CHECKOV") or DEFAULT_CHECKOV)
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"checkov not found at {path}: run `make test`, which builds it in .venv-checkov "
            "(or `make .venv-checkov/.installed`), or set CHECKOV to a checkov executable"
        )
    return path


def run_checkov(template: Path) -> dict[str, Any]:
    """checkov's JSON report on one CloudFormation template (no download from Prisma Cloud)."""
    command = [str(checkov_path()), "-f", str(template), "--framework", "cloudformation"]
    done = subprocess.run(
        [*command, "-o", "json", "--quiet", "--compact", "--skip-download"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode in (0, 1), f"checkov failed ({done.returncode}): {done.stderr[-2000:]}"
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def failed_checks(report: dict[str, Any]) -> set[tuple[str, str]]:
    """{(check id, logical id)} of the failed checks."""
    failed = report.get("results", {}).get("failed_checks", [])
    return {(f["check_id"], f["resource"].rsplit(".", 1)[-1]) for f in failed}


def skip_of(check_id: str, logical_id: str) -> Skip | None:
    skip = SKIPS.get(check_id)
    return skip if skip is not None and re.fullmatch(skip.resources, logical_id) else None


@pytest.fixture(scope="module")
def sample_report(sample: tuple[cdk.App, cdk.Stack]) -> dict[str, Any]:
    app, stack = sample
    assembly = app.synth()
    return run_checkov(Path(assembly.directory) / assembly.get_stack_by_name(stack.stack_name).template_file)


def test_sample_template_has_no_failed_check_but_the_pinned_ones(sample_report: dict[str, Any]) -> None:
    summary = sample_report["summary"]
    assert summary["parsing_errors"] == 0 and summary["resource_count"] > 20 and summary["passed"] > 100, summary
    unskipped = sorted(f"{c} @ {r}" for c, r in failed_checks(sample_report) if skip_of(c, r) is None)
    assert unskipped == []


def test_every_skip_still_matches_a_failed_check(sample_report: dict[str, Any]) -> None:
    """A skip whose check now passes (fixed, or the resource renamed) must be removed."""
    matched = {c for c, r in failed_checks(sample_report) if skip_of(c, r) is not None}
    assert sorted(set(SKIPS) - matched) == []


def test_skips_are_on_resources_the_library_creates(sample: tuple[cdk.App, cdk.Stack]) -> None:
    """Every resource a skip may match comes from one of the library's constructs."""
    stack = sample[1]
    paths = {stack.resolve(c.logical_id): c.node.path for c in stack.node.find_all() if isinstance(c, cdk.CfnElement)}
    library = (f"{stack.node.path}/Exports/", f"{stack.node.path}/ExportJobProvider/")
    for check_id, skip in SKIPS.items():
        matching = {k: path for k, path in paths.items() if re.fullmatch(skip.resources, k)}
        assert matching, check_id
        assert {k: path for k, path in matching.items() if not path.startswith(library)} == {}, check_id


def test_checkov_can_fail(tmp_path: Path) -> None:
    """The check above is not vacuous: a plain bucket (no logging, versioning or public access
    block) fails checkov's S3 checks."""
    template = tmp_path / "plain.json"
    template.write_text(json.dumps({"Resources": {"Plain": {"Type": "AWS::S3::Bucket"}}}))
    failed = failed_checks(run_checkov(template))
    assert {("CKV_AWS_18", "Plain"), ("CKV_AWS_21", "Plain")} <= failed


def test_missing_checkov_fails_and_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHECKOV", str(tmp_path / "no-checkov"))
    with pytest.raises(pytest.fail.Exception, match="make test"):
        checkov_path()

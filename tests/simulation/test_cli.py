"""``python -m export_constructs.testing`` as a CI gate: exit 0 when every event succeeded and the
fake services found no problem, 1 otherwise (the last line says why), 2 for a usage error (an
unknown service or scenario, no cloud assembly). ``simulate()`` refuses the same mistakes with the
same messages."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from export_constructs.services import SERVICES
from export_constructs.testing import FAILURE_REASON, Scenario, simulate
from export_constructs.testing.__main__ import main

from .conftest import TEMPLATE, copy_assembly, edited, job_of

SERVICES_LISTED = ", ".join(sorted(s.name for s in SERVICES))
SCENARIOS_LISTED = ", ".join(s.value for s in Scenario)


def last_line(text: str) -> str:
    return text.rstrip("\n").rsplit("\n", 1)[-1]


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The argparse error ``main(argv)`` exits with (code 2): its last line on stderr."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return last_line(err)


# -- the exit code and the last line -----------------------------------------------------------


def test_all_green_exits_0_and_says_so_last(sample_assembly: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(sample_assembly)]) == 0
    out = capsys.readouterr().out
    assert last_line(out) == "PASSED: every event succeeded and the fake services found no problem"


def test_a_failed_job_exits_1_and_the_last_line_says_which(
    sample_assembly: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(sample_assembly), "--scenario", "Personalize=failure"]) == 1
    verdict = last_line(capsys.readouterr().out)
    logical_id = job_of(sample_assembly, "Personalize")
    assert verdict.startswith(f"FAILED: 1 event failed: {logical_id} Create [deploy]: ")
    assert FAILURE_REASON.split(":")[0] in verdict
    assert "problem" not in verdict


def test_a_failure_of_every_job_lists_each(sample_assembly: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The default scenario for all services: the first job fails and the deployment rolls back."""
    assert main([str(sample_assembly), "--scenario", "access-denied"]) == 1
    verdict = last_line(capsys.readouterr().out)
    assert verdict.startswith("FAILED: 1 event failed: ") and "AccessDenied" in verdict


def test_problems_in_the_requests_exit_1_and_are_counted_last(
    sample_assembly: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def bad_mode(properties: dict[str, Any]) -> None:
        properties["Request"]["ingestionMode"] = "SOMETIMES"  # not in Personalize's enum

    assembly = edited(sample_assembly, tmp_path / "bad", "Personalize", bad_mode)
    assert main([str(assembly)]) == 1
    captured = capsys.readouterr()
    assert "PROBLEM: CreateDatasetExportJob request: ingestionMode is 'SOMETIMES'" in captured.err
    verdict = last_line(captured.out)
    assert verdict.startswith("FAILED: 1 event failed: ")
    assert verdict.endswith("and the fake services found 1 problem in the handler's requests (PROBLEM lines)")


# -- usage errors: exit 2, the valid names listed ---------------------------------------------


@pytest.mark.parametrize("given", ["Personalize=fail", "fail", "FAILURE", "Personalize="])
def test_an_unknown_scenario_is_a_usage_error_listing_the_scenarios(
    sample_assembly: Path, capsys: pytest.CaptureFixture[str], given: str
) -> None:
    error = usage_error([str(sample_assembly), "--scenario", given], capsys)
    value = given.rpartition("=")[2]
    assert f"argument --scenario: unknown scenario {value!r} in {given!r}; valid scenarios: {SCENARIOS_LISTED}" in error


@pytest.mark.parametrize("service", ["personalize", "Lambda"])
def test_an_unknown_service_is_a_usage_error_listing_the_assemblys_services(
    sample_assembly: Path, capsys: pytest.CaptureFixture[str], service: str
) -> None:
    error = usage_error([str(sample_assembly), "--scenario", f"{service}=failure"], capsys)
    assert error.endswith(
        f"unknown service {service!r} in --scenario {service}=failure; "
        f"services of the stacks in {sample_assembly}: {SERVICES_LISTED}"
    )


@pytest.mark.parametrize("folder", ["missing", "empty"])
def test_no_cloud_assembly_says_to_synthesize_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], folder: str
) -> None:
    assembly = tmp_path / "cdk.out"
    if folder == "empty":
        assembly.mkdir()
    error = usage_error([str(assembly)], capsys)
    why = "no such folder" if folder == "missing" else "no manifest.json"
    assert error.endswith(f"{assembly}: no cloud assembly here ({why}); run `cdk synth` first")


# -- simulate() refuses the same mistakes ------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        (
            {"personalize": "failure"},
            f"unknown service 'personalize'; services of the simulated stacks: {SERVICES_LISTED}",
        ),
        (
            {"Lambda": Scenario.FAILURE},
            f"unknown service 'Lambda'; services of the simulated stacks: {SERVICES_LISTED}",
        ),
        ({"Personalize": "fail"}, f"unknown scenario 'fail' for 'Personalize'; valid scenarios: {SCENARIOS_LISTED}"),
        ("FAILURE", f"unknown scenario 'FAILURE'; valid scenarios: {SCENARIOS_LISTED}"),
        (None, f"unknown scenario None; valid scenarios: {SCENARIOS_LISTED}"),
        (
            lambda service: "oops" if service == "Forecast" else "success",
            f"unknown scenario 'oops' returned by scenario('Forecast'); valid scenarios: {SCENARIOS_LISTED}",
        ),
    ],
    ids=["service-case", "service-absent", "mapping-value", "value-case", "none", "callable"],
)
def test_simulate_refuses_an_unknown_service_or_scenario(sample_assembly: Path, scenario: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        simulate(sample_assembly, scenario=scenario)


def test_simulate_takes_a_service_only_the_updated_stack_has(sample_assembly: Path, tmp_path: Path) -> None:
    """The valid services are those of the deployed and the updated stacks alike: a Forecast
    job added by the update runs on the Forecast scenario."""
    deployed = copy_assembly(sample_assembly, tmp_path / "deployed")
    template = json.loads((deployed / TEMPLATE).read_text())
    del template["Resources"][job_of(sample_assembly, "Forecast")]
    (deployed / TEMPLATE).write_text(json.dumps(template))
    result = simulate(deployed, scenario={"Forecast": "failure"}, update_to=sample_assembly, delete=False)
    added = result.step(job_of(sample_assembly, "Forecast"), phase="update")
    assert added.status == "FAILED" and FAILURE_REASON in added.reason


@pytest.mark.parametrize("folder", ["missing", "empty"])
def test_simulate_without_a_cloud_assembly_says_to_synthesize_first(tmp_path: Path, folder: str) -> None:
    assembly = tmp_path / "cdk.out"
    if folder == "empty":
        assembly.mkdir()
    why = "no such folder" if folder == "missing" else "no manifest.json"
    message = f"{assembly}: no cloud assembly here ({why}); run `cdk synth` first"
    with pytest.raises(FileNotFoundError, match=f"^{re.escape(message)}$"):
        simulate(assembly)


def test_an_authorized_run_says_how_many_requests_iam_evaluated(
    sample_assembly: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main([str(sample_assembly)]) == 0
    lines = capsys.readouterr().out.splitlines()
    (line,) = [x for x in lines if x.startswith("authorization (iam-simulate): ")]
    assert int(line.split(": ", 1)[1].split()[0]) > 0 and " 0 denied" in line
    monkeypatch.setenv("EXPORT_CONSTRUCTS_AUTHORIZE", "0")
    assert main([str(sample_assembly)]) == 0
    assert "authorization (iam-simulate)" not in capsys.readouterr().out


def test_a_missing_source_fails_its_job_and_exits_1(sample_assembly: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--missing-source names a source that does not exist (here the sample's Personalize dataset,
    by its ARN in the simulated account); every other source exists."""
    dataset = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS"
    assert main([str(sample_assembly), "--missing-source", dataset]) == 1
    verdict = last_line(capsys.readouterr().out)
    logical_id = job_of(sample_assembly, "Personalize")
    assert verdict.startswith(f"FAILED: 1 event failed: {logical_id} Create [deploy]: ")
    assert f"Could not find the dataset {dataset}" in verdict and "problem" not in verdict


def test_missing_iam_simulate_packages_are_a_usage_error_naming_the_npm_install(
    sample_assembly: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With authorization on and the evaluator's npm packages not found: exit 2 (a set-up step is
    missing), not a traceback with exit 1 that reads like a failed deployment."""
    from export_constructs.testing import iam

    monkeypatch.setenv("EXPORT_CONSTRUCTS_AUTHORIZE", "1")
    monkeypatch.setattr(iam, "_shared", None)  # no evaluator started yet in this process
    monkeypatch.setattr(iam, "PACKAGES", ("@cloud-copilot/iam-simulate-not-installed",))
    with pytest.raises(SystemExit) as exited:
        main([str(sample_assembly)])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "npm install --save-dev --save-exact @cloud-copilot/iam-simulate@" in error

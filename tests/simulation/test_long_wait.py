"""The long-wait path end to end in the simulation: the job's custom resource starts the job and
a tracker execution, the wait condition holds the deployment until the tracker signals, and the
result resource reads the job's final attributes. Also ``wait=False``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration

from export_constructs import ExportDestination, ForecastExportJob, PersonalizeDatasetExportJob
from export_constructs.testing import FAILURE_REASON, Scenario, SimulationResult

from .conftest import simulated


def synth(outdir: Path, hours: int | None) -> Path:
    """A Personalize job that does not wait and, given ``hours``, a Forecast job waiting that long."""
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Long")
    dest = ExportDestination(stack, "Exports")
    if hours is not None:
        ForecastExportJob(
            stack,
            "Demand",
            forecast_arn=f"arn:{stack.partition}:forecast:{stack.region}:{stack.account}:forecast/shop_demand",
            destination=dest,
            timeout=Duration.hours(hours),
        )
    PersonalizeDatasetExportJob(
        stack,
        "Users",
        dataset_arn=f"arn:{stack.partition}:personalize:{stack.region}:{stack.account}:dataset/shop/USERS",
        destination=dest,
        wait=False,
    )
    app.synth()
    return outdir


@pytest.fixture(scope="module")
def six_hours(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synth(tmp_path_factory.mktemp("six"), 6)


def steps_of(result: SimulationResult, service: str) -> list[tuple[str, str, str]]:
    return [(s.logical_id[:6], s.request_type, s.status) for s in result.steps if s.service == service]


def run(assembly: Path, scenario: Scenario, **kwargs: Any) -> SimulationResult:
    return simulated(assembly, "Forecast", scenario, **kwargs)


def test_success_waits_for_the_signal_and_reports_the_final_attributes(six_hours: Path) -> None:
    result = run(six_hours, Scenario.SUCCESS)
    (wait,) = [s for s in result.steps if s.service == "WaitCondition"]
    assert wait.status == "SUCCESS" and wait.simulated_seconds >= 60
    (created,) = [s for s in result.steps if s.logical_id == "Demand0D9EE668" and s.request_type == "Create"]
    assert created.data["Status"].startswith("CREATE_"), "the custom resource completed at start"
    report = result.step(next(s.logical_id for s in result.steps if s.logical_id.startswith("DemandResult")))
    assert report.status == "SUCCESS"
    assert report.data["Status"] == "ACTIVE" and report.data["JobArn"] == created.physical_id
    assert report.data["OutputUri"].endswith("/forecast/Long/Demand/")
    # The job's own step is its outcome: the final attributes, after the wait.
    outcome = result.step("Demand0D9EE668")
    assert (outcome.status, outcome.data, outcome.physical_id) == ("SUCCESS", report.data, created.physical_id)
    assert created.wait is wait and created.report is report and result.ok
    operations = result.operations("StepFunctions")
    assert operations.count("StartExecution") == 1
    assert "StopResource" not in result.operations("Forecast")


def test_a_failed_job_fails_the_wait_with_the_services_reason_and_rolls_back(six_hours: Path) -> None:
    result = run(six_hours, Scenario.FAILURE)
    (wait,) = [s for s in result.steps if s.service == "WaitCondition"]
    assert wait.status == "FAILED" and FAILURE_REASON in wait.reason
    # The job's step says so too, though its custom resource completed when the job started.
    assert next(s.status for s in result.steps if s.logical_id == "Demand0D9EE668") == "SUCCESS"
    job = result.step("Demand0D9EE668")
    assert job.status == "FAILED" and job.reason == wait.reason and FAILURE_REASON in job.reason
    assert result.step(wait.logical_id) == wait, "the wait condition's own step stays reachable"
    assert not result.ok and wait in result.failures and result.problems == []
    assert ("Demand", "Delete", "SUCCESS") in steps_of(result, "Forecast")
    assert "DeleteForecastExportJob" in result.operations("Forecast"), "the record goes, the S3 output stays"


def test_a_job_past_its_deadline_is_stopped_and_the_wait_fails_before_its_timeout(six_hours: Path) -> None:
    result = run(six_hours, Scenario.NEVER_ENDS)
    (wait,) = [s for s in result.steps if s.service == "WaitCondition"]
    assert wait.status == "FAILED"
    assert "did not finish within the timeout of 21300 s" in wait.reason
    assert "asked the service to stop it" in wait.reason
    assert 21300 <= wait.simulated_seconds < 21600, "signalled before CloudFormation's own timeout"
    assert "StopResource" in result.operations("Forecast")


def test_wait_false_completes_at_start(six_hours: Path) -> None:
    result = run(six_hours, Scenario.SUCCESS)
    users = next(s for s in result.steps if s.service == "Personalize" and s.request_type == "Create")
    assert users.status == "SUCCESS" and users.data["Status"] in ("CREATE PENDING", "CREATE IN_PROGRESS")
    assert users.polls == 1


def test_a_longer_timeout_keeps_the_job_and_waits_again(six_hours: Path, tmp_path: Path) -> None:
    seven = synth(tmp_path / "seven", 7)
    result = run(six_hours, Scenario.SUCCESS, update_to=seven)
    waits = [s for s in result.steps if s.service == "WaitCondition"]
    assert [w.phase for w in waits] == ["deploy", "update"] and all(w.status == "SUCCESS" for w in waits)
    update = next(s for s in result.steps if s.service == "Forecast" and s.request_type == "Update")
    created = next(s for s in result.steps if s.service == "Forecast" and s.request_type == "Create")
    assert update.physical_id == created.physical_id, "the job is kept"
    assert result.operations("Forecast").count("CreateForecastExportJob") == 1
    assert result.operations("StepFunctions").count("StartExecution") == 2, "a tracker for the new wait"


def test_an_update_to_the_same_template_sends_no_event_to_resources_that_read_others(six_hours: Path) -> None:
    """The result resource's properties are other resources' attributes: an update keeps what
    those returned, so an unchanged template changes nothing (regression: the update used to
    resolve them afresh and send a needless, failing Update)."""
    result = run(six_hours, Scenario.SUCCESS, update_to=six_hours, delete=False)
    assert [s.request_type for s in result.steps if s.service != "WaitCondition"] == ["Create"] * 3


def test_a_long_wait_job_added_by_an_update_waits_for_its_signal(tmp_path: Path) -> None:
    """A service that first appears in the update gets its fake (regression: its calls went to
    the real endpoint), and its new wait condition is awaited (regression: it was not)."""
    before, after = synth(tmp_path / "before", None), synth(tmp_path / "after", 6)
    result = run(before, Scenario.SUCCESS, update_to=after, delete=False)
    created = result.step("Demand0D9EE668")
    assert created.phase == "update" and created.status == "SUCCESS"
    (wait,) = [s for s in result.steps if s.service == "WaitCondition"]
    assert wait.phase == "update" and wait.status == "SUCCESS"
    assert "CreateForecastExportJob" in result.operations("Forecast")

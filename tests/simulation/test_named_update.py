"""A named job's Update through CloudFormation's update and update rollback: a
changed request with the same ``job_name`` fails the Update with a message that says what to
do, the rollback Updates (old properties back) succeed and keep every job, and nothing is
started, stopped or deleted but the job the update had started for an unnamed sibling."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Duration

from export_constructs import ExportDestination, ForecastExportJob, PersonalizeDatasetExportJob
from export_constructs.testing import Scenario
from export_constructs.testing.fakes.base import FakeService

from .conftest import simulated

NAME = "users-export"


def synth(outdir: Path, *, prefix: str = "named/", minutes: int = 50) -> Path:
    """An unnamed Forecast job (its prefix changes with ``prefix``) and, after it, a Personalize
    job named ``NAME`` writing under ``prefix``, waiting ``minutes``."""
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Named")
    dest = ExportDestination(stack, "Exports")
    ForecastExportJob(
        stack,
        "Demand",
        forecast_arn=f"arn:{stack.partition}:forecast:{stack.region}:{stack.account}:forecast/shop_demand",
        destination=dest,
        prefix=f"forecast/{prefix}",
    )
    PersonalizeDatasetExportJob(
        stack,
        "Users",
        dataset_arn=f"arn:{stack.partition}:personalize:{stack.region}:{stack.account}:dataset/shop/USERS",
        destination=dest,
        job_name=NAME,
        prefix=prefix,
        timeout=Duration.minutes(minutes),
    )
    app.synth()
    return outdir


def test_a_changed_request_of_a_named_job_fails_the_update_and_the_rollback_keeps_every_job(tmp_path: Path) -> None:
    before, after = synth(tmp_path / "before"), synth(tmp_path / "after", prefix="other/")
    jobs: dict[str, int] = {}

    def count_jobs(fakes: Mapping[str, FakeService]) -> None:
        jobs.update({name: len(fakes[name].jobs) for name in ("Personalize", "Forecast")})

    result = simulated(before, "Personalize", Scenario.SUCCESS, update_to=after, before_delete=count_jobs)
    by_phase = [(s.logical_id[:-8], s.request_type, s.phase, s.status) for s in result.steps]
    assert by_phase == [
        ("Demand", "Create", "deploy", "SUCCESS"),
        ("Users", "Create", "deploy", "SUCCESS"),
        ("Demand", "Update", "update", "SUCCESS"),  # unnamed: a new job under the new prefix
        ("Users", "Update", "update", "FAILED"),
        ("Users", "Update", "rollback", "SUCCESS"),
        ("Demand", "Update", "rollback", "SUCCESS"),
        ("Demand", "Delete", "rollback", "SUCCESS"),  # the job the update started for Demand
        ("Users", "Delete", "delete", "SUCCESS"),
        ("Demand", "Delete", "delete", "SUCCESS"),
    ]
    users, demand = (result.step(s.logical_id) for s in result.steps[1::-1])
    failed = result.step(users.logical_id, "Update", "update")
    assert failed.reason.startswith("Error: Named/Users: "), "CloudFormation shows the framework's Error"
    assert f"job_name {NAME!r}" in failed.reason and "(jobOutput.s3DataDestination.path)" in failed.reason
    assert "new job_name" in failed.reason and "Nothing was started or stopped" in failed.reason

    kept = result.step(users.logical_id, "Update", "rollback")
    assert kept.physical_id == users.physical_id
    assert kept.data["OutputUri"] == users.data["OutputUri"] and kept.data["OutputUri"].endswith("/named/")
    moved_back = result.step(demand.logical_id, "Update", "rollback")
    assert moved_back.physical_id == demand.physical_id
    replaced = result.step(demand.logical_id, "Update", "update").physical_id
    assert replaced != demand.physical_id == result.step(demand.logical_id, "Delete", "delete").physical_id
    assert result.step(demand.logical_id, "Delete", "rollback").physical_id == replaced
    assert result.step(users.logical_id, "Delete", "delete").physical_id == users.physical_id

    assert jobs["Personalize"] == 1, "no second Personalize job was started"
    assert jobs["Forecast"] == 1, "Demand's job from the update was deleted; its original one is back"
    creates = [c for c in result.calls if c.operation == "CreateDatasetExportJob"]
    assert [c.error for c in creates] == [None, "ResourceAlreadyExistsException", "ResourceAlreadyExistsException"]
    assert "StopResource" not in result.operations("Forecast"), "nothing was stopped"


def test_a_named_job_whose_timeout_alone_changes_is_kept(tmp_path: Path) -> None:
    before, after = synth(tmp_path / "before"), synth(tmp_path / "after", minutes=55)
    result = simulated(before, "Personalize", Scenario.SUCCESS, update_to=after, delete=False)
    (update,) = [s for s in result.steps if s.request_type == "Update"]
    assert update.status == "SUCCESS" and update.physical_id == result.step(update.logical_id).physical_id
    assert [s.phase for s in result.steps] == ["deploy", "deploy", "update"]
    assert result.operations("Personalize").count("CreateDatasetExportJob") == 1

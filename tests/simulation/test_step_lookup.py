"""``SimulationResult.step()`` finds a resource's events by logical id, by construct path or by
the construct itself: an export job is its custom resource (``<job>/Resource``), never its
wait condition or its ``Result`` resource, which are found by their own constructs or paths."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import aws_cdk as cdk
import pytest
from aws_cdk import Duration

from export_constructs import ExportDestination, ForecastExportJob, PersonalizeDatasetExportJob
from export_constructs.testing import SimulationResult, simulate

from .conftest import copy_assembly


@dataclass(frozen=True)
class Synthesized:
    users: PersonalizeDatasetExportJob
    demand: ForecastExportJob
    """A long-wait job: a wait condition and a ``Result`` resource besides its own."""
    with_paths: SimulationResult
    """The simulation of the assembly as synthesized, with ``aws:cdk:path`` metadata."""
    without_paths: SimulationResult
    """The simulation of the same assembly without the metadata (as a bare ``cdk.App()`` writes)."""


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("paths")
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:enable-path-metadata": True})
    stack = cdk.Stack(app, "Lookup")
    dest = ExportDestination(stack, "Exports")
    users = PersonalizeDatasetExportJob(
        stack,
        "Users",
        dataset_arn=f"arn:{stack.partition}:personalize:{stack.region}:{stack.account}:dataset/shop/USERS",
        destination=dest,
    )
    demand = ForecastExportJob(
        stack,
        "Demand",
        forecast_arn=f"arn:{stack.partition}:forecast:{stack.region}:{stack.account}:forecast/shop_demand",
        destination=dest,
        timeout=Duration.hours(2),
    )
    app.synth()
    bare = copy_assembly(outdir, tmp_path_factory.mktemp("bare") / "cdk.out")
    template_file = bare / "Lookup.template.json"
    template = json.loads(template_file.read_text())
    for resource in template["Resources"].values():
        resource.get("Metadata", {}).pop("aws:cdk:path", None)
    template_file.write_text(json.dumps(template))
    return Synthesized(users, demand, simulate(outdir), simulate(bare))


def test_the_fixture_has_paths_and_a_copy_without(synthesized: Synthesized) -> None:
    assert {s.path for s in synthesized.with_paths.steps} >= {"Lookup/Users", "Lookup/Demand", "Lookup/Demand/Result"}
    assert not [s for s in synthesized.without_paths.steps if "/" in s.path]


@pytest.mark.parametrize("paths", [True, False], ids=["with-paths", "without-paths"])
def test_a_job_construct_is_its_resources_events(synthesized: Synthesized, paths: bool) -> None:
    result = synthesized.with_paths if paths else synthesized.without_paths
    for job, prefix in ((synthesized.users, "Users"), (synthesized.demand, "Demand")):
        created = result.step(job)
        assert re.fullmatch(f"{prefix}[0-9A-F]{{8}}", created.logical_id), created.logical_id
        assert created.request_type == "Create" and created.status == "SUCCESS"
        assert result.step(job, "Delete").logical_id == created.logical_id
        assert result.step(job.node.default_child) == created, "the job's resource is the job"


def test_a_long_wait_jobs_wait_condition_and_result_are_their_own_constructs(synthesized: Synthesized) -> None:
    for result in (synthesized.with_paths, synthesized.without_paths):
        assert synthesized.demand.wait_condition is not None
        wait = result.step(synthesized.demand.wait_condition)
        assert wait.service == "WaitCondition" and wait.status == "SUCCESS"
        report = result.step(synthesized.demand.node.find_child("Result"))
        assert report.logical_id.startswith("DemandResult") and report is not result.step(synthesized.demand)


@pytest.mark.parametrize(
    ("path", "logical_prefix"),
    [
        ("Lookup/Users", "Users"),
        ("Lookup/Users/Resource", "Users"),
        ("Lookup/Demand", "Demand"),
        ("Lookup/Demand/Result", "DemandResult"),
    ],
)
def test_a_construct_path_finds_the_resource(synthesized: Synthesized, path: str, logical_prefix: str) -> None:
    step = synthesized.with_paths.step(path)
    assert step.path == path.removesuffix("/Resource")
    assert re.fullmatch(f"{logical_prefix}[0-9A-F]{{8}}", step.logical_id)


def test_a_path_finds_the_request_type_and_phase_asked_or_is_a_key_error(synthesized: Synthesized) -> None:
    deleted = synthesized.with_paths.step("Lookup/Users", "Delete", "delete")
    assert (
        deleted.request_type == "Delete"
        and deleted.physical_id == synthesized.with_paths.step("Lookup/Users").physical_id
    )
    with pytest.raises(KeyError, match="no Update step of Lookup/Users"):
        synthesized.with_paths.step("Lookup/Users", "Update")
    with pytest.raises(KeyError, match="no Delete step of Lookup/Users in rollback"):
        synthesized.with_paths.step("Lookup/Users", "Delete", "rollback")
    with pytest.raises(KeyError, match="no Create step of Lookup/Nothing"):
        synthesized.with_paths.step("Lookup/Nothing")


def test_a_path_without_path_metadata_says_so(synthesized: Synthesized) -> None:
    with pytest.raises(KeyError, match=r"no aws:cdk:path metadata, .* pass the construct or its logical id"):
        synthesized.without_paths.step("Lookup/Users")


def test_anything_else_is_a_type_error(synthesized: Synthesized) -> None:
    with pytest.raises(TypeError, match="a logical id, a construct path or a construct, not 42"):
        synthesized.with_paths.step(42)


def test_a_failed_long_wait_job_is_failed_in_its_own_step_and_in_ok() -> None:
    """An RDS job with its default timeout (6 h: the long-wait path) whose export fails: its
    custom resource completed when the task started, the wait condition failed with RDS's reason.
    The job's step, ``ok`` and ``failures`` say so (they used to say SUCCESS, [] and nothing)."""
    from export_constructs import RdsSnapshotExportJob
    from export_constructs.testing import FAILURE_REASON, Scenario

    stack = cdk.Stack(cdk.App(), "RdsLong")
    orders = RdsSnapshotExportJob(
        stack,
        "Orders",
        source_arn=f"arn:{stack.partition}:rds:{stack.region}:{stack.account}:snapshot:shop-db-2026-12-01",
        destination=ExportDestination(stack, "Exports"),
    )
    assert orders.wait_condition is not None
    result = simulate(stack, scenario={"Rds": Scenario.FAILURE})
    step = result.step(orders)
    assert step.status == "FAILED" and FAILURE_REASON in step.reason
    assert result.ok is False and result.problems == []
    wait = result.step(orders.wait_condition)
    assert wait.service == "WaitCondition" and wait in result.failures and step.reason == wait.reason

"""The fault matrix (hardening): for each service x fault, what CloudFormation sees and which
API calls the handler made, through the synthesized sample app in the simulation.

| fault | how it is produced |
|---|---|
| throttling on start / on poll | ``Scenario.THROTTLING``: the first call of each operation and job is throttled |
| 5xx | ``Scenario.SERVER_ERRORS`` |
| access denied | ``Scenario.ACCESS_DENIED`` on the start call |
| job failed / never ends | ``Scenario.FAILURE`` / ``Scenario.NEVER_ENDS`` |
| retried Create | ``retry_create=True``: onEvent gets the same Create twice |
| Update / Delete mid-run | the job deployed with ``wait=False`` (still running), then updated / deleted |
| Delete after failed Create | the rollback Delete after ``FAILURE`` and after ``ACCESS_DENIED`` |
| Delete of a deleted job | the job removed from the fake service before the stack's Delete |
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from export_constructs.handler import consts
from export_constructs.testing import FAILURE_REASON, FakeService, Scenario, SimulationResult, simulate
from export_constructs.testing.responses import CREATE_FAILED_MARKER

from .conftest import SERVICES, change_request, edited, job_of, simulated

services = pytest.mark.parametrize("service", SERVICES)


@functools.cache
def scenario_run(assembly: Path, service: str, scenario: Scenario) -> SimulationResult:
    """One simulation per (service, scenario), shared by the tests that read it."""
    return simulated(assembly, service, scenario)


def calls(result: SimulationResult, service: str, operation: str) -> list[tuple[int, str | None]]:
    return [(c.status, c.error) for c in result.calls if c.service == service and c.operation == operation]


def created(result: SimulationResult, assembly: Path, service: str) -> Any:
    return result.step(job_of(assembly, service))


@services
def test_throttling_on_start_is_retried_by_botocore(sample_assembly: Path, service: str) -> None:
    spec = SERVICES[service]
    result = scenario_run(sample_assembly, service, Scenario.THROTTLING)
    assert created(result, sample_assembly, service).status == "SUCCESS"
    first, second = calls(result, service, spec.create)
    assert first[1] == spec.throttled and second[1] is None


@services
def test_throttling_on_poll_is_retried_by_botocore(sample_assembly: Path, service: str) -> None:
    spec = SERVICES[service]
    result = scenario_run(sample_assembly, service, Scenario.THROTTLING)
    polls = calls(result, service, spec.describe)
    assert polls[0][1] == spec.throttled and polls[1][1] is None
    assert created(result, sample_assembly, service).data["JobArn"]


@services
def test_5xx_is_retried_by_botocore(sample_assembly: Path, service: str) -> None:
    spec = SERVICES[service]
    result = scenario_run(sample_assembly, service, Scenario.SERVER_ERRORS)
    assert created(result, sample_assembly, service).status == "SUCCESS"
    for operation in (spec.create, spec.describe):
        statuses = [status for status, _ in calls(result, service, operation)]
        assert statuses[0] >= 500 and statuses[1] < 300, (operation, statuses)


@services
def test_access_denied_fails_the_create_at_once_and_the_rollback_delete_does_nothing(
    sample_assembly: Path, service: str
) -> None:
    spec = SERVICES[service]
    result = scenario_run(sample_assembly, service, Scenario.ACCESS_DENIED)
    step = created(result, sample_assembly, service)
    assert step.status == "FAILED" and "not authorized to perform" in step.reason
    assert step.physical_id == CREATE_FAILED_MARKER
    assert len(calls(result, service, spec.create)) == 1, "a refusal is not retried"
    operations = result.operations(service)
    after_refusal = operations[operations.index(spec.create) + 1 :]
    assert after_refusal == [], "the rollback Delete of a marker calls nothing"
    assert result.step(job_of(sample_assembly, service), "Delete", "rollback").status == "SUCCESS"


@services
def test_a_failed_job_fails_with_the_services_reason_and_its_rollback_delete_stops_nothing(
    sample_assembly: Path, service: str
) -> None:
    spec = SERVICES[service]
    result = scenario_run(sample_assembly, service, Scenario.FAILURE)
    step = created(result, sample_assembly, service)
    assert step.status == "FAILED" and FAILURE_REASON in step.reason
    assert result.step(job_of(sample_assembly, service), "Delete", "rollback").status == "SUCCESS"
    operations = result.operations(service)
    assert spec.stop not in operations, "an ended job is not stopped"
    if spec.release:
        assert spec.release in operations, "the failed job's record is removed, its S3 output kept"


@services
def test_a_job_that_never_ends_is_stopped_at_the_handlers_deadline(sample_assembly: Path, service: str) -> None:
    spec = SERVICES[service]
    result = scenario_run(sample_assembly, service, Scenario.NEVER_ENDS)
    step = created(result, sample_assembly, service)
    assert step.status == "FAILED" and "did not finish within the timeout" in step.reason
    assert step.simulated_seconds < 3600, "before the framework's own timeout"
    if spec.stop:
        assert spec.stop in result.operations(service)
    else:
        assert "may still be running" in step.reason


@services
def test_a_retried_create_adopts_the_job_it_started(sample_assembly: Path, service: str) -> None:
    jobs: list[int] = []

    def keep(services: Mapping[str, FakeService]) -> None:
        jobs.append(len(services[service].jobs))

    result = simulate(sample_assembly, scenario={service: Scenario.SUCCESS}, retry_create=True, before_delete=keep)
    assert result.problems == []
    step = created(result, sample_assembly, service)
    assert step.status == "SUCCESS"
    first, retried = step.retried_ids
    assert first == retried == step.physical_id
    assert jobs == [1], "one job, not two"


def _start_only(properties: dict[str, Any]) -> None:
    properties[consts.PROP_MODE] = consts.MODE_START


@functools.cache
def running_assembly(assembly: Path, tmp: Path, service: str) -> Path:
    """The sample app with ``service``'s job deployed by ``wait=False``: still running afterwards."""
    return edited(assembly, tmp / f"running-{service}", service, _start_only)


@services
def test_delete_mid_run_stops_the_job_where_the_api_can(
    sample_assembly: Path, tmp_path_factory: pytest.TempPathFactory, service: str
) -> None:
    spec = SERVICES[service]
    assembly = running_assembly(sample_assembly, tmp_path_factory.getbasetemp(), service)
    result = simulate(assembly, scenario={service: Scenario.SUCCESS})
    assert result.problems == []
    deleted = result.step(job_of(sample_assembly, service), "Delete")
    assert deleted.status == "SUCCESS"
    operations = result.operations(service)
    if spec.stop:
        assert spec.stop in operations
        stopped = len(operations) - 1 - operations[::-1].index(spec.stop)
        assert spec.describe in operations[stopped:], "Delete waits until the service has stopped the job"
    else:
        assert operations[-1] == spec.describe, "no API to stop it: Delete only looks"
    if spec.release:
        assert operations.index(spec.release) > operations.index(spec.stop or spec.create)


@services
def test_update_mid_run_starts_a_new_job_and_stops_the_old_one_where_the_api_can(
    sample_assembly: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, service: str
) -> None:
    spec = SERVICES[service]
    before = running_assembly(sample_assembly, tmp_path_factory.getbasetemp(), service)

    after = edited(before, tmp_path / "after", service, change_request(service))
    result = simulate(before, scenario={service: Scenario.SUCCESS}, update_to=after, delete=False)
    assert result.problems == []
    logical_id = job_of(sample_assembly, service)
    update = result.step(logical_id, "Update")
    cleanup = result.step(logical_id, "Delete", "cleanup")
    assert update.status == cleanup.status == "SUCCESS"
    assert update.physical_id != cleanup.physical_id == result.step(logical_id).physical_id
    started = [c for c in result.calls if c.service == service and c.operation == spec.create and c.error is None]
    assert len(started) == 2
    if spec.one_at_a_time:
        # The new job cannot start while the old one runs (it is queued until then): the cleanup
        # finds the old job ended, with nothing to stop.
        assert spec.stop not in result.operations(service)
    elif spec.stop:
        assert spec.stop in result.operations(service), "the old, still running job is stopped"


@services
def test_delete_of_a_job_deleted_out_of_band_succeeds(sample_assembly: Path, service: str) -> None:
    spec = SERVICES[service]

    def remove_jobs(fakes: Mapping[str, FakeService]) -> None:
        fakes[service].jobs.clear()

    result = simulate(sample_assembly, scenario={service: Scenario.SUCCESS}, before_delete=remove_jobs)
    assert result.problems == []
    deleted = result.step(job_of(sample_assembly, service), "Delete")
    assert deleted.status == "SUCCESS"
    assert spec.stop not in result.operations(service)
    last = [c for c in result.calls if c.service == service][-1]
    not_found = (200,) if spec.missing_is_empty else (400, 404)
    assert last.operation == spec.describe and last.status in not_found, "it looked, found nothing, and let go"

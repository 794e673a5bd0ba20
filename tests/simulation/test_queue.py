"""Jobs beyond a service's concurrency quota wait their turn, in the simulation: the
Forecast fake enforces its documented quota of 3 account-wide with LimitExceededException, and
the stack's independent jobs run in parallel as CloudFormation creates them."""

from __future__ import annotations

import math

import aws_cdk as cdk
import pytest

from export_constructs import ExportDestination, ExportJobProvider, ForecastExportJob
from export_constructs.handler import consts
from export_constructs.testing import Scenario, SimulationResult, Step, simulate

INTERVAL = 30.0  # the provider's query interval
QUOTA = 3


DEFAULT_TIMEOUT = cdk.Duration.minutes(50)


def _stack(
    jobs: int, timeout: cdk.Duration = DEFAULT_TIMEOUT, max_concurrent: dict[str, int | None] | None = None
) -> cdk.Stack:
    stack = cdk.Stack(cdk.App(), "Queue")
    if max_concurrent is not None:
        ExportJobProvider(stack, ExportJobProvider.ID, max_concurrent=max_concurrent)
    destination = ExportDestination(stack, "Exports")
    forecast = f"arn:{stack.partition}:forecast:{stack.region}:{stack.account}:forecast/demand"
    for n in range(jobs):
        ForecastExportJob(stack, f"Demand{n}", destination=destination, forecast_arn=forecast, timeout=timeout)
    return stack


def _creates(result: SimulationResult) -> list[Step]:
    return [s for s in result.steps if s.request_type == "Create"]


@pytest.fixture(scope="module")
def polite() -> SimulationResult:
    """20 jobs, the provider's default max_concurrent (Forecast's quota, 3)."""
    return simulate(_stack(20))


@pytest.fixture(scope="module")
def unlimited() -> SimulationResult:
    """20 jobs, max_concurrent None: the service's refusals queue them."""
    return simulate(_stack(20, max_concurrent={"Forecast": None}))


def _within_the_limit(result: SimulationResult) -> None:
    creates = _creates(result)
    assert len(creates) == 20
    assert [s.status for s in creates] == ["SUCCESS"] * 20, [s.reason for s in creates if s.status != "SUCCESS"]
    assert result.problems == []
    duration = max(s.simulated_seconds for s in creates[:QUOTA])  # D: the first jobs start at once
    complete = result_complete(result)
    assert complete <= math.ceil(20 / QUOTA) * duration + 2 * INTERVAL, (complete, duration)
    assert all(s.physical_id and s.physical_id.startswith("arn:") for s in creates)  # queued:<name> replaced
    assert len({s.physical_id for s in creates}) == 20


def result_complete(result: SimulationResult) -> float:
    """The virtual time at which the last job resource was created (the deployment starts at 0)."""
    return max(s.started_at + s.simulated_seconds for s in _creates(result))


def test_twenty_forecast_jobs_in_three_lanes_all_succeed_within_the_limit(polite: SimulationResult) -> None:
    _within_the_limit(polite)


def test_the_provider_starts_at_most_three_and_the_others_wait_without_calling_the_service(
    polite: SimulationResult,
) -> None:
    creates = [c for c in polite.calls if c.service == "Forecast" and c.operation == "CreateForecastExportJob"]
    assert len(creates) == 20 and not [c for c in creates if c.error]  # nobody was refused
    starts = sorted(s.started_at for s in _creates(polite))
    assert starts[:QUOTA] == [0.0] * QUOTA and starts[QUOTA] > 0  # the fourth waited for a lane


def test_twenty_forecast_jobs_without_a_limit_queue_on_the_services_refusal_and_succeed_within_the_limit(
    unlimited: SimulationResult,
) -> None:
    _within_the_limit(unlimited)
    calls = [c for c in unlimited.calls if c.service == "Forecast"]
    creates = [c for c in calls if c.operation == "CreateForecastExportJob"]
    refused = [c for c in creates if c.error == "LimitExceededException"]
    assert len(creates) - len(refused) == 20  # each job started once
    assert refused  # the quota was reached: the others queued
    waited = [int(s.data[consts.ATTR_QUEUED_SECONDS]) for s in _creates(unlimited)]
    assert max(waited) >= 5 * INTERVAL


def test_a_busy_account_makes_jobs_wait_then_succeed() -> None:
    result = simulate(_stack(2), scenario={"Forecast": Scenario.BUSY}, busy_seconds=300)
    creates = _creates(result)
    assert [s.status for s in creates] == ["SUCCESS", "SUCCESS"], [s.reason for s in creates]
    assert result.problems == []
    for step in creates:
        assert int(step.data[consts.ATTR_QUEUED_SECONDS]) >= 300
        assert step.simulated_seconds > 300


def test_a_job_queued_until_its_deadline_fails_and_its_rollback_stops_nothing() -> None:
    result = simulate(
        _stack(1, timeout=cdk.Duration.minutes(2)), scenario={"Forecast": Scenario.BUSY}, busy_seconds=3600
    )
    create = _creates(result)[0]
    assert create.status == "FAILED"
    assert "still queued at its deadline" in create.reason and "LimitExceededException" in create.reason
    assert "Forecast export job" in create.reason and "for 120 s" in create.reason
    assert create.physical_id and create.physical_id.startswith(consts.QUEUED_ID_PREFIX)
    rollback = result.step(create.logical_id, "Delete", "rollback")
    assert rollback.status == "SUCCESS"
    operations = result.operations("Forecast")
    assert "StopResource" not in operations and "DeleteForecastExportJob" not in operations
    assert result.problems == []

"""The Python simulation (``simulate()``, which re-implements the framework's rules) against the
framework's own code: for the same stack, scenario and timeline, each event of each sample job
ends the same way (status, physical id, attributes, polls, virtual time), and a failure's Reason
is the same Error, ``Logs:`` line and stack frames, as Lambda would show it."""

from __future__ import annotations

import functools
import importlib
import json
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from export_constructs.testing import FakeService, Scenario, SimulationResult, Step, VirtualClock, simulate
from export_constructs.testing.assembly import StackTemplate, read_assembly
from export_constructs.testing.resolver import Pseudo, Resolver, stringify

from ..simulation.conftest import TEMPLATE, change_request, edited, job_of
from .conftest import SERVICES, STACK
from .harness import MAX_RESPONSE_BYTES, Deployment, FrameworkSession, Outcome, response_body
from .test_failures import QUOTA_SERVICES

# The module, not the function export_constructs.testing re-exports under the same name.
simulation = importlib.import_module("export_constructs.testing.simulate")

#: Both runs deploy the same stack id and start their clocks at the same instant, so the job
#: names (derived from the stack id), the handler's times and the fakes' timestamps agree.
STACK_UUID = "0c0ffee0-5eed-4a11-9000-000000000001"
ORIGIN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class PinnedClock(VirtualClock):
    def __init__(self) -> None:
        super().__init__()
        self.origin = ORIGIN


@dataclass
class Simulated:
    result: SimulationResult
    fakes: dict[str, FakeService]
    """simulate()'s fake services, by service: their jobs, in the order they were created."""


def simulated(source: Path, scenario: Scenario | Mapping[str, Scenario], **kwargs: Any) -> Simulated:
    """``simulate()`` with its stack id and clock pinned to this module's, its fakes kept. Without
    iam-simulate: the authorization is tested in tests/simulation, the outcome is compared here."""
    fakes: dict[str, FakeService] = {}
    make_fake = simulation.fake_class

    def recording(service: str) -> Callable[..., FakeService]:
        def make(**options: Any) -> FakeService:
            fakes[service] = make_fake(service)(**options)
            return fakes[service]

        return make

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(simulation, "fake_class", recording)
        patch.setattr(simulation, "Pseudo", functools.partial(Pseudo, stack_uuid=STACK_UUID))
        patch.setattr(simulation, "VirtualClock", PinnedClock)
        result = simulate(source, scenario=scenario, authorize=False, **kwargs)
    assert result.problems == []
    return Simulated(result, fakes)


@pytest.fixture(scope="module")
def updated_out(sample_out: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample assembly with every job's request changed (each job is replaced on update)."""
    target = tmp_path_factory.mktemp("framework-updated") / "cdk.out"
    shutil.copytree(sample_out, target)
    path = target / TEMPLATE
    template = json.loads(path.read_text())
    for service in SERVICES:
        change_request(service)(template["Resources"][job_of(sample_out, service)]["Properties"])
    path.write_text(json.dumps(template))
    return target


@pytest.fixture(scope="module")
def updated_sample(updated_out: Path) -> StackTemplate:
    (stack,) = read_assembly(updated_out, {STACK})
    return stack


@pytest.fixture(scope="module")
def simulated_update(sample_out: Path, updated_out: Path) -> Simulated:
    return simulated(sample_out, Scenario.SUCCESS, update_to=updated_out)


@pytest.fixture(scope="module")
def simulated_busy(sample_out: Path) -> Simulated:
    return simulated(sample_out, Scenario.BUSY)


def normalizer(fakes: Mapping[str, FakeService], service: str) -> Callable[[Any], Any]:
    """Replaces the ids the fake made up (Pinpoint's and RoboMaker's random job ids, CloudWatch
    Logs' task ids) with ``<job N>``, N counting the fake's jobs in their order."""
    ids = [key.rsplit("/", 1)[-1] for key in fakes[service].jobs]

    def normal(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: normal(v) for k, v in value.items()}
        if isinstance(value, str):
            for index, job_id in enumerate(ids, 1):
                value = value.replace(job_id, f"<job {index}>")
        return value

    return normal


def replay(
    deployment: Deployment, service: str, steps: list[Step], updated: StackTemplate | None = None
) -> Iterator[tuple[Step, Outcome]]:
    """The simulation's events of ``service``'s job, sent through the framework as CloudFormation
    sends them, each at the virtual instant the simulation sent it: Create; Update to the
    ``updated`` template's properties (a new physical id replaces the old resource); Delete of
    the replaced resource (``cleanup``) or of the live one."""
    job = deployment.job(service)
    properties = deployment.properties(job)
    live: str | None = None
    replaced: list[tuple[str, dict[str, Any]]] = []
    for step in steps:
        wait = step.started_at - deployment.clock.elapsed
        assert wait >= 0, f"the framework run is {-wait} s behind the simulation at {step.request_type}"
        deployment.clock.advance(wait)
        if step.request_type == "Create":
            outcome = deployment.send(job, "Create", properties=properties)
            live = outcome.physical_id
        elif step.request_type == "Update":
            assert updated is not None and live is not None
            resolver = Resolver(updated.template, deployment.pseudo)
            (target,) = [j for j in updated.jobs(resolver) if j.logical_id == job.logical_id]
            changed: dict[str, Any] = stringify(resolver.resolve(dict(target.properties)))
            outcome = deployment.send(job, "Update", properties=changed, physical_id=live, old_properties=properties)
            if outcome.status == "SUCCESS" and outcome.physical_id != live:
                replaced.append((live, properties))
                live, properties = outcome.physical_id, changed
        elif step.phase == "cleanup":
            physical, old = replaced.pop(0)
            outcome = deployment.send(job, "Delete", properties=old, physical_id=physical)
        else:
            assert live is not None
            outcome = deployment.send(job, "Delete", properties=properties, physical_id=live)
        yield step, outcome


def as_lambda_shows(deployment: Deployment | None, reason: str) -> str:
    """``reason`` with the framework asset's folder as Lambda names it (/var/task) and Node's own
    task-queue frame's position left out."""
    if deployment is not None:
        reason = reason.replace(str(deployment.framework_code()), "/var/task")
    return re.sub(r"task_queues:\d+:\d+", "task_queues:*", reason)


def compare(
    deployment: Deployment, simulation_run: Simulated, service: str, updated: StackTemplate | None = None
) -> list[tuple[Step, Outcome]]:
    logical_id = deployment.job(service).logical_id
    steps = [s for s in simulation_run.result.steps if s.logical_id == logical_id]
    pairs = list(replay(deployment, service, steps, updated))
    ours, theirs = normalizer(deployment.fakes, service), normalizer(simulation_run.fakes, service)
    checker = deployment.function_arn(deployment.is_complete_function())
    for step, outcome in pairs:
        event = f"{step.request_type} ({step.phase})"
        assert (outcome.status, ours(outcome.physical_id)) == (step.status, theirs(step.physical_id)), event
        assert ours(outcome.data) == theirs(step.data), event
        assert list(outcome.data) == list(step.data), event
        assert (len(outcome.invoked(checker)), outcome.seconds) == (step.polls, step.simulated_seconds), event
        failures = [i for i in outcome.invocations if i.function_error]
        if step.status == "FAILED" and failures:
            message = ours(failures[-1].payload["errorMessage"])
            assert message in ours(outcome.reason), event
            # The simulation shows the Reason as CloudFormation receives it from Lambda: the same
            # Error, Logs line and frames (/var/task for the asset folder; Node's own task-queue
            # line may differ by Node.js version).
            shown = as_lambda_shows(deployment, ours(outcome.reason))
            assert shown == as_lambda_shows(None, theirs(step.reason)), event
            assert step.response_bytes < MAX_RESPONSE_BYTES and outcome.size < MAX_RESPONSE_BYTES, event
        elif step.status == "FAILED":  # the framework's own reason (onTimeout's)
            assert outcome.reason == step.reason, event
        else:
            assert failures == [] and step.reason == "" and outcome.reason == "SUCCESS", event
    return pairs


@pytest.mark.parametrize("service", SERVICES)
def test_update_agrees(
    framework: FrameworkSession,
    sample: StackTemplate,
    updated_sample: StackTemplate,
    simulated_update: Simulated,
    service: str,
) -> None:
    with Deployment(framework, sample, clock=PinnedClock(), stack_uuid=STACK_UUID) as deployment:
        pairs = compare(deployment, simulated_update, service, updated_sample)
    assert [(s.request_type, s.phase) for s, _ in pairs] == [
        ("Create", "deploy"),
        ("Update", "update"),
        ("Delete", "cleanup"),
        ("Delete", "delete"),
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_failure_agrees(framework: FrameworkSession, sample_out: Path, sample: StackTemplate, service: str) -> None:
    run = simulated(sample_out, {service: Scenario.FAILURE})
    with Deployment(
        framework, sample, scenario={service: Scenario.FAILURE}, clock=PinnedClock(), stack_uuid=STACK_UUID
    ) as deployment:
        pairs = compare(deployment, run, service)
    assert [(s.request_type, s.phase, s.status) for s, _ in pairs] == [
        ("Create", "deploy", "FAILED"),
        ("Delete", "rollback", "SUCCESS"),
    ]


@pytest.mark.parametrize("service", QUOTA_SERVICES)
def test_queued_start_agrees(
    framework: FrameworkSession, sample: StackTemplate, simulated_busy: Simulated, service: str
) -> None:
    with Deployment(
        framework, sample, scenario=Scenario.BUSY, clock=PinnedClock(), stack_uuid=STACK_UUID
    ) as deployment:
        pairs = compare(deployment, simulated_busy, service)
    (create, _), (delete, _) = pairs
    assert int(create.data["QueuedSeconds"]) > 0 and create.physical_id and not create.physical_id.startswith("queued:")
    assert (delete.request_type, delete.phase) == ("Delete", "delete")


def test_waiter_timeout_agrees(framework: FrameworkSession, sample_out: Path, tmp_path: Path) -> None:
    """A job that never ends, with a timeout beyond the waiter's: isComplete answers not yet until
    the waiter's Retry gives up (MaxAttempts after the first attempt, IntervalSeconds apart), its
    Catch runs onTimeout, which answers FAILED ``Operation timed out`` for the job's id."""
    service = "Personalize"
    late = edited(sample_out, tmp_path / "cdk.out", service, lambda p: p.update(TimeoutSeconds=7200))
    (stack,) = read_assembly(late, {STACK})
    run = simulated(late, {service: Scenario.NEVER_ENDS})
    with Deployment(
        framework, stack, scenario={service: Scenario.NEVER_ENDS}, clock=PinnedClock(), stack_uuid=STACK_UUID
    ) as deployment:
        provider = deployment.job(service).provider
        (create, ours), (rollback, _) = compare(deployment, run, service)
    assert (create.status, rollback.phase) == ("FAILED", "rollback")
    assert create.polls == provider.max_attempts + 1
    assert ours.seconds == provider.max_attempts * provider.interval_seconds
    assert [c.handler for c in ours.calls][-2:] == ["framework.isComplete", "framework.onTimeout"]
    job_id = str(ours.invocations[0].payload["PhysicalResourceId"])
    assert ours.response.body == response_body(ours.request, "FAILED", job_id, reason="Operation timed out")

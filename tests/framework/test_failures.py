"""Failed jobs, queued starts and long reasons through the Provider framework's own code: the
Reason and physical id CloudFormation receives, and the response's size."""

from __future__ import annotations

import importlib

import pytest

from export_constructs import services
from export_constructs.testing import FAILURE_REASON, Scenario
from export_constructs.testing.assembly import StackTemplate

from .conftest import SERVICES, assert_framework_reason, check_data
from .harness import MAX_RESPONSE_BYTES, Deployment, FrameworkSession, response_body

#: The services with a documented quota of concurrent jobs (their fakes enforce it).
QUOTA_SERVICES = tuple(s.name for s in services.SERVICES if s.quota is not None)


@pytest.mark.parametrize("service", SERVICES)
def test_failure_reason(framework: FrameworkSession, sample: StackTemplate, service: str) -> None:
    """The job fails with the service's reason: isComplete raises, the framework answers FAILED
    with its Error's stack as the Reason and the job's id as the physical id; the rollback Delete
    succeeds."""
    with Deployment(framework, sample, scenario={service: Scenario.FAILURE}) as deployment:
        job = deployment.job(service)
        checker = deployment.is_complete_function()
        properties = deployment.properties(job)

        create = deployment.send(job, "Create", properties=properties)
        assert create.status == "FAILED"
        *_, failed = create.invoked(deployment.function_arn(checker))
        assert failed.function_error == "Unhandled"
        # The Python runtime's error payload, as Lambda's Invoke returns it: the exception's
        # str() and class name, the invocation's id, the frames from the handler's entry point.
        assert list(failed.payload) == ["errorMessage", "errorType", "requestId", "stackTrace"]
        assert failed.payload["errorType"].isidentifier() and failed.payload["requestId"]
        assert failed.payload["stackTrace"][0].startswith('  File "/var/task/handler/entry.py"')
        assert_framework_reason(deployment, create.reason, failed.payload, checker, "isComplete")
        assert FAILURE_REASON in create.reason
        job_id = str(create.invocations[0].payload["PhysicalResourceId"])  # what onEvent answered
        assert create.physical_id == job_id and not job_id.startswith("queued:")
        assert create.response.body == response_body(create.request, "FAILED", job_id, reason=create.reason)
        assert create.size < MAX_RESPONSE_BYTES

        rollback = deployment.send(job, "Delete", properties=properties, physical_id=job_id)
        assert rollback.response.body == response_body(rollback.request, "SUCCESS", job_id, data={})


@pytest.mark.parametrize("service", QUOTA_SERVICES)
def test_queued_start(framework: FrameworkSession, sample: StackTemplate, service: str) -> None:
    """The service refuses the start (another stack's jobs fill its quota for 600 s): onEvent
    answers ``queued:<job name>``, isComplete starts the job once there is room and answers its
    id, which the framework puts in CloudFormation's response in place of the queued one."""
    busy = 600.0
    with Deployment(framework, sample, scenario={service: Scenario.BUSY}, busy_seconds=busy) as deployment:
        job = deployment.job(service)
        checker = deployment.function_arn(deployment.is_complete_function())
        properties = deployment.properties(job)

        create = deployment.send(job, "Create", properties=properties)
        on_event = create.invocations[0]
        queued = str(on_event.payload["PhysicalResourceId"])
        assert queued.startswith("queued:")
        (execution,) = create.executions
        assert execution.input and create.invoked(checker)[0].event["PhysicalResourceId"] == queued
        job_id = create.physical_id
        assert job_id != queued and not job_id.startswith("queued:")
        check_data(deployment, service, create.data, job_id=job_id)
        assert busy - job.provider.interval_seconds <= int(create.data["QueuedSeconds"]) <= busy
        assert create.response.body == response_body(create.request, "SUCCESS", job_id, data=create.data)
        assert create.seconds >= busy

        delete = deployment.send(job, "Delete", properties=properties, physical_id=job_id)
        assert delete.response.body == response_body(delete.request, "SUCCESS", job_id, data={})


def long_reason(size: int = 10_000) -> str:
    """A service reason of exactly ``size`` UTF-8 bytes, with 2-byte characters in it."""
    unit = "AccessDenied: écriture refusée sur s3:PutObject. "  # 51 bytes
    text = (unit * (size // len(unit.encode()) + 1)).encode()[:size].decode("utf-8", errors="ignore")
    text += "." * (size - len(text.encode()))
    assert len(text.encode()) == size
    return text


@pytest.mark.parametrize("service", SERVICES)
def test_long_failure_reason_fits_the_response(
    framework: FrameworkSession, sample: StackTemplate, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 10,000-byte reason from the service still makes a response CloudFormation accepts:
    the handler bounds its exceptions' messages in UTF-8 bytes, leaving room for what the
    framework adds (its ``Logs:`` line and Node.js's stack frames) and the JSON around it."""
    reason = long_reason()
    # A fake fails a job with FAILURE_REASON as its module or the fakes' base imported it (the
    # assertion below shows the reason arrived).
    for name in (service.lower(), "base"):
        module = importlib.import_module(f"export_constructs.testing.fakes.{name}")
        if hasattr(module, "FAILURE_REASON"):
            monkeypatch.setattr(module, "FAILURE_REASON", reason)
    with Deployment(framework, sample, scenario={service: Scenario.FAILURE}) as deployment:
        job = deployment.job(service)
        checker = deployment.is_complete_function()
        create = deployment.send(job, "Create", properties=deployment.properties(job))
        assert create.status == "FAILED"
        *_, failed = create.invoked(deployment.function_arn(checker))
        assert_framework_reason(deployment, create.reason, failed.payload, checker, "isComplete")
        assert reason[:200] in create.reason
        assert create.size < MAX_RESPONSE_BYTES, f"the response is {create.size} bytes"

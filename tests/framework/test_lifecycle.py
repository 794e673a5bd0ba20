"""Each sample job's Create, replacing Update and Deletes through the Provider framework's own
code: the exact response CloudFormation receives for each."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest

from export_constructs.testing import Scenario
from export_constructs.testing.assembly import StackTemplate

from ..simulation.conftest import SERVICES as API
from ..simulation.conftest import change_request
from .conftest import SERVICES, assert_framework_reason, check_data
from .harness import CREATE_FAILED_MARKER, MAX_RESPONSE_BYTES, Deployment, FrameworkSession, response_body


def started(jobs: Mapping[str, Any], index: int) -> str:
    """The id the fake gave its ``index``-th job (Pinpoint's fake keys jobs by application too)."""
    return list(jobs)[index].rsplit("/", 1)[-1]


@pytest.mark.parametrize("service", SERVICES)
def test_create_update_delete(framework: FrameworkSession, sample: StackTemplate, service: str) -> None:
    with Deployment(framework, sample) as deployment:
        job = deployment.job(service)
        fake = deployment.fakes[service]
        checker = deployment.function_arn(deployment.is_complete_function())
        properties = deployment.properties(job)

        create = deployment.send(job, "Create", properties=properties)
        first_job = create.physical_id
        assert len(fake.jobs) == 1 and started(fake.jobs, 0) in first_job  # the job the service started
        check_data(deployment, service, create.data, job_id=first_job)
        assert create.data["Status"] == API[service].succeeded
        assert create.response.body == response_body(create.request, "SUCCESS", first_job, data=create.data)
        # The waiter's Retry: one isComplete at once, then one every IntervalSeconds, each in its
        # own framework isComplete attempt.
        polls = len(create.invoked(checker))
        assert polls >= 2
        assert create.seconds == job.provider.interval_seconds * (polls - 1)
        assert [c.handler for c in create.calls] == ["framework.onEvent"] + ["framework.isComplete"] * polls

        changed = copy.deepcopy(properties)
        change_request(service)(changed)
        update = deployment.send(job, "Update", properties=changed, physical_id=first_job, old_properties=properties)
        second_job = update.physical_id
        assert second_job != first_job
        assert len(fake.jobs) == 2 and started(fake.jobs, 1) in second_job
        check_data(deployment, service, update.data, job_id=second_job)
        assert update.response.body == response_body(update.request, "SUCCESS", second_job, data=update.data)

        # CloudFormation deletes the replaced resource once the update is complete, then the stack.
        cleanup = deployment.send(job, "Delete", properties=properties, physical_id=first_job)
        assert cleanup.response.body == response_body(cleanup.request, "SUCCESS", first_job, data={})
        delete = deployment.send(job, "Delete", properties=changed, physical_id=second_job)
        assert delete.response.body == response_body(delete.request, "SUCCESS", second_job, data={})

        for outcome in (create, update, cleanup, delete):
            assert outcome.size < MAX_RESPONSE_BYTES
            assert outcome.invoked(deployment.function_arn(deployment.on_event_function()))


@pytest.mark.parametrize("service", SERVICES)
def test_delete_after_create_failed_without_id(
    framework: FrameworkSession, sample: StackTemplate, service: str
) -> None:
    """onEvent fails (the start is refused): the framework answers FAILED with its marker as the
    physical id, and the Delete CloudFormation then sends SUCCESS without calling the handler."""
    with Deployment(framework, sample, scenario={service: Scenario.ACCESS_DENIED}) as deployment:
        job = deployment.job(service)
        on_event = deployment.function_arn(deployment.on_event_function())
        properties = deployment.properties(job)

        create = deployment.send(job, "Create", properties=properties)
        (invocation,) = create.invocations
        assert invocation.function_arn == on_event and invocation.function_error == "Unhandled"
        assert create.physical_id == CREATE_FAILED_MARKER
        assert not create.executions  # no waiter
        assert_framework_reason(
            deployment, create.reason, invocation.payload, deployment.on_event_function(), "onEvent"
        )
        assert "is not authorized to perform" in create.reason  # the fakes' refusal
        assert create.response.body == response_body(
            create.request, "FAILED", CREATE_FAILED_MARKER, reason=create.reason
        )
        assert create.size < MAX_RESPONSE_BYTES

        delete = deployment.send(job, "Delete", properties=properties, physical_id=CREATE_FAILED_MARKER)
        assert delete.invocations == []
        assert [c.handler for c in delete.calls] == ["framework.onEvent"]
        assert delete.response.body == response_body(delete.request, "SUCCESS", CREATE_FAILED_MARKER)

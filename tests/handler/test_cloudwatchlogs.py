"""The engine and the CloudWatch Logs adapter through every lifecycle path, against botocore's
Stubber (which checks each request and canned response against the ``logs`` model), with the
events the Provider framework sends (``tests/events/cloudwatchlogs_create.json`` is what the
construct synthesizes: tests/constructs/test_cloudwatchlogs.py pins it)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from export_constructs.handler import consts
from export_constructs.handler.adapters.base import BucketNotOwned, JobConflict, JobNotFound, JobSpec, JobState, Phase
from export_constructs.handler.adapters.cloudwatchlogs import WINDOW_MEMBER, Adapter, api_request
from export_constructs.handler.clients import queue_instead_of_retrying
from export_constructs.handler.engine import DeadlineExceeded, Engine, JobFailed, derive_job_name, load_adapter
from export_constructs.handler.event import Arn, ResourceEvent

from .conftest import Clock, stubbed_client
from .events import STACK_ID, after_on_event, load, request

EVENT = load("cloudwatchlogs_create")
PROPS = EVENT["ResourceProperties"]
REQUEST = PROPS["Request"]
TASK_ID = "cda45419-90ea-4db5-9833-aade86253e66"
OTHER_ID = "0b6e3c1e-7d4f-4a55-9d31-4b8f0a1c2d3e"
NOW = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
DAY_MS = 86_400_000
FIXED = {k: v for k, v in REQUEST.items() if k != WINDOW_MEMBER} | {"from": 1_793_491_200_000, "to": 1_793_577_600_000}


@pytest.fixture
def logs() -> Iterator[tuple[Any, Stubber]]:
    client, stubber = stubbed_client("logs")
    with stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def at_now(clock: Clock) -> Clock:
    clock.now = NOW
    return clock


def adapter(client: Any = None) -> Adapter:
    loaded = load_adapter("cloudwatchlogs", lambda _: client)
    assert isinstance(loaded, Adapter)
    return loaded


def event(request_type: str = "Create", request_: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    ev = copy.deepcopy(EVENT)
    ev["RequestType"] = request_type
    if request_ is not None:
        ev["ResourceProperties"]["Request"] = copy.deepcopy(request_)
    ev.update(changes)
    return ev


def name(ev: dict[str, Any] = EVENT) -> str:
    return derive_job_name(ResourceEvent.from_dict(ev), adapter(), ev["ResourceProperties"])


def task(
    status: str,
    *,
    task_id: str = TASK_ID,
    task_name: str | None = None,
    start: int = NOW_MS - DAY_MS,
    end: int = NOW_MS,
    request_: dict[str, Any] = REQUEST,
    message: str | None = None,
    created: int = NOW_MS,
) -> dict[str, Any]:
    described: dict[str, Any] = {
        "taskId": task_id,
        "taskName": task_name or name(),
        "logGroupName": request_["logGroupName"],
        "from": start,
        "to": end,
        "destination": request_["destination"],
        "destinationPrefix": request_["destinationPrefix"],
        "status": {"code": status},
        "executionInfo": {"creationTime": created},
    }
    if message is not None:
        described["status"]["message"] = message
    return described


def listing(stub: Stubber, *tasks: dict[str, Any], token: str | None = None, next_token: str | None = None) -> None:
    response: dict[str, Any] = {"exportTasks": list(tasks)}
    if next_token:
        response["nextToken"] = next_token
    stub.add_response("describe_export_tasks", response, {"nextToken": token} if token else {})


def describe(stub: Stubber, status: str, task_id: str = TASK_ID, **kwargs: Any) -> None:
    stub.add_response(
        "describe_export_tasks", {"exportTasks": [task(status, task_id=task_id, **kwargs)]}, {"taskId": task_id}
    )


def describe_gone(stub: Stubber, task_id: str = TASK_ID) -> None:
    stub.add_response("describe_export_tasks", {"exportTasks": []}, {"taskId": task_id})


def create(stub: Stubber, *, start: int = NOW_MS - DAY_MS, end: int = NOW_MS, task_name: str | None = None) -> None:
    expected = {k: v for k, v in REQUEST.items() if k != WINDOW_MEMBER}
    stub.add_response(
        "create_export_task",
        {"taskId": TASK_ID},
        {**expected, "from": start, "to": end, "taskName": task_name or name()},
    )


def refuse(stub: Stubber) -> None:
    stub.add_client_error("create_export_task", "LimitExceededException", "Resource limit exceeded.", 400)


def engine_for(client: Any, clock: Clock, sleeps: list[float] | None = None, *, s3: Any = None) -> Engine:
    """An engine whose clients are ``client`` (and ``s3``, where given, for S3's calls)."""
    return Engine(
        lambda name: s3 if name == "s3" and s3 is not None else client,
        clock=clock,
        sleep=(sleeps if sleeps is not None else []).append,
        jitter=lambda: 0.5,
    )


def polled(on_event_result: dict[str, Any], ev: dict[str, Any] | None = None) -> dict[str, Any]:
    return after_on_event(ev or event(), on_event_result)


# -- names, ids, requests ---------------------------------------------------------------------


def test_the_derived_task_name_is_stable_and_within_the_models_512_characters() -> None:
    derived = name()
    assert derived == name()
    assert derived.startswith("ex1c2fa620_OrdersLogs18C7443B_")
    assert 1 <= len(derived) <= 512
    changed = event(request_={**REQUEST, WINDOW_MEMBER: 2 * DAY_MS})
    assert name(changed) != derived  # a changed request derives a new name: a new task


def test_the_adapter_owns_task_ids_only() -> None:
    a = adapter()
    assert a.owns(TASK_ID)
    assert not a.owns("queued:ex1c2fa620_OrdersLogs18C7443B_abc")
    assert not a.owns("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/orders")
    assert not a.owns(None)


def test_a_window_becomes_from_and_to_ending_at_the_start_and_is_never_sent() -> None:
    spec = JobSpec(name="n", request=REQUEST, stack=Arn.parse(STACK_ID), requested_at=NOW)
    sent = api_request(spec)
    assert sent == {**{k: v for k, v in REQUEST.items() if k != WINDOW_MEMBER}, "from": NOW_MS - DAY_MS, "to": NOW_MS}
    assert WINDOW_MEMBER not in sent
    later = api_request(
        JobSpec(name="n", request=REQUEST, stack=Arn.parse(STACK_ID), requested_at=NOW + timedelta(hours=1))
    )
    assert later["to"] == NOW_MS + 3_600_000  # computed from the clock, not the template


def test_the_engine_loads_this_adapter_by_resource_type() -> None:
    assert ResourceEvent.from_dict(EVENT).adapter_name == "cloudwatchlogs"
    loaded = load_adapter("cloudwatchlogs", lambda _: None)
    assert loaded.quota_errors == {"LimitExceededException"}
    assert loaded.can_stop


# -- create and poll -----------------------------------------------------------------------------


def test_create_lists_then_creates_with_the_window_computed_from_the_clock(
    logs: tuple[Any, Stubber], at_now: Clock
) -> None:
    client, stub = logs
    listing(stub)
    create(stub)
    assert engine_for(client, at_now).on_event(event()) == {"PhysicalResourceId": TASK_ID}


def test_a_fixed_range_is_sent_as_synthesized(logs: tuple[Any, Stubber], at_now: Clock) -> None:
    client, stub = logs
    listing(stub)
    stub.add_response("create_export_task", {"taskId": TASK_ID}, {**FIXED, "taskName": name(event(request_=FIXED))})
    assert engine_for(client, at_now).on_event(event(request_=FIXED)) == {"PhysicalResourceId": TASK_ID}


def test_polls_until_completed_then_reports_the_attributes(logs: tuple[Any, Stubber], at_now: Clock) -> None:
    client, stub = logs
    ev = polled({"PhysicalResourceId": TASK_ID})
    describe(stub, "PENDING")
    describe(stub, "RUNNING")
    describe(stub, "COMPLETED")
    engine = engine_for(client, at_now)
    assert engine.is_complete(ev) == {"IsComplete": False}
    assert engine.is_complete(ev) == {"IsComplete": False}
    done = engine.is_complete(ev)
    assert done["IsComplete"] is True
    assert done["Data"] == {
        consts.ATTR_JOB_ARN: TASK_ID,
        consts.ATTR_JOB_NAME: name(),
        consts.ATTR_STATUS: "COMPLETED",
        consts.ATTR_OUTPUT_URI: f"s3://{REQUEST['destination']}/logs/orders/",
        consts.ATTR_QUEUED_SECONDS: "0",
        "From": str(NOW_MS - DAY_MS),
        "To": str(NOW_MS),
    }


@pytest.mark.parametrize(
    ("status", "message", "reason"),
    [
        ("FAILED", "The bucket policy does not allow logs.us-east-1.amazonaws.com", "does not allow logs"),
        ("CANCELLED", None, "the export task was cancelled"),
    ],
)
def test_a_task_that_ends_otherwise_fails_with_logs_message(
    logs: tuple[Any, Stubber], at_now: Clock, status: str, message: str | None, reason: str
) -> None:
    client, stub = logs
    describe(stub, status, message=message)
    with pytest.raises(
        JobFailed, match=rf"CloudWatch Logs export task {TASK_ID} ended with status {status}: .*{reason}"
    ):
        engine_for(client, at_now).is_complete(polled({"PhysicalResourceId": TASK_ID}))


@pytest.mark.parametrize(
    ("status", "phase"),
    [
        ("PENDING", Phase.RUNNING),
        ("RUNNING", Phase.RUNNING),
        ("PENDING_CANCEL", Phase.RUNNING),
        ("COMPLETED", Phase.SUCCEEDED),
        ("FAILED", Phase.FAILED),
        ("CANCELLED", Phase.FAILED),
    ],
)
def test_every_status_maps_to_a_phase(logs: tuple[Any, Stubber], status: str, phase: Phase) -> None:
    client, stub = logs
    describe(stub, status)
    state = adapter(client).describe(TASK_ID)
    assert (state.phase, state.status) == (phase, status)
    assert state.created_at == NOW


def test_describe_of_a_missing_task_raises_job_not_found(logs: tuple[Any, Stubber]) -> None:
    client, stub = logs
    describe_gone(stub)
    with pytest.raises(JobNotFound):
        adapter(client).describe(TASK_ID)


# -- retried create: adopt by listing ------------------------------------------------------------


def test_a_retried_create_adopts_the_task_it_started_found_by_listing(logs: tuple[Any, Stubber], at_now: Clock) -> None:
    client, stub = logs
    # Started 3 minutes ago by the first invocation: its range has the window's length.
    started = NOW_MS - 180_000
    listing(
        stub,
        task("RUNNING", task_id=OTHER_ID, task_name="someone-else"),
        task("RUNNING", start=started - DAY_MS, end=started),
    )
    assert engine_for(client, at_now).on_event(event()) == {"PhysicalResourceId": TASK_ID}  # no create


@pytest.mark.parametrize("ended", ["CANCELLED", "FAILED"])
def test_a_task_of_the_name_that_ended_in_failure_is_not_adopted_a_new_one_starts(
    logs: tuple[Any, Stubber], at_now: Clock, ended: str
) -> None:
    """A stack update that added the job failed elsewhere and its rollback cancelled the task: the
    next deploy derives the same name and must export, not adopt the cancelled task (nor call it
    a conflict, though its range differs)."""
    client, stub = logs
    listing(stub, task(ended, task_id=OTHER_ID, start=NOW_MS - 3 * DAY_MS, end=NOW_MS - 2 * DAY_MS - 1))
    create(stub)
    assert engine_for(client, at_now).on_event(event()) == {"PhysicalResourceId": TASK_ID}


def test_the_listing_follows_every_page(logs: tuple[Any, Stubber], at_now: Clock) -> None:
    client, stub = logs
    listing(stub, task("COMPLETED", task_id=OTHER_ID, task_name="older"), next_token="page-2")
    listing(stub, task("PENDING"), token="page-2")
    assert engine_for(client, at_now).on_event(event()) == {"PhysicalResourceId": TASK_ID}


def test_the_listing_reads_past_the_pages_a_listing_of_nameless_jobs_stops_at(
    logs: tuple[Any, Stubber], at_now: Clock
) -> None:
    """DescribeExportTasks cannot filter by name: the job's task may be on any page, also beyond
    the five pages Pinpoint's listing reads."""
    client, stub = logs
    listing(stub, task("COMPLETED", task_id=OTHER_ID, task_name="older"), next_token="page-2")
    for page in range(2, 7):
        listing(
            stub,
            task("COMPLETED", task_id=OTHER_ID, task_name="older"),
            token=f"page-{page}",
            next_token=f"page-{page + 1}",
        )
    listing(stub, task("PENDING"), token="page-7")
    assert engine_for(client, at_now).on_event(event()) == {"PhysicalResourceId": TASK_ID}
    stub.assert_no_pending_responses()


def test_a_fixed_range_is_adopted_only_with_the_same_from_and_to(logs: tuple[Any, Stubber], at_now: Clock) -> None:
    client, stub = logs
    ev = event(request_=FIXED)
    listing(stub, task("COMPLETED", task_name=name(ev), start=FIXED["from"], end=FIXED["to"]))
    assert engine_for(client, at_now).on_event(ev) == {"PhysicalResourceId": TASK_ID}
    listing(stub, task("COMPLETED", task_name=name(ev), start=FIXED["from"] + 1, end=FIXED["to"]))
    with pytest.raises(
        JobConflict, match=rf"existing task {TASK_ID} exports /aws/lambda/orders from {FIXED['from'] + 1}"
    ):
        engine_for(client, at_now).on_event(ev)


@pytest.mark.parametrize("member", ["logGroupName", "destination", "destinationPrefix"])
def test_a_task_of_that_name_exporting_something_else_is_a_conflict(
    logs: tuple[Any, Stubber], at_now: Clock, member: str
) -> None:
    client, stub = logs
    other = {**REQUEST, member: "other-value"}
    listing(stub, task("RUNNING", request_=other))
    with pytest.raises(JobConflict, match="already exists with other parameters"):
        engine_for(client, at_now).on_event(event())


def test_a_task_of_that_name_with_another_window_length_is_a_conflict(logs: tuple[Any, Stubber], at_now: Clock) -> None:
    client, stub = logs
    listing(stub, task("RUNNING", start=NOW_MS - 2 * DAY_MS, end=NOW_MS))
    with pytest.raises(JobConflict):
        engine_for(client, at_now).on_event(event())


# -- the one-task quota: queued, then started ------------------------------------------------------


def test_limit_exceeded_queues_the_job_then_a_later_poll_starts_it(logs: tuple[Any, Stubber], at_now: Clock) -> None:
    client, stub = logs
    listing(stub)
    refuse(stub)
    queued = engine_for(client, at_now).on_event(event())
    assert queued == {"PhysicalResourceId": f"queued:{name()}", consts.EVENT_QUEUED_AT: NOW.isoformat()}

    # Still busy 30 s later: find (a listing) finds nothing, the start is refused again.
    at_now.now = NOW + timedelta(seconds=30)
    sleeps: list[float] = []
    listing(stub)
    listing(stub)
    refuse(stub)
    assert engine_for(client, at_now, sleeps).is_complete(polled(queued)) == {"IsComplete": False}
    assert sleeps == [0.5 * consts.QUEUE_JITTER_SECONDS]

    # Ten minutes later the slot is free: the window ends at this start, not at the Create.
    later = NOW + timedelta(minutes=10)
    at_now.now = later
    later_ms = int(later.timestamp() * 1000)
    listing(stub)
    listing(stub)
    create(stub, start=later_ms - DAY_MS, end=later_ms)
    describe(stub, "PENDING", start=later_ms - DAY_MS, end=later_ms, created=later_ms)
    # Started, still running: the next poll finds it by listing (the engine keeps the queued id
    # until the job completes).
    assert engine_for(client, at_now).is_complete(polled(queued)) == {"IsComplete": False}


def test_a_queued_job_that_an_earlier_poll_started_is_found_and_completes(
    logs: tuple[Any, Stubber], at_now: Clock
) -> None:
    client, stub = logs
    queued = {
        "PhysicalResourceId": f"queued:{name()}",
        consts.EVENT_QUEUED_AT: (NOW - timedelta(seconds=420)).isoformat(),
    }
    listing(stub, task("RUNNING", created=NOW_MS))  # found by its name...
    describe(stub, "COMPLETED", created=NOW_MS)  # ...and observed by its id
    answer = engine_for(client, at_now).is_complete(polled(queued))
    assert answer["IsComplete"] is True
    assert answer["PhysicalResourceId"] == TASK_ID
    assert answer["Data"][consts.ATTR_QUEUED_SECONDS] == "420"


def test_botocore_answers_limit_exceeded_on_create_at_once() -> None:
    client, stub = stubbed_client("logs")
    queue_instead_of_retrying(client)
    with stub:
        refuse(stub)
        with pytest.raises(Exception, match="LimitExceededException"):
            client.create_export_task(logGroupName="g", destination="b", **{"from": 0, "to": 1})
        stub.assert_no_pending_responses()  # one attempt: no retry consumed a second response


# -- deadline, delete ----------------------------------------------------------------------------


def test_the_deadline_cancels_the_task_and_fails(logs: tuple[Any, Stubber], at_now: Clock) -> None:
    client, stub = logs
    describe(stub, "RUNNING", created=NOW_MS - 3001 * 1000)
    stub.add_response("cancel_export_task", {}, {"taskId": TASK_ID})
    with pytest.raises(
        DeadlineExceeded, match=rf"{TASK_ID} did not finish within the timeout of 3000 s.*asked the service to stop"
    ):
        engine_for(client, at_now).is_complete(polled({"PhysicalResourceId": TASK_ID}))


@pytest.mark.parametrize("status", ["PENDING", "RUNNING"])
def test_delete_while_active_cancels_and_waits_until_cancelled(
    logs: tuple[Any, Stubber], at_now: Clock, status: str
) -> None:
    client, stub = logs
    deleting = event("Delete", PhysicalResourceId=TASK_ID)
    describe(stub, status)
    stub.add_response("cancel_export_task", {}, {"taskId": TASK_ID})
    engine = engine_for(client, at_now)
    assert engine.on_event(deleting) == {"PhysicalResourceId": TASK_ID}
    describe(stub, "PENDING_CANCEL")
    assert engine.is_complete(deleting) == {"IsComplete": False}
    describe(stub, "CANCELLED")
    assert engine.is_complete(deleting) == {"IsComplete": True}


@pytest.mark.parametrize("status", ["COMPLETED", "FAILED", "CANCELLED"])
def test_delete_of_an_ended_task_asks_nothing_and_keeps_its_output(
    logs: tuple[Any, Stubber], at_now: Clock, status: str
) -> None:
    client, stub = logs
    deleting = event("Delete", PhysicalResourceId=TASK_ID)
    describe(stub, status)
    describe(stub, status)
    engine = engine_for(client, at_now)
    assert engine.on_event(deleting) == {"PhysicalResourceId": TASK_ID}
    assert engine.is_complete(deleting) == {"IsComplete": True}


def test_delete_of_a_task_that_is_gone_succeeds(logs: tuple[Any, Stubber], at_now: Clock) -> None:
    client, stub = logs
    deleting = event("Delete", PhysicalResourceId=TASK_ID)
    describe_gone(stub)
    describe_gone(stub)
    engine = engine_for(client, at_now)
    assert engine.on_event(deleting) == {"PhysicalResourceId": TASK_ID}
    assert engine.is_complete(deleting) == {"IsComplete": True}


def test_delete_of_a_queued_job_that_never_started_asks_nothing_more(logs: tuple[Any, Stubber], at_now: Clock) -> None:
    client, stub = logs
    deleting = event("Delete", PhysicalResourceId=f"queued:{name()}")
    listing(stub)
    assert engine_for(client, at_now).on_event(deleting) == {"PhysicalResourceId": f"queued:{name()}"}


def test_cancel_of_a_task_that_ended_meanwhile_counts_as_stopped(logs: tuple[Any, Stubber]) -> None:
    client, stub = logs
    stub.add_client_error("cancel_export_task", "InvalidOperationException", "The task is already completed", 400)
    describe(stub, "COMPLETED")
    assert adapter(client).stop(TASK_ID, JobState(Phase.RUNNING, "RUNNING"))


def test_cancel_of_a_task_that_is_gone_counts_as_stopped(logs: tuple[Any, Stubber]) -> None:
    client, stub = logs
    stub.add_client_error(
        "cancel_export_task", "ResourceNotFoundException", "The specified export task does not exist.", 400
    )
    assert adapter(client).stop(TASK_ID, JobState(Phase.RUNNING, "RUNNING"))


def test_cancel_refused_while_the_task_still_runs_raises(logs: tuple[Any, Stubber]) -> None:
    client, stub = logs
    stub.add_client_error("cancel_export_task", "InvalidOperationException", "no", 400)
    describe(stub, "RUNNING")
    with pytest.raises(Exception, match="InvalidOperationException"):
        adapter(client).stop(TASK_ID, JobState(Phase.RUNNING, "RUNNING"))


def test_a_task_already_cancelling_is_not_cancelled_again(logs: tuple[Any, Stubber]) -> None:
    client, _ = logs  # no response queued: any call would fail
    assert adapter(client).stop(TASK_ID, JobState(Phase.RUNNING, "PENDING_CANCEL"))


def test_other_create_errors_propagate(
    logs: tuple[Any, Stubber], at_now: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    client, stub = logs
    listing(stub)
    stub.add_client_error(
        "create_export_task", "ResourceNotFoundException", "The specified log group does not exist.", 400
    )
    with caplog.at_level(logging.INFO), pytest.raises(Exception, match="The specified log group does not exist"):
        engine_for(client, at_now).on_event(event())


def test_an_update_of_the_timeout_only_keeps_the_task(logs: tuple[Any, Stubber], at_now: Clock) -> None:
    client, _ = logs  # nothing is called
    old = copy.deepcopy(PROPS)
    new = {**copy.deepcopy(PROPS), consts.PROP_TIMEOUT_SECONDS: "1200"}
    updating = request(
        "Update",
        EVENT["ResourceType"],
        new,
        physical_id=TASK_ID,
        old_properties=old,
        logical_id=EVENT["LogicalResourceId"],
    )
    assert engine_for(client, at_now).on_event(updating) == {"PhysicalResourceId": TASK_ID}


def test_a_window_of_a_template_parameter_is_its_amount_times_its_unit_checked_at_start() -> None:
    """A window of a token (``Duration.days(parameter)``) arrives as the parameter's value and the
    milliseconds of its unit: CloudFormation cannot multiply, the adapter does, and refuses a
    window the construct would have refused at synth."""
    from export_constructs.handler import consts as shared
    from export_constructs.handler.adapters.cloudwatchlogs import window_millis

    unit = {shared.LOGS_WINDOW_UNIT_MEMBER: "86400000"}
    assert window_millis({shared.LOGS_WINDOW_MEMBER: "2", **unit}) == 2 * 86_400_000
    assert window_millis({shared.LOGS_WINDOW_MEMBER: "0.5", **unit}) == 43_200_000
    assert window_millis({shared.LOGS_WINDOW_MEMBER: 3_600_000}) == 3_600_000  # a concrete window
    assert window_millis({"from": 1, "to": 2}) is None
    for bad in ("0", "-1", "100000", "1e-9"):
        with pytest.raises(ValueError, match="whole number of milliseconds from 1 ms to 50 years"):
            window_millis({shared.LOGS_WINDOW_MEMBER: bad, **unit})


# -- a bucket of another account ---------------------------------------------------------------

ARCHIVE_OWNER = "222233334444"


def owned_event() -> dict[str, Any]:
    ev = event()
    ev["ResourceProperties"][consts.PROP_BUCKET_OWNER] = ARCHIVE_OWNER
    return ev


def test_a_bucket_of_another_account_is_confirmed_as_its_owners_before_the_task_starts(
    logs: tuple[Any, Stubber], at_now: Clock
) -> None:
    client, stub = logs
    s3, s3_stub = stubbed_client("s3")
    # The Stubber checks the request against the s3 model: ExpectedBucketOwner is a member of it.
    s3_stub.add_response(
        "get_bucket_location",
        {"LocationConstraint": "us-east-1"},
        {"Bucket": REQUEST["destination"], "ExpectedBucketOwner": ARCHIVE_OWNER},
    )
    listing(stub)
    create(stub)
    engine = engine_for(client, at_now, s3=s3)
    with s3_stub:
        assert engine.on_event(owned_event()) == {"PhysicalResourceId": TASK_ID}
        s3_stub.assert_no_pending_responses()


def test_a_bucket_of_another_owner_fails_the_create_and_starts_nothing(
    logs: tuple[Any, Stubber], at_now: Clock
) -> None:
    client, _stub = logs  # no Logs response queued: any Logs call would fail the test
    s3, s3_stub = stubbed_client("s3")
    s3_stub.add_client_error("get_bucket_location", "AccessDenied", "Access Denied", 403)
    engine = engine_for(client, at_now, s3=s3)
    with s3_stub, pytest.raises(BucketNotOwned) as refused:
        engine.on_event(owned_event())
    message = str(refused.value)
    assert REQUEST["destination"] in message and ARCHIVE_OWNER in message
    assert "No export was started" in message


def test_a_bucket_of_this_account_is_not_asked_about(logs: tuple[Any, Stubber], at_now: Clock) -> None:
    client, stub = logs
    listing(stub)
    create(stub)
    # The engine hands out the Logs client only: an S3 call would reach it and fail the Stubber.
    assert engine_for(client, at_now).on_event(event()) == {"PhysicalResourceId": TASK_ID}


def test_a_queued_job_asks_for_the_owner_again_before_its_later_start(logs: tuple[Any, Stubber], at_now: Clock) -> None:
    """The bucket may change hands while the job waits for the one-task quota: the poll that would
    start it asks first, and a refusal fails the job before any CreateExportTask."""
    client, stub = logs
    s3, s3_stub = stubbed_client("s3")
    owner_params = {"Bucket": REQUEST["destination"], "ExpectedBucketOwner": ARCHIVE_OWNER}
    s3_stub.add_response("get_bucket_location", {"LocationConstraint": "us-east-1"}, owner_params)
    listing(stub)
    refuse(stub)
    with s3_stub:
        queued = engine_for(client, at_now, s3=s3).on_event(owned_event())
        assert queued["PhysicalResourceId"] == f"queued:{name()}"
        # Later: nothing started yet (find lists), the owner is asked again and refuses.
        at_now.now = NOW + timedelta(minutes=10)
        listing(stub)
        s3_stub.add_client_error("get_bucket_location", "AccessDenied", "Access Denied", 403)
        with pytest.raises(BucketNotOwned, match="No export was started"):
            engine_for(client, at_now, s3=s3).is_complete(polled(queued, owned_event()))
        s3_stub.assert_no_pending_responses()

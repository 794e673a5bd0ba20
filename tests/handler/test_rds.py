"""The engine and the RDS adapter through every lifecycle path, against botocore's Stubber (which
checks each request and canned response against RDS's model), with the events the Provider
framework sends."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from export_constructs.handler import consts
from export_constructs.handler.adapters.base import JobConflict, JobNotFound, JobSpec, JobState, Phase
from export_constructs.handler.adapters.rds import (
    IDENTIFIER,
    MAX_IDENTIFIER,
    QUOTA_EXCEEDED,
    Adapter,
    task_identifier,
)
from export_constructs.handler.engine import DeadlineExceeded, Engine, JobFailed, derive_job_name, load_adapter
from export_constructs.handler.event import ResourceEvent

from .conftest import Clock, stubbed_client
from .events import after_on_event, load

CREATED = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
SNAPSHOT_TIME = datetime(2026, 11, 22, 3, 5, tzinfo=UTC)
EVENT = load("rds_create")
PROPS = EVENT["ResourceProperties"]
REQUEST = PROPS["Request"]


@pytest.fixture
def rds() -> Iterator[tuple[Any, Stubber]]:
    client, stubber = stubbed_client("rds")
    with stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def adapter() -> Adapter:
    loaded = load_adapter("rds", lambda _: None)
    assert isinstance(loaded, Adapter)
    return loaded


def event(request_type: str = "Create", **changes: Any) -> dict[str, Any]:
    ev = copy.deepcopy(EVENT)
    ev["RequestType"] = request_type
    ev.update(changes)
    return ev


def ident(props: dict[str, Any] = PROPS, ev: dict[str, Any] = EVENT) -> str:
    """The task identifier the adapter sends: the engine's derived name, ``_`` -> ``-``."""
    return task_identifier(derive_job_name(ResourceEvent.from_dict(ev), adapter(), props))


def task(
    status: str, *, identifier: str | None = None, request: dict[str, Any] = REQUEST, **extra: Any
) -> dict[str, Any]:
    described: dict[str, Any] = {
        "ExportTaskIdentifier": identifier or ident(),
        "SourceArn": request["SourceArn"],
        "ExportOnly": list(request.get("ExportOnly", [])),
        "SnapshotTime": SNAPSHOT_TIME,
        "TaskStartTime": CREATED,
        "S3Bucket": request["S3BucketName"],
        "S3Prefix": request.get("S3Prefix", ""),
        "IamRoleArn": request["IamRoleArn"],
        "KmsKeyId": request["KmsKeyId"],
        "Status": status,
        "PercentProgress": 0,
        "TotalExtractedDataInGB": 0,
        "SourceType": "SNAPSHOT",
        **extra,
    }
    return described


def describe(stub: Stubber, status: str, *, identifier: str | None = None, **extra: Any) -> None:
    stub.add_response(
        "describe_export_tasks",
        {"ExportTasks": [task(status, identifier=identifier, **extra)]},
        {"ExportTaskIdentifier": identifier or ident()},
    )


def describe_gone(stub: Stubber, identifier: str | None = None) -> None:
    stub.add_client_error(
        "describe_export_tasks",
        "ExportTaskNotFound",
        "Cannot find export task",
        http_status_code=404,
        expected_params={"ExportTaskIdentifier": identifier or ident()},
    )


def expected_start(identifier: str | None = None, request: dict[str, Any] = REQUEST) -> dict[str, Any]:
    return {**request, "ExportTaskIdentifier": identifier or ident()}


def engine_for(client: Any, clock: Clock) -> Engine:
    return Engine(lambda name: client, clock=clock, sleep=lambda _: None, jitter=lambda: 0.0)


# -- names and ids ----------------------------------------------------------------------------


def test_the_derived_identifier_keeps_to_rds_identifier_rules_and_is_stable() -> None:
    identifier = ident()
    assert identifier == ident()
    assert identifier.startswith("ex1c2fa620-snapshotexport4c2a566a-"), "lower case, as RDS keeps identifiers"
    assert len(identifier) <= MAX_IDENTIFIER - len("-r20") and IDENTIFIER.fullmatch(identifier)
    assert "_" not in identifier and "--" not in identifier


@pytest.mark.parametrize("logical_id", ["Snap-shot.v2$Job:1", "9" * 90, "A"])
def test_derived_identifiers_fit_whatever_the_logical_id(logical_id: str) -> None:
    identifier = ident(PROPS, event(LogicalResourceId=logical_id))
    assert len(identifier) <= MAX_IDENTIFIER, identifier
    assert IDENTIFIER.fullmatch(identifier), identifier


def test_a_given_job_name_is_the_identifier_as_is() -> None:
    assert ident({**PROPS, consts.PROP_JOB_NAME: "orders-2026"}) == "orders-2026"


def test_the_adapter_owns_identifiers_only() -> None:
    owns = adapter().owns
    assert owns(ident()) and owns("orders-2026")
    assert not owns("queued:" + ident())
    assert not owns("report:" + ident())
    assert not owns("AWSCDK::CustomResourceProviderFramework::CREATE_FAILED")
    assert not owns("a" * (MAX_IDENTIFIER + 1))
    assert not owns("ends-")
    assert not owns("")


# -- create -----------------------------------------------------------------------------------


def test_create_poll_success_reports_rds_attributes(rds: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = rds
    engine = engine_for(client, clock)
    stub.add_response("start_export_task", task("STARTING"), expected_start())
    result = engine.on_event(event())
    assert result == {"PhysicalResourceId": ident()}

    polled = after_on_event(event(), result)
    describe(stub, "STARTING")
    assert engine.is_complete(polled) == {"IsComplete": False}
    describe(stub, "IN_PROGRESS", PercentProgress=40)
    assert engine.is_complete(polled) == {"IsComplete": False}
    describe(stub, "COMPLETE", PercentProgress=100, TotalExtractedDataInGB=12)
    assert engine.is_complete(polled) == {
        "IsComplete": True,
        "Data": {
            consts.ATTR_JOB_ARN: ident(),
            consts.ATTR_JOB_NAME: ident(),  # the identifier RDS has, not the engine's "_" name
            consts.ATTR_STATUS: "COMPLETE",
            consts.ATTR_OUTPUT_URI: "s3://exportconstructssample-exportsd637ff99-0123456789ab/rds/shop/",
            consts.ATTR_QUEUED_SECONDS: "0",
            "PercentProgress": "100",
            "TotalExtractedDataInGB": "12",
            "SnapshotTime": "2026-11-22T03:05:00+00:00",
        },
    }


def test_create_without_prefix_or_selection_sends_neither(rds: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = rds
    request = {k: v for k, v in REQUEST.items() if k not in ("S3Prefix", "ExportOnly")}
    props = {**PROPS, "Request": request}
    identifier = ident(props)
    # The Stubber compares the whole request: an S3Prefix or ExportOnly key would fail it.
    stub.add_response(
        "start_export_task",
        task("STARTING", identifier=identifier, request=request),
        expected_start(identifier, request),
    )
    assert engine_for(client, clock).on_event(event(ResourceProperties=props)) == {"PhysicalResourceId": identifier}
    assert adapter().output_uri(request) == f"s3://{REQUEST['S3BucketName']}/"


@pytest.mark.parametrize(
    ("status", "cause", "shown"),
    [
        ("FAILED", "S3 access denied for role arn:aws:iam::123456789012:role/x", None),
        ("CANCELED", None, "the export task was canceled"),
        ("failed", "lowercase, as moto answers", None),
    ],
)
def test_a_task_that_fails_or_is_canceled_fails_with_rds_failure_cause(
    rds: tuple[Any, Stubber], clock: Clock, status: str, cause: str | None, shown: str | None
) -> None:
    client, stub = rds
    describe(stub, status, **({"FailureCause": cause} if cause else {}))
    with pytest.raises(JobFailed) as failed:
        engine_for(client, clock).is_complete(event(PhysicalResourceId=ident()))
    text = str(failed.value)
    assert ident() in text and status in text
    assert (cause or shown or "") in text


@pytest.mark.parametrize(
    ("status", "phase"),
    [
        ("STARTING", Phase.RUNNING),
        ("IN_PROGRESS", Phase.RUNNING),
        ("CANCELING", Phase.RUNNING),
        ("COMPLETE", Phase.SUCCEEDED),
        ("complete", Phase.SUCCEEDED),
        ("CANCELED", Phase.FAILED),
        ("FAILED", Phase.FAILED),
        ("SOMETHING_NEW", Phase.RUNNING),
    ],
)
def test_every_status_maps_to_a_phase(rds: tuple[Any, Stubber], status: str, phase: Phase) -> None:
    client, stub = rds
    describe(stub, status)
    state = Adapter(lambda _: client).describe(ident())
    assert state.phase is phase and state.status == status
    assert state.created_at == CREATED
    assert all(isinstance(v, str) for v in state.attributes.values())


def test_retried_create_adopts_the_task_it_started(rds: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = rds
    stub.add_client_error("start_export_task", "ExportTaskAlreadyExists", "exists", expected_params=expected_start())
    describe(stub, "IN_PROGRESS")
    assert engine_for(client, clock).on_event(event()) == {"PhysicalResourceId": ident()}


@pytest.mark.parametrize("ended", ["CANCELED", "FAILED"])
def test_a_create_after_a_rollback_cancelled_the_task_uses_the_next_identifier(
    rds: tuple[Any, Stubber], clock: Clock, ended: str
) -> None:
    """A stack update that added the job failed elsewhere: its rollback cancelled the task. The
    next deploy derives the same identifier, which RDS keeps for good: the job takes ``-r2``, and
    a retried Create of that deploy adopts the ``-r2`` task."""
    client, stub = rds
    second = f"{ident()}-r2"
    stub.add_client_error("start_export_task", "ExportTaskAlreadyExists", "exists", expected_params=expected_start())
    describe(stub, ended)
    stub.add_response("start_export_task", task("STARTING", identifier=second), expected_start(second))
    assert engine_for(client, clock).on_event(event()) == {"PhysicalResourceId": second}
    # The same Create again (a retried invocation): both identifiers exist, the second is this job's.
    stub.add_client_error("start_export_task", "ExportTaskAlreadyExists", "exists", expected_params=expected_start())
    describe(stub, ended)
    stub.add_client_error(
        "start_export_task", "ExportTaskAlreadyExists", "exists", expected_params=expected_start(second)
    )
    describe(stub, "IN_PROGRESS", identifier=second)
    assert engine_for(client, clock).on_event(event()) == {"PhysicalResourceId": second}


def test_a_queued_jobs_lookup_follows_the_identifiers_as_the_start_does(rds: tuple[Any, Stubber]) -> None:
    client, stub = rds
    spec = ResourceEvent.from_dict(event())
    job = JobSpec(
        name=derive_job_name(spec, adapter(), PROPS), request=REQUEST, stack=spec.stack_arn, requested_at=CREATED
    )
    second = f"{ident()}-r2"
    describe(stub, "CANCELED")
    describe(stub, "IN_PROGRESS", identifier=second)
    found = Adapter(lambda _: client).find(job)
    assert found is not None and found[0] == second and found[1].phase is Phase.RUNNING
    describe(stub, "CANCELED")
    describe_gone(stub, second)
    assert Adapter(lambda _: client).find(job) is None, "the first free identifier ends the search"


def test_a_given_job_name_has_no_revisions_its_ended_task_is_reported(rds: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = rds
    props = {**PROPS, consts.PROP_JOB_NAME: "orders-2026"}
    stub.add_client_error(
        "start_export_task", "ExportTaskAlreadyExists", "exists", expected_params=expected_start("orders-2026")
    )
    describe(stub, "CANCELED", identifier="orders-2026")
    answer = engine_for(client, clock).on_event(event(ResourceProperties={**EVENT["ResourceProperties"], **props}))
    assert answer == {"PhysicalResourceId": "orders-2026"}, "the user's name is the identifier, whatever its task"


@pytest.mark.parametrize(
    "change",
    [
        {"SourceArn": "arn:aws:rds:us-east-1:123456789012:snapshot:other"},
        {"S3BucketName": "another-bucket"},
        {"S3Prefix": "rds/elsewhere"},
        {"KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/ffffffff-4e5f-6789-abcd-ef0123456789"},
        {"ExportOnly": ["shop.orders"]},
    ],
)
def test_retried_create_refuses_a_different_task_of_the_same_identifier(
    rds: tuple[Any, Stubber], clock: Clock, change: dict[str, Any]
) -> None:
    client, stub = rds
    props = {**PROPS, consts.PROP_JOB_NAME: "orders-2026"}
    stub.add_client_error(
        "start_export_task", "ExportTaskAlreadyExists", "exists", expected_params=expected_start("orders-2026")
    )
    stub.add_response(
        "describe_export_tasks",
        {"ExportTasks": [task("COMPLETE", identifier="orders-2026", request={**REQUEST, **change})]},
        {"ExportTaskIdentifier": "orders-2026"},
    )
    with pytest.raises(JobConflict, match=r"orders-2026.*already exists with other parameters") as conflict:
        engine_for(client, clock).on_event(event(ResourceProperties=props))
    member = next(iter(change)).replace("S3BucketName", "S3Bucket")
    assert member in str(conflict.value)


def test_other_start_errors_propagate(rds: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = rds
    stub.add_client_error(
        "start_export_task", "KMSKeyNotAccessibleFault", "key not accessible", expected_params=expected_start()
    )
    with pytest.raises(Exception, match="key not accessible"):
        engine_for(client, clock).on_event(event())


# -- the quota --------------------------------------------------------------------------------


def test_a_start_refused_at_the_quota_is_queued_then_started(rds: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = rds
    assert adapter().quota_errors == {QUOTA_EXCEEDED}
    engine = engine_for(client, clock)
    stub.add_client_error("start_export_task", QUOTA_EXCEEDED, "5 concurrent exports", expected_params=expected_start())
    result = engine.on_event(event())
    assert result["PhysicalResourceId"] == f"queued:{derive_job_name(ResourceEvent.from_dict(EVENT), adapter(), PROPS)}"
    polled = after_on_event(event(), result)

    describe_gone(stub)  # the queued poll looks for its task first
    stub.add_client_error("start_export_task", QUOTA_EXCEEDED, "still full", expected_params=expected_start())
    assert engine.is_complete(polled) == {"IsComplete": False}

    clock.now += timedelta(minutes=10)
    describe_gone(stub)
    stub.add_response("start_export_task", task("STARTING"), expected_start())
    describe(stub, "STARTING")  # the started task's first look
    assert engine.is_complete(polled) == {"IsComplete": False}

    describe(stub, "COMPLETE", TaskStartTime=clock.now)  # found by its identifier: no second start
    answer = engine.is_complete(polled)
    assert answer["IsComplete"] is True
    assert answer["PhysicalResourceId"] == ident()  # replaces queued:<name> (framework.js)
    assert answer["Data"][consts.ATTR_QUEUED_SECONDS] == "600"  # from the Create to the task's start


# -- deadline and delete ----------------------------------------------------------------------


def test_own_deadline_cancels_the_task_and_fails_naming_it(rds: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = rds
    engine = engine_for(client, clock)
    polled = event(PhysicalResourceId=ident())
    clock.now = CREATED + timedelta(seconds=2999)
    describe(stub, "IN_PROGRESS")
    assert engine.is_complete(polled) == {"IsComplete": False}

    clock.now = CREATED + timedelta(seconds=3000)
    describe(stub, "IN_PROGRESS")
    stub.add_response("cancel_export_task", task("CANCELING"), {"ExportTaskIdentifier": ident()})
    with pytest.raises(DeadlineExceeded) as late:
        engine.is_complete(polled)
    message = str(late.value)
    assert ident() in message and "IN_PROGRESS" in message and "3000 s" in message
    assert "asked the service to stop it" in message


def test_deadline_with_a_task_already_canceling_asks_nothing_more(rds: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = rds
    clock.now = CREATED + timedelta(hours=2)
    describe(stub, "CANCELING")  # no cancel_export_task queued: a call would fail the Stubber
    with pytest.raises(DeadlineExceeded, match="CANCELING"):
        engine_for(client, clock).is_complete(event(PhysicalResourceId=ident()))


@pytest.mark.parametrize("status", ["STARTING", "IN_PROGRESS"])
def test_delete_while_running_cancels_and_waits_until_canceled(
    rds: tuple[Any, Stubber], clock: Clock, status: str
) -> None:
    client, stub = rds
    engine = engine_for(client, clock)
    delete = event("Delete", PhysicalResourceId=ident())
    describe(stub, status)
    stub.add_response("cancel_export_task", task("CANCELING"), {"ExportTaskIdentifier": ident()})
    assert engine.on_event(delete) == {"PhysicalResourceId": ident()}
    describe(stub, "CANCELING")
    assert engine.is_complete(delete) == {"IsComplete": False}
    describe(stub, "CANCELED")
    assert engine.is_complete(delete) == {"IsComplete": True}


@pytest.mark.parametrize("status", ["COMPLETE", "FAILED", "CANCELED"])
def test_delete_of_an_ended_task_cancels_nothing(rds: tuple[Any, Stubber], clock: Clock, status: str) -> None:
    client, stub = rds
    engine = engine_for(client, clock)
    delete = event("Delete", PhysicalResourceId=ident())
    describe(stub, status)  # no cancel queued
    assert engine.on_event(delete) == {"PhysicalResourceId": ident()}
    describe(stub, status)
    assert engine.is_complete(delete) == {"IsComplete": True}


def test_delete_of_a_task_that_is_gone_succeeds(rds: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = rds
    engine = engine_for(client, clock)
    delete = event("Delete", PhysicalResourceId=ident())
    describe_gone(stub)
    assert engine.on_event(delete) == {"PhysicalResourceId": ident()}
    describe_gone(stub)
    assert engine.is_complete(delete) == {"IsComplete": True}


def test_delete_of_something_that_is_no_task_calls_nothing(rds: tuple[Any, Stubber], clock: Clock) -> None:
    client, _ = rds
    failed = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"
    assert engine_for(client, clock).on_event(event("Delete", PhysicalResourceId=failed)) == {
        "PhysicalResourceId": failed
    }


def test_a_describe_answer_without_the_task_is_not_found(rds: tuple[Any, Stubber]) -> None:
    client, stub = rds
    stub.add_response("describe_export_tasks", {"ExportTasks": []}, {"ExportTaskIdentifier": ident()})
    with pytest.raises(JobNotFound):
        Adapter(lambda _: client).describe(ident())


def test_cancel_of_a_task_that_ended_meanwhile_counts_as_stopped(rds: tuple[Any, Stubber]) -> None:
    client, stub = rds
    stub.add_client_error(
        "cancel_export_task",
        "InvalidExportTaskStateFault",
        "complete",
        expected_params={"ExportTaskIdentifier": ident()},
    )
    describe(stub, "COMPLETE")
    assert Adapter(lambda _: client).stop(ident(), JobState(Phase.RUNNING, "IN_PROGRESS")) is True


def test_cancel_refused_while_the_task_still_runs_raises(rds: tuple[Any, Stubber]) -> None:
    client, stub = rds
    stub.add_client_error(
        "cancel_export_task", "InvalidExportTaskStateFault", "nope", expected_params={"ExportTaskIdentifier": ident()}
    )
    describe(stub, "IN_PROGRESS")
    with pytest.raises(Exception, match="nope"):
        Adapter(lambda _: client).stop(ident(), JobState(Phase.RUNNING, "IN_PROGRESS"))


def test_cancel_of_a_task_that_is_gone_counts_as_stopped(rds: tuple[Any, Stubber]) -> None:
    client, stub = rds
    stub.add_client_error(
        "cancel_export_task", "ExportTaskNotFound", "gone", 404, expected_params={"ExportTaskIdentifier": ident()}
    )
    assert Adapter(lambda _: client).stop(ident(), JobState(Phase.RUNNING, "STARTING")) is True


# -- update and the long path -----------------------------------------------------------------


def test_update_with_changed_selection_starts_a_new_task(rds: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = rds
    new_props = copy.deepcopy(PROPS)
    new_props["Request"]["ExportOnly"] = ["shop.orders"]
    new = ident(new_props)
    assert new != ident()
    stub.add_response("start_export_task", task("STARTING", identifier=new), expected_start(new, new_props["Request"]))
    update = event("Update", PhysicalResourceId=ident(), ResourceProperties=new_props, OldResourceProperties=PROPS)
    assert engine_for(client, clock).on_event(update) == {"PhysicalResourceId": new}


def test_the_long_paths_report_reads_the_final_attributes(rds: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = rds
    report = event(
        ResourceProperties={
            "ServiceToken": PROPS["ServiceToken"],
            consts.PROP_MODE: consts.MODE_REPORT,
            consts.PROP_JOB_ID: ident(),
            consts.PROP_JOB_NAME: ident(),
            consts.PROP_OUTPUT_URI: "s3://b/rds/shop/",
            consts.PROP_WAIT_CONDITION: "wait",
        },
        PhysicalResourceId=f"report:{ident()}",
    )
    describe(stub, "COMPLETE", PercentProgress=100, TotalExtractedDataInGB=7)
    data = engine_for(client, clock).is_complete(report)["Data"]
    assert data["PercentProgress"] == "100" and data["TotalExtractedDataInGB"] == "7"
    assert data[consts.ATTR_JOB_ARN] == ident() and data["SnapshotTime"] == SNAPSHOT_TIME.isoformat()


def test_the_engine_loads_this_adapter_by_resource_type() -> None:
    assert ResourceEvent.from_dict(EVENT).adapter_name == "rds"
    assert isinstance(load_adapter("rds", lambda _: None), Adapter)

"""The long-wait path (issue: exports longer than an hour) and ``wait=False``, handler side:
the engine's ``signal`` and ``start`` modes and the tracker, against botocore's Stubber for
Personalize, Forecast (which can stop a job) and Step Functions."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from export_constructs.handler import consts
from export_constructs.handler.engine import Engine, JobFailed, _execution_name, queued_id
from export_constructs.handler.event import ResourceEvent
from export_constructs.handler.tracker import SEPARATOR, SIGNAL_ID, Tracker, encode

from .conftest import Clock, stubbed_client
from .test_personalize import CREATED, EVENT, PROPS, describe_response, job_arn, job_name

TRACKER_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:ExportJobProviderTrackerStateMachine-AbCd"
HANDLE = "https://cloudformation-waitcondition-us-east-1.s3.amazonaws.com/arn%3Aaws%3Acloudformation/handle-1?X-Amz=sig"
SIGNAL_PROPS = {
    **PROPS,
    consts.PROP_MODE: consts.MODE_SIGNAL,
    consts.PROP_WAIT_HANDLE: HANDLE,
    consts.PROP_TRACKER: TRACKER_ARN,
    consts.PROP_TIMEOUT_SECONDS: "21300",
}


class Clients:
    """One Stubber per service the engine asks for; every one must be used up."""

    def __init__(self) -> None:
        self.clients: dict[str, tuple[Any, Stubber]] = {}

    def __call__(self, name: str) -> Any:
        return self.stub(name)[0]

    def stub(self, name: str) -> tuple[Any, Stubber]:
        if name not in self.clients:
            client, stubber = stubbed_client(name)
            stubber.activate()
            self.clients[name] = (client, stubber)
        return self.clients[name]


@pytest.fixture
def aws() -> Iterator[Clients]:
    clients = Clients()
    yield clients
    for _, stubber in clients.clients.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def event(request_type: str = "Create", properties: Mapping[str, Any] = SIGNAL_PROPS, **changes: Any) -> dict[str, Any]:
    ev = copy.deepcopy(EVENT)
    ev.update(RequestType=request_type, ResourceProperties=copy.deepcopy(dict(properties)), **changes)
    return ev


def describe(aws: Clients, status: str, *, reason: str | None = None) -> None:
    aws.stub("personalize")[1].add_response(
        "describe_dataset_export_job",
        describe_response(status, reason=reason),
        {"datasetExportJobArn": job_arn()},
    )


def expect_tracker_start(aws: Clients, physical_id: str, handle: str = HANDLE) -> list[dict[str, Any]]:
    """Stub StartExecution and return a list that receives the execution's input."""
    inputs: list[dict[str, Any]] = []

    class Input:
        def __eq__(self, other: object) -> bool:
            inputs.append(json.loads(str(other)))
            return True

    aws.stub("stepfunctions")[1].add_response(
        "start_execution",
        {"executionArn": f"{TRACKER_ARN.replace(':stateMachine:', ':execution:')}:x", "startDate": CREATED},
        {"stateMachineArn": TRACKER_ARN, "name": ANY, "input": Input()},
    )
    return inputs


# -- signal mode: the custom resource starts the job and its tracker, and completes at once ----


def test_create_starts_the_job_and_a_tracker_with_the_event_and_completes_at_start(aws: Clients, clock: Clock) -> None:
    engine = Engine(aws, clock=clock)
    aws.stub("personalize")[1].add_response(
        "create_dataset_export_job", {"datasetExportJobArn": job_arn()}, {**PROPS["Request"], "jobName": job_name()}
    )
    inputs = expect_tracker_start(aws, job_arn())
    result = engine.on_event(event())
    assert result == {"PhysicalResourceId": job_arn()}
    (tracked,) = inputs
    assert tracked["Event"]["PhysicalResourceId"] == job_arn()
    assert tracked["Event"]["ResourceProperties"][consts.PROP_WAIT_HANDLE] == HANDLE

    describe(aws, "CREATE PENDING")
    done = engine.is_complete(event(PhysicalResourceId=job_arn()))
    assert done["IsComplete"] is True
    assert done["Data"][consts.ATTR_STATUS] == "CREATE PENDING", "the status at start"


def test_a_retried_create_finds_its_tracker_already_running(aws: Clients, clock: Clock) -> None:
    aws.stub("personalize")[1].add_response(
        "create_dataset_export_job", {"datasetExportJobArn": job_arn()}, {**PROPS["Request"], "jobName": job_name()}
    )
    aws.stub("stepfunctions")[1].add_client_error("start_execution", "ExecutionAlreadyExists", "exists")
    assert Engine(aws, clock=clock).on_event(event()) == {"PhysicalResourceId": job_arn()}


def test_tracker_execution_names_are_stable_and_valid(aws: Clients, clock: Clock) -> None:
    from export_constructs.handler.engine import _execution_name
    from export_constructs.handler.event import ResourceEvent

    first = _execution_name(ResourceEvent.from_dict(event()), job_arn())
    assert first == _execution_name(ResourceEvent.from_dict(event()), job_arn())
    other_handle = {**SIGNAL_PROPS, consts.PROP_WAIT_HANDLE: HANDLE + "2"}
    assert first != _execution_name(ResourceEvent.from_dict(event(properties=other_handle)), job_arn())
    assert len(first) <= 80 and all(c.isalnum() or c in "-_" for c in first)


def test_a_job_that_failed_at_once_fails_the_resource(aws: Clients, clock: Clock) -> None:
    describe(aws, "CREATE FAILED", reason="The dataset has no data.")
    with pytest.raises(JobFailed, match="The dataset has no data"):
        Engine(aws, clock=clock).is_complete(event(PhysicalResourceId=job_arn()))


def test_update_of_the_timeout_only_keeps_the_job_and_tracks_it_for_the_new_wait(aws: Clients, clock: Clock) -> None:
    new = {**SIGNAL_PROPS, consts.PROP_TIMEOUT_SECONDS: "35700", consts.PROP_WAIT_HANDLE: HANDLE + "&new"}
    inputs = expect_tracker_start(aws, job_arn(), HANDLE + "&new")
    update = event("Update", new, PhysicalResourceId=job_arn(), OldResourceProperties=SIGNAL_PROPS)
    assert Engine(aws, clock=clock).on_event(update) == {"PhysicalResourceId": job_arn()}
    assert inputs[0]["Event"]["ResourceProperties"][consts.PROP_WAIT_HANDLE] == HANDLE + "&new"


def test_update_from_the_short_path_to_a_long_wait_tracks_the_running_job(aws: Clients, clock: Clock) -> None:
    expect_tracker_start(aws, job_arn())
    update = event("Update", PhysicalResourceId=job_arn(), OldResourceProperties=PROPS)
    assert Engine(aws, clock=clock).on_event(update) == {"PhysicalResourceId": job_arn()}


def no_queued_tracker(aws: Clients) -> None:
    """The tracker a queued start would have had (named after the ``queued:`` id): none here."""
    aws.stub("stepfunctions")[1].add_client_error("stop_execution", "ExecutionDoesNotExist", "gone")


def test_delete_stops_the_tracker_and_then_deletes_as_usual(aws: Clients, clock: Clock) -> None:
    aws.stub("stepfunctions")[1].add_response(
        "stop_execution",
        {"stopDate": CREATED},
        {"executionArn": ANY, "cause": "the export job's resource is being deleted"},
    )
    no_queued_tracker(aws)
    describe(aws, "CREATE IN_PROGRESS")
    engine = Engine(aws, clock=clock)
    assert engine.on_event(event("Delete", PhysicalResourceId=job_arn())) == {"PhysicalResourceId": job_arn()}


def test_delete_when_the_tracker_has_ended_succeeds(aws: Clients, clock: Clock) -> None:
    aws.stub("stepfunctions")[1].add_client_error("stop_execution", "ExecutionDoesNotExist", "gone")
    no_queued_tracker(aws)
    describe(aws, "ACTIVE")
    assert Engine(aws, clock=clock).on_event(event("Delete", PhysicalResourceId=job_arn()))


def test_stop_execution_arn_names_this_trackers_execution(aws: Clients, clock: Clock) -> None:
    seen: list[str] = []

    class Arn:
        def __eq__(self, other: object) -> bool:
            seen.append(str(other))
            return True

    for _ in range(2):
        aws.stub("stepfunctions")[1].add_response(
            "stop_execution", {"stopDate": CREATED}, {"executionArn": Arn(), "cause": ANY}
        )
    describe(aws, "ACTIVE")
    Engine(aws, clock=clock).on_event(event("Delete", PhysicalResourceId=job_arn()))
    head = "arn:aws:states:us-east-1:123456789012:execution:ExportJobProviderTrackerStateMachine-AbCd:"
    assert [arn.startswith(f"{head}UsersExportB5678792-") for arn in seen] == [True, True]
    # The second is the execution a queued start would have begun, on the job's ``queued:`` id.
    delete = ResourceEvent.from_dict(event("Delete", PhysicalResourceId=job_arn()))
    assert seen == [
        f"{head}{_execution_name(delete, job_arn())}",
        f"{head}{_execution_name(delete, queued_id(job_name()))}",
    ]


# -- start mode (wait=False) ------------------------------------------------------------------


def test_start_mode_completes_once_the_job_is_accepted_with_its_status_at_start(aws: Clients, clock: Clock) -> None:
    props = {**PROPS, consts.PROP_MODE: consts.MODE_START}
    aws.stub("personalize")[1].add_response(
        "create_dataset_export_job", {"datasetExportJobArn": job_arn()}, {**PROPS["Request"], "jobName": job_name()}
    )
    engine = Engine(aws, clock=clock)
    assert engine.on_event(event(properties=props)) == {"PhysicalResourceId": job_arn()}
    describe(aws, "CREATE IN_PROGRESS")
    done = engine.is_complete(event(properties=props, PhysicalResourceId=job_arn()))
    assert done["IsComplete"] is True and done["Data"][consts.ATTR_STATUS] == "CREATE IN_PROGRESS"
    assert "stepfunctions" not in aws.clients


def test_an_unknown_mode_is_refused(aws: Clients, clock: Clock) -> None:
    with pytest.raises(ValueError, match="not a wait mode"):
        Engine(aws, clock=clock).is_complete(event(properties={**PROPS, consts.PROP_MODE: "later"}))


# -- the tracker ------------------------------------------------------------------------------


class Signals:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Mapping[str, str]]] = []

    def __call__(self, url: str, body: Mapping[str, str]) -> None:
        self.sent.append((url, body))


def tracker(aws: Clients, clock: Clock) -> tuple[Tracker, Signals]:
    signals = Signals()
    return Tracker(Engine(aws, clock=clock), send=signals), signals


def tracked(**changes: Any) -> dict[str, Any]:
    return {"Event": event(PhysicalResourceId=job_arn(), **changes)}


def test_tracker_keeps_polling_a_running_job(aws: Clients, clock: Clock) -> None:
    track, signals = tracker(aws, clock)
    describe(aws, "CREATE IN_PROGRESS")
    assert track.track(tracked()) == {"Done": False, "Outcome": None}
    assert signals.sent == []


def test_tracker_signals_success_with_the_attributes_the_constructs_cut_out(aws: Clients, clock: Clock) -> None:
    track, signals = tracker(aws, clock)
    describe(aws, "ACTIVE")
    assert track.track(tracked()) == {"Done": True, "Outcome": "SUCCESS"}
    ((url, body),) = signals.sent
    assert url == HANDLE
    assert body["Status"] == "SUCCESS" and body["UniqueId"] == SIGNAL_ID
    parts = json.dumps({SIGNAL_ID: body["Data"]}).split(SEPARATOR)  # what Fn::Split sees
    assert parts[1:5] == [job_arn(), job_name(), "ACTIVE", PROPS["Request"]["jobOutput"]["s3DataDestination"]["path"]]
    for index, name in enumerate(consts.SIGNALLED_ATTRIBUTES, start=1):
        assert (
            parts[index]
            == {
                consts.ATTR_JOB_ARN: job_arn(),
                consts.ATTR_JOB_NAME: job_name(),
                consts.ATTR_STATUS: "ACTIVE",
                consts.ATTR_OUTPUT_URI: PROPS["Request"]["jobOutput"]["s3DataDestination"]["path"],
            }[name]
        )


def test_tracker_signals_failure_with_the_services_reason(aws: Clients, clock: Clock) -> None:
    track, signals = tracker(aws, clock)
    describe(aws, "CREATE FAILED", reason="Insufficient privileges for accessing data in S3.")
    assert track.track(tracked()) == {"Done": True, "Outcome": "FAILURE"}
    ((_, body),) = signals.sent
    assert body["Status"] == "FAILURE"
    assert "Insufficient privileges for accessing data in S3." in body["Reason"] and job_arn() in body["Reason"]


def test_tracker_deadline_stops_the_job_where_possible_and_signals_failure(aws: Clients, clock: Clock) -> None:
    """Forecast can stop a job: at the tracker's deadline (the resource's TimeoutSeconds, 5
    minutes before the wait condition's) it calls StopResource and signals the failure."""
    from .test_forecast import EVENT as FORECAST_EVENT
    from .test_forecast import describe_response as forecast_describe
    from .test_forecast import job_arn as forecast_job

    forecast_event = copy.deepcopy(FORECAST_EVENT)
    forecast_event["ResourceProperties"].update(
        {
            k: v
            for k, v in SIGNAL_PROPS.items()
            if k in (consts.PROP_MODE, consts.PROP_WAIT_HANDLE, consts.PROP_TRACKER)
        },
        TimeoutSeconds="21300",
    )
    forecast_event["PhysicalResourceId"] = forecast_job()
    created = forecast_describe("CREATE_IN_PROGRESS")["CreationTime"]
    clock.now = created + timedelta(seconds=21300)
    stub = aws.stub("forecast")[1]
    stub.add_response(
        "describe_forecast_export_job",
        forecast_describe("CREATE_IN_PROGRESS"),
        {"ForecastExportJobArn": forecast_job()},
    )
    stub.add_response("stop_resource", {}, {"ResourceArn": forecast_job()})
    track, signals = tracker(aws, clock)
    assert track.track({"Event": forecast_event}) == {"Done": True, "Outcome": "FAILURE"}
    ((_, body),) = signals.sent
    assert "did not finish within the timeout of 21300 s" in body["Reason"]
    assert "asked the service to stop it" in body["Reason"]


def test_tracker_signals_failure_when_the_job_cannot_be_read_after_retries(aws: Clients, clock: Clock) -> None:
    track, signals = tracker(aws, clock)
    aws.stub("personalize")[1].add_client_error("describe_dataset_export_job", "AccessDeniedException", "denied")
    assert track.track(tracked())["Outcome"] == "FAILURE"
    assert "AccessDeniedException" in signals.sent[0][1]["Reason"]


def test_long_reasons_are_cut_to_what_cloudformation_shows(aws: Clients, clock: Clock) -> None:
    track, signals = tracker(aws, clock)
    describe(aws, "CREATE FAILED", reason="x" * 1500)
    track.track(tracked())
    assert len(signals.sent[0][1]["Reason"]) == 1000


def test_encode_drops_the_separator_from_values() -> None:
    assert (
        encode({consts.ATTR_STATUS: f"A{SEPARATOR}B"}) == f"{SEPARATOR}{SEPARATOR}{SEPARATOR}AB{SEPARATOR}{SEPARATOR}"
    )

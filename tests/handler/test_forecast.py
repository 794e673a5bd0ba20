"""The engine and the Forecast adapter through every lifecycle path, against botocore's Stubber
(which checks each request and canned response against the service model)."""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from export_constructs.handler import consts
from export_constructs.handler.adapters.base import JobConflict, JobNotFound, JobState, Phase
from export_constructs.handler.adapters.forecast import Adapter, job_arn_for
from export_constructs.handler.engine import DeadlineExceeded, Engine, JobFailed, derive_job_name, load_adapter
from export_constructs.handler.event import Arn, ResourceEvent

from .conftest import Clock, stubbed_client
from .events import STACK_ID, after_on_event, load

CREATED = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
EVENT = load("forecast_create")
PROPS = EVENT["ResourceProperties"]
REQUEST = PROPS["Request"]
ACCOUNT_PREFIX = "arn:aws:forecast:us-east-1:123456789012"
#: The API's name pattern (botocore's ``Name`` shape), matched as a whole.
NAME_PATTERN = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")


@pytest.fixture
def forecast() -> Iterator[tuple[Any, Stubber]]:
    client, stubber = stubbed_client("forecast")
    with stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def adapter() -> Adapter:
    loaded = load_adapter("forecast", lambda _: None)
    assert isinstance(loaded, Adapter)
    return loaded


def event(request_type: str = "Create", **changes: Any) -> dict[str, Any]:
    ev = copy.deepcopy(EVENT)
    ev["RequestType"] = request_type
    ev.update(changes)
    return ev


def job_name(props: dict[str, Any] = PROPS, ev: dict[str, Any] = EVENT) -> str:
    return derive_job_name(ResourceEvent.from_dict(ev), adapter(), props)


def job_arn(name: str | None = None) -> str:
    return f"{ACCOUNT_PREFIX}:forecast-export-job/shop_demand/{name or job_name()}"


def expected_create(name: str | None = None, request: dict[str, Any] = REQUEST) -> dict[str, Any]:
    return {**request, "ForecastExportJobName": name or job_name()}


def describe_response(
    status: str, *, message: str | None = None, arn: str | None = None, request: dict[str, Any] = REQUEST
) -> dict[str, Any]:
    job: dict[str, Any] = {
        "ForecastExportJobArn": arn or job_arn(),
        "ForecastExportJobName": (arn or job_arn()).rsplit("/", 1)[1],
        "ForecastArn": request["ForecastArn"],
        "Destination": copy.deepcopy(request["Destination"]),
        "Status": status,
        "CreationTime": CREATED,
        "LastModificationTime": CREATED,
    }
    if "Format" in request:
        job["Format"] = request["Format"]
    if message:
        job["Message"] = message
    return job


def describe(stub: Stubber, status: str, *, arn: str | None = None, **kwargs: Any) -> None:
    stub.add_response(
        "describe_forecast_export_job",
        describe_response(status, arn=arn, **kwargs),
        {"ForecastExportJobArn": arn or job_arn()},
    )


def describe_gone(stub: Stubber, arn: str | None = None) -> None:
    stub.add_client_error(
        "describe_forecast_export_job",
        "ResourceNotFoundException",
        "No resource found",
        expected_params={"ForecastExportJobArn": arn or job_arn()},
    )


def engine_for(client: Any, clock: Clock) -> Engine:
    return Engine(lambda name: client, clock=clock)


# -- names and ids ----------------------------------------------------------------------------


def test_derived_name_fits_the_api_and_is_stable() -> None:
    name = job_name()
    assert name == job_name()
    assert name.startswith("ex1c2fa620_DemandExport82F29C91_")
    assert 1 <= len(name) <= 63
    assert NAME_PATTERN.fullmatch(name)


@pytest.mark.parametrize(
    ("logical_id", "legacy_prefix"),
    [
        ("Demand-Export.v2$Job:1", None),  # characters the API refuses are dropped
        ("9" * 80, None),  # long, and starting with a digit: still starts with a letter
        ("_Odd", "ex1c2fa620"),  # a JobNamePrefix property (earlier templates) gives the same name
    ],
)
def test_derived_names_start_with_a_letter_and_match_the_pattern_whatever_the_logical_id(
    logical_id: str, legacy_prefix: str | None
) -> None:
    props = copy.deepcopy(PROPS)
    assert "JobNamePrefix" not in props  # the construct does not send it
    ev = event(LogicalResourceId=logical_id)
    name = job_name(props, ev)
    assert NAME_PATTERN.fullmatch(name), name
    assert name.startswith("ex1c2fa620_")  # "ex" + the stack id's first UUID group
    assert len(name) <= 63
    if legacy_prefix is not None:
        assert job_name({**props, "JobNamePrefix": legacy_prefix}, ev) == name


def test_a_given_job_name_is_used_as_is() -> None:
    assert job_name({**PROPS, consts.PROP_JOB_NAME: "demand_weekly"}) == "demand_weekly"


def test_the_adapter_owns_only_forecast_export_job_arns() -> None:
    owns = adapter().owns
    assert owns(job_arn())
    assert owns("arn:aws-cn:forecast:cn-north-1:123456789012:forecast-export-job/f/j_1")
    assert not owns(REQUEST["ForecastArn"])
    assert not owns(f"{ACCOUNT_PREFIX}:forecast-export-job/shop_demand")  # no job name
    assert not owns("arn:aws:personalize:us-east-1:123456789012:dataset-export-job/x")
    assert not owns("AWSCDK::CustomResourceProviderFramework::CREATE_FAILED")
    assert not owns("")


def test_job_arn_for_takes_the_forecast_name_and_the_stacks_partition_region_and_account() -> None:
    stack = Arn.parse(STACK_ID)
    assert job_arn_for(stack, REQUEST["ForecastArn"], "j") == f"{ACCOUNT_PREFIX}:forecast-export-job/shop_demand/j"
    with pytest.raises(ValueError, match="not a forecast ARN"):
        job_arn_for(stack, f"{ACCOUNT_PREFIX}:predictor/p", "j")


# -- create -----------------------------------------------------------------------------------


def test_create_poll_success(forecast: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = forecast
    engine = engine_for(client, clock)
    stub.add_response("create_forecast_export_job", {"ForecastExportJobArn": job_arn()}, expected_create())
    result = engine.on_event(event())
    assert result == {"PhysicalResourceId": job_arn()}

    polled = after_on_event(event(), result)
    for status in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
        describe(stub, status)
        assert engine.is_complete(polled) == {"IsComplete": False}
    describe(stub, "ACTIVE")
    assert engine.is_complete(polled) == {
        "IsComplete": True,
        "Data": {
            consts.ATTR_JOB_ARN: job_arn(),
            consts.ATTR_JOB_NAME: job_name(),
            consts.ATTR_STATUS: "ACTIVE",
            consts.ATTR_OUTPUT_URI: REQUEST["Destination"]["S3Config"]["Path"],
            consts.ATTR_QUEUED_SECONDS: "0",
        },
    }


def test_create_sends_no_format_when_the_construct_sets_none(forecast: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = forecast
    request = copy.deepcopy(REQUEST)
    del request["Format"], request["Tags"], request["Destination"]["S3Config"]["KMSKeyArn"]
    props = {**PROPS, "Request": request}
    name = job_name(props)
    # The Stubber compares the whole request: a Format or Tags key would fail it.
    stub.add_response(
        "create_forecast_export_job", {"ForecastExportJobArn": job_arn(name)}, expected_create(name, request)
    )
    assert engine_for(client, clock).on_event(event(ResourceProperties=props)) == {"PhysicalResourceId": job_arn(name)}


@pytest.mark.parametrize(
    ("status", "message", "reason"),
    [
        ("CREATE_FAILED", "AccessDeniedException: Forecast cannot write to s3://bucket/x/", None),
        ("CREATE_STOPPED", None, "the job was stopped"),
        ("DELETE_IN_PROGRESS", None, "the service gave no reason"),
    ],
)
def test_a_job_that_ends_otherwise_fails_with_the_service_message(
    forecast: tuple[Any, Stubber], clock: Clock, status: str, message: str | None, reason: str | None
) -> None:
    client, stub = forecast
    describe(stub, status, message=message)
    with pytest.raises(JobFailed) as failed:
        engine_for(client, clock).is_complete(event(PhysicalResourceId=job_arn()))
    text = str(failed.value)
    assert job_arn() in text and status in text
    assert (message or reason or "") in text


def test_own_deadline_stops_the_job_and_fails_naming_job_and_status(
    forecast: tuple[Any, Stubber], clock: Clock
) -> None:
    client, stub = forecast
    engine = engine_for(client, clock)
    polled = event(PhysicalResourceId=job_arn())
    clock.now = CREATED + timedelta(seconds=2999)
    describe(stub, "CREATE_IN_PROGRESS")
    assert engine.is_complete(polled) == {"IsComplete": False}

    clock.now = CREATED + timedelta(seconds=3000)
    describe(stub, "CREATE_IN_PROGRESS")
    stub.add_response("stop_resource", {}, {"ResourceArn": job_arn()})
    with pytest.raises(DeadlineExceeded) as late:
        engine.is_complete(polled)
    message = str(late.value)
    assert job_arn() in message and "CREATE_IN_PROGRESS" in message and "3000 s" in message
    assert "asked the service to stop it" in message


def test_deadline_with_a_job_already_stopping_asks_nothing_more(forecast: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = forecast
    clock.now = CREATED + timedelta(seconds=3600)
    describe(stub, "CREATE_STOPPING")  # and no stop_resource queued: a call would fail the Stubber
    with pytest.raises(DeadlineExceeded, match="CREATE_STOPPING"):
        engine_for(client, clock).is_complete(event(PhysicalResourceId=job_arn()))


def test_retried_create_adopts_the_job_it_started(forecast: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = forecast
    stub.add_client_error(
        "create_forecast_export_job", "ResourceAlreadyExistsException", "exists", expected_params=expected_create()
    )
    describe(stub, "CREATE_IN_PROGRESS")
    assert engine_for(client, clock).on_event(event()) == {"PhysicalResourceId": job_arn()}


def test_adoption_takes_a_missing_format_as_forecasts_default_csv(forecast: tuple[Any, Stubber]) -> None:
    client, stub = forecast
    request = copy.deepcopy(REQUEST)
    del request["Format"]
    from export_constructs.handler.adapters.base import JobSpec

    spec = JobSpec(name="demand", request=request, stack=Arn.parse(STACK_ID), requested_at=CREATED)
    stub.add_client_error("create_forecast_export_job", "ResourceAlreadyExistsException", "exists")
    existing = describe_response("ACTIVE", arn=job_arn("demand"), request=request)
    existing["Format"] = "CSV"
    stub.add_response("describe_forecast_export_job", existing, {"ForecastExportJobArn": job_arn("demand")})
    assert Adapter(lambda _: client).start(spec) == job_arn("demand")


@pytest.mark.parametrize(
    "change",
    [
        {"ForecastArn": f"{ACCOUNT_PREFIX}:forecast/shop_demand_v2"},
        {"Format": "CSV"},
        {"Destination": {"S3Config": {**REQUEST["Destination"]["S3Config"], "Path": "s3://other-bucket/x/"}}},
    ],
)
def test_retried_create_refuses_a_different_job_of_the_same_name(
    forecast: tuple[Any, Stubber], clock: Clock, change: dict[str, Any]
) -> None:
    client, stub = forecast
    props = {**PROPS, consts.PROP_JOB_NAME: "demand_weekly"}
    stub.add_client_error(
        "create_forecast_export_job",
        "ResourceAlreadyExistsException",
        "exists",
        expected_params=expected_create("demand_weekly"),
    )
    other = describe_response("ACTIVE", arn=job_arn("demand_weekly"), request={**REQUEST, **change})
    stub.add_response("describe_forecast_export_job", other, {"ForecastExportJobArn": job_arn("demand_weekly")})
    with pytest.raises(JobConflict, match=r"demand_weekly.*already exists with other parameters.*job_name"):
        engine_for(client, clock).on_event(event(ResourceProperties=props))


def test_other_errors_propagate(forecast: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = forecast
    stub.add_client_error(
        "create_forecast_export_job", "InvalidInputException", "bad forecast", expected_params=expected_create()
    )
    with pytest.raises(Exception, match="bad forecast"):
        engine_for(client, clock).on_event(event())


# -- update -----------------------------------------------------------------------------------


def test_update_with_changed_request_starts_a_new_job(forecast: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = forecast
    new_props = copy.deepcopy(PROPS)
    new_props["Request"]["Format"] = "CSV"
    new_name = job_name(new_props)
    assert new_name != job_name()
    stub.add_response(
        "create_forecast_export_job",
        {"ForecastExportJobArn": job_arn(new_name)},
        expected_create(new_name, new_props["Request"]),
    )
    update = event("Update", PhysicalResourceId=job_arn(), ResourceProperties=new_props, OldResourceProperties=PROPS)
    assert engine_for(client, clock).on_event(update) == {"PhysicalResourceId": job_arn(new_name)}


def test_update_of_the_timeout_only_keeps_the_job(forecast: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = forecast
    new_props = {**PROPS, consts.PROP_TIMEOUT_SECONDS: "1200"}
    update = event("Update", PhysicalResourceId=job_arn(), ResourceProperties=new_props, OldResourceProperties=PROPS)
    engine = engine_for(client, clock)
    result = engine.on_event(update)
    assert result == {"PhysicalResourceId": job_arn()}  # no API call: the Stubber has nothing queued
    describe(stub, "ACTIVE")
    assert engine.is_complete(after_on_event(update, result))["IsComplete"] is True


# -- delete -----------------------------------------------------------------------------------


def test_delete_while_running_stops_waits_then_deletes_the_record(forecast: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = forecast
    engine = engine_for(client, clock)
    delete = event("Delete", PhysicalResourceId=job_arn())
    describe(stub, "CREATE_IN_PROGRESS")
    stub.add_response("stop_resource", {}, {"ResourceArn": job_arn()})
    assert engine.on_event(delete) == {"PhysicalResourceId": job_arn()}

    describe(stub, "CREATE_STOPPING")
    assert engine.is_complete(delete) == {"IsComplete": False}  # not deleted while stopping
    describe(stub, "CREATE_STOPPED")
    stub.add_response("delete_forecast_export_job", {}, {"ForecastExportJobArn": job_arn()})
    assert engine.is_complete(delete) == {"IsComplete": False}  # the deletion is under way
    describe(stub, "DELETE_IN_PROGRESS")
    assert engine.is_complete(delete) == {"IsComplete": False}
    describe_gone(stub)
    assert engine.is_complete(delete) == {"IsComplete": True}


@pytest.mark.parametrize("status", ["CREATE_FAILED", "ACTIVE"])
def test_delete_of_an_ended_job_deletes_its_record(forecast: tuple[Any, Stubber], clock: Clock, status: str) -> None:
    client, stub = forecast
    engine = engine_for(client, clock)
    delete = event("Delete", PhysicalResourceId=job_arn())
    describe(stub, status, message="x" if status == "CREATE_FAILED" else None)
    assert engine.on_event(delete) == {"PhysicalResourceId": job_arn()}  # nothing to stop
    describe(stub, status)
    stub.add_response("delete_forecast_export_job", {}, {"ForecastExportJobArn": job_arn()})
    assert engine.is_complete(delete) == {"IsComplete": False}
    describe(stub, "DELETE_PENDING")
    assert engine.is_complete(delete) == {"IsComplete": False}
    describe_gone(stub)
    assert engine.is_complete(delete) == {"IsComplete": True}


@pytest.mark.parametrize(
    "physical_id",
    [
        "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED",
        "5e0b7c1d-0000-4a2f-8e00-0123456789cd",
        "",
        EVENT["ResourceProperties"]["Request"]["ForecastArn"],
    ],
)
def test_delete_of_something_that_is_not_a_job_does_nothing(
    forecast: tuple[Any, Stubber], clock: Clock, physical_id: str
) -> None:
    client, _ = forecast
    engine = engine_for(client, clock)
    delete = event("Delete", PhysicalResourceId=physical_id)
    assert engine.on_event(delete) == {"PhysicalResourceId": physical_id}
    assert engine.is_complete(delete) == {"IsComplete": True}


def test_delete_of_a_job_that_is_gone_succeeds(forecast: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = forecast
    engine = engine_for(client, clock)
    delete = event("Delete", PhysicalResourceId=job_arn())
    describe_gone(stub)
    assert engine.on_event(delete) == {"PhysicalResourceId": job_arn()}
    describe_gone(stub)
    assert engine.is_complete(delete) == {"IsComplete": True}


def test_delete_gives_up_on_a_record_forecast_failed_to_delete(
    forecast: tuple[Any, Stubber], clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    client, stub = forecast
    describe(stub, "DELETE_FAILED", message="internal error")
    with caplog.at_level(logging.WARNING, logger="export_constructs"):
        assert engine_for(client, clock).is_complete(event("Delete", PhysicalResourceId=job_arn())) == {
            "IsComplete": True
        }
    assert "failed to delete" in caplog.text and "internal error" in caplog.text and job_arn() in caplog.text


@pytest.mark.parametrize(
    ("code", "warns"),
    [("ResourceNotFoundException", False), ("ResourceInUseException", True), ("InvalidInputException", True)],
)
def test_delete_record_refusals_do_not_hold_the_stack(
    forecast: tuple[Any, Stubber], clock: Clock, caplog: pytest.LogCaptureFixture, code: str, warns: bool
) -> None:
    client, stub = forecast
    describe(stub, "CREATE_STOPPED")
    stub.add_client_error(
        "delete_forecast_export_job", code, "cannot delete", expected_params={"ForecastExportJobArn": job_arn()}
    )
    with caplog.at_level(logging.WARNING, logger="export_constructs"):
        assert engine_for(client, clock).is_complete(event("Delete", PhysicalResourceId=job_arn())) == {
            "IsComplete": True
        }
    assert ("refused to delete" in caplog.text) is warns


def test_delete_record_other_errors_propagate(forecast: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = forecast
    describe(stub, "ACTIVE")
    stub.add_client_error(
        "delete_forecast_export_job",
        "AccessDeniedException",
        "not allowed",
        expected_params={"ForecastExportJobArn": job_arn()},
    )
    with pytest.raises(Exception, match="not allowed"):
        engine_for(client, clock).is_complete(event("Delete", PhysicalResourceId=job_arn()))


RUNNING = JobState(phase=Phase.RUNNING, status="CREATE_IN_PROGRESS")


# -- stop -------------------------------------------------------------------------------------


def test_stop_of_a_job_that_is_gone_counts_as_stopped(forecast: tuple[Any, Stubber]) -> None:
    client, stub = forecast
    stub.add_client_error(
        "stop_resource", "ResourceNotFoundException", "gone", expected_params={"ResourceArn": job_arn()}
    )
    assert Adapter(lambda _: client).stop(job_arn(), RUNNING) is True


@pytest.mark.parametrize("status", ["ACTIVE", "CREATE_FAILED", "CREATE_STOPPED"])
def test_stop_of_a_job_that_ended_meanwhile_counts_as_stopped(forecast: tuple[Any, Stubber], status: str) -> None:
    client, stub = forecast
    stub.add_client_error(
        "stop_resource", "InvalidInputException", "not running", expected_params={"ResourceArn": job_arn()}
    )
    describe(stub, status)
    assert Adapter(lambda _: client).stop(job_arn(), RUNNING) is True


def test_stop_that_fails_while_the_job_still_runs_raises(forecast: tuple[Any, Stubber]) -> None:
    client, stub = forecast
    stub.add_client_error(
        "stop_resource", "InvalidInputException", "bad request", expected_params={"ResourceArn": job_arn()}
    )
    describe(stub, "CREATE_IN_PROGRESS")
    with pytest.raises(Exception, match="bad request"):
        Adapter(lambda _: client).stop(job_arn(), RUNNING)


def test_describe_of_a_missing_job_raises_job_not_found(forecast: tuple[Any, Stubber]) -> None:
    client, stub = forecast
    describe_gone(stub)
    with pytest.raises(JobNotFound):
        Adapter(lambda _: client).describe(job_arn())


@pytest.mark.parametrize(
    ("status", "phase"),
    [
        ("ACTIVE", Phase.SUCCEEDED),
        ("CREATE_PENDING", Phase.RUNNING),
        ("CREATE_IN_PROGRESS", Phase.RUNNING),
        ("CREATE_STOPPING", Phase.RUNNING),
        ("CREATE_FAILED", Phase.FAILED),
        ("CREATE_STOPPED", Phase.FAILED),
        ("DELETE_PENDING", Phase.FAILED),
        ("DELETE_IN_PROGRESS", Phase.FAILED),
        ("DELETE_FAILED", Phase.FAILED),
    ],
)
def test_every_status_maps_to_a_phase(forecast: tuple[Any, Stubber], status: str, phase: Phase) -> None:
    client, stub = forecast
    describe(stub, status)
    state = Adapter(lambda _: client).describe(job_arn())
    assert (state.phase, state.status, state.created_at) == (phase, status, CREATED)


def test_the_engine_loads_this_adapter_by_resource_type() -> None:
    assert ResourceEvent.from_dict(EVENT).adapter_name == "forecast"
    assert isinstance(load_adapter("forecast", lambda _: None), Adapter)
    assert Adapter(lambda _: None).can_stop is True
    assert adapter().output_uri(REQUEST) == REQUEST["Destination"]["S3Config"]["Path"]

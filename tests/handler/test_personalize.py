"""The engine and the Personalize adapter through every lifecycle path, against botocore's
Stubber (which checks each request and canned response against the service model)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from export_constructs.handler import consts
from export_constructs.handler.adapters.base import JobConflict
from export_constructs.handler.engine import DeadlineExceeded, Engine, JobFailed, derive_job_name, load_adapter

from .conftest import Clock
from .events import after_on_event, load

CREATED = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
EVENT = load("personalize_create")
PROPS = EVENT["ResourceProperties"]
REQUEST = PROPS["Request"]
ACCOUNT_PREFIX = "arn:aws:personalize:us-east-1:123456789012"


def job_name(props: dict[str, Any] = PROPS) -> str:
    adapter = load_adapter("personalize", lambda _: None)
    from export_constructs.handler.event import ResourceEvent

    return derive_job_name(ResourceEvent.from_dict(EVENT), adapter, props)


def job_arn(name: str | None = None) -> str:
    return f"{ACCOUNT_PREFIX}:dataset-export-job/{name or job_name()}"


def expected_create(name: str | None = None, request: dict[str, Any] = REQUEST) -> dict[str, Any]:
    return {**request, "jobName": name or job_name()}


def describe_response(status: str, *, reason: str | None = None, arn: str | None = None) -> dict[str, Any]:
    job: dict[str, Any] = {
        "jobName": job_name(),
        "datasetExportJobArn": arn or job_arn(),
        "datasetArn": REQUEST["datasetArn"],
        "ingestionMode": REQUEST["ingestionMode"],
        "roleArn": REQUEST["roleArn"],
        "status": status,
        "jobOutput": copy.deepcopy(REQUEST["jobOutput"]),
        "creationDateTime": CREATED,
        "lastUpdatedDateTime": CREATED,
    }
    if reason:
        job["failureReason"] = reason
    return {"datasetExportJob": job}


def engine_for(client: Any, clock: Clock) -> Engine:
    return Engine(lambda name: client, clock=clock)


def event(request_type: str = "Create", **changes: Any) -> dict[str, Any]:
    ev = copy.deepcopy(EVENT)
    ev["RequestType"] = request_type
    ev.update(changes)
    return ev


def test_derived_name_fits_the_api_and_is_stable() -> None:
    name = job_name()
    assert name == job_name()
    assert name.startswith("ex1c2fa620_UsersExportB5678792_")
    assert 1 <= len(name) <= 63
    import re

    assert re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9\-_]*", name)


def test_derived_name_prefix_comes_from_the_stack_id() -> None:
    """Templates do not carry the prefix (it would cost ~0.6 KB per job): the handler derives
    ``ex`` + the stack UUID's first group, as the handler's IAM policy does; the property that
    earlier templates sent holds the same value and gives the same name."""
    from export_constructs.handler.event import ResourceEvent

    assert "JobNamePrefix" not in PROPS
    assert ResourceEvent.from_dict(EVENT).job_name_prefix == "ex1c2fa620"
    assert job_name({**PROPS, "JobNamePrefix": "ex1c2fa620"}) == job_name()


def test_derived_name_truncates_long_logical_ids() -> None:
    from export_constructs.handler.event import ResourceEvent

    long_event = event(LogicalResourceId="A" * 255)
    name = derive_job_name(ResourceEvent.from_dict(long_event), load_adapter("personalize", lambda _: None), PROPS)
    assert len(name) == 63


def test_create_poll_success(personalize: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = personalize
    engine = engine_for(client, clock)
    stub.add_response("create_dataset_export_job", {"datasetExportJobArn": job_arn()}, expected_create())
    result = engine.on_event(event())
    assert result == {"PhysicalResourceId": job_arn()}

    polled = after_on_event(event(), result)
    for status in ("CREATE PENDING", "CREATE IN_PROGRESS"):
        stub.add_response("describe_dataset_export_job", describe_response(status), {"datasetExportJobArn": job_arn()})
        assert engine.is_complete(polled) == {"IsComplete": False}
    stub.add_response("describe_dataset_export_job", describe_response("ACTIVE"), {"datasetExportJobArn": job_arn()})
    done = engine.is_complete(polled)
    assert done == {
        "IsComplete": True,
        "Data": {
            consts.ATTR_JOB_ARN: job_arn(),
            consts.ATTR_JOB_NAME: job_name(),
            consts.ATTR_STATUS: "ACTIVE",
            consts.ATTR_OUTPUT_URI: REQUEST["jobOutput"]["s3DataDestination"]["path"],
            consts.ATTR_QUEUED_SECONDS: "0",
        },
    }


def test_failed_job_fails_with_the_service_reason(personalize: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = personalize
    reason = "Insufficient privileges for accessing data in S3."
    stub.add_response(
        "describe_dataset_export_job",
        describe_response("CREATE FAILED", reason=reason),
        {"datasetExportJobArn": job_arn()},
    )
    with pytest.raises(JobFailed) as failed:
        engine_for(client, clock).is_complete(event(PhysicalResourceId=job_arn()))
    assert reason in str(failed.value)
    assert job_arn() in str(failed.value)
    assert "CREATE FAILED" in str(failed.value)


def test_own_deadline_fails_naming_job_and_status(personalize: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = personalize
    engine = engine_for(client, clock)
    polled = event(PhysicalResourceId=job_arn())
    clock.now = CREATED + timedelta(seconds=2999)
    stub.add_response(
        "describe_dataset_export_job", describe_response("CREATE IN_PROGRESS"), {"datasetExportJobArn": job_arn()}
    )
    assert engine.is_complete(polled) == {"IsComplete": False}

    clock.now = CREATED + timedelta(seconds=3000)
    stub.add_response(
        "describe_dataset_export_job", describe_response("CREATE IN_PROGRESS"), {"datasetExportJobArn": job_arn()}
    )
    with pytest.raises(DeadlineExceeded) as late:
        engine.is_complete(polled)
    message = str(late.value)
    assert job_arn() in message and "CREATE IN_PROGRESS" in message and "3000 s" in message
    assert "no API to stop it" in message  # and the stubber proves no stop call was made


def test_retried_create_adopts_the_job_it_started(personalize: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = personalize
    stub.add_client_error(
        "create_dataset_export_job", "ResourceAlreadyExistsException", "exists", expected_params=expected_create()
    )
    stub.add_response(
        "describe_dataset_export_job", describe_response("CREATE IN_PROGRESS"), {"datasetExportJobArn": job_arn()}
    )
    assert engine_for(client, clock).on_event(event()) == {"PhysicalResourceId": job_arn()}


def test_retried_create_refuses_a_different_job_of_the_same_name(
    personalize: tuple[Any, Stubber], clock: Clock
) -> None:
    client, stub = personalize
    props = {**PROPS, consts.PROP_JOB_NAME: "users-export"}
    stub.add_client_error(
        "create_dataset_export_job",
        "ResourceAlreadyExistsException",
        "exists",
        expected_params=expected_create("users-export"),
    )
    other = describe_response("ACTIVE", arn=job_arn("users-export"))
    other["datasetExportJob"]["datasetArn"] = f"{ACCOUNT_PREFIX}:dataset/shop/ITEMS"
    stub.add_response("describe_dataset_export_job", other, {"datasetExportJobArn": job_arn("users-export")})
    with pytest.raises(JobConflict, match=r"users-export.*already exists with other parameters.*job_name"):
        engine_for(client, clock).on_event(event(ResourceProperties=props))


def test_update_with_changed_request_starts_a_new_job(personalize: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = personalize
    new_props = copy.deepcopy(PROPS)
    new_props["Request"]["ingestionMode"] = "BULK"
    new_name = job_name(new_props)
    assert new_name != job_name()
    stub.add_response(
        "create_dataset_export_job",
        {"datasetExportJobArn": job_arn(new_name)},
        expected_create(new_name, new_props["Request"]),
    )
    update = event("Update", PhysicalResourceId=job_arn(), ResourceProperties=new_props, OldResourceProperties=PROPS)
    assert engine_for(client, clock).on_event(update) == {"PhysicalResourceId": job_arn(new_name)}


def test_update_of_the_timeout_only_keeps_the_job(personalize: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = personalize
    new_props = {**PROPS, consts.PROP_TIMEOUT_SECONDS: "1200"}
    update = event("Update", PhysicalResourceId=job_arn(), ResourceProperties=new_props, OldResourceProperties=PROPS)
    engine = engine_for(client, clock)
    result = engine.on_event(update)
    assert result == {"PhysicalResourceId": job_arn()}  # no API call: the stubber has nothing queued
    stub.add_response("describe_dataset_export_job", describe_response("ACTIVE"), {"datasetExportJobArn": job_arn()})
    assert engine.is_complete(after_on_event(update, result))["IsComplete"] is True


def test_delete_while_running_leaves_the_job_to_finish(personalize: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = personalize
    engine = engine_for(client, clock)
    delete = event("Delete", PhysicalResourceId=job_arn())
    stub.add_response(
        "describe_dataset_export_job", describe_response("CREATE IN_PROGRESS"), {"datasetExportJobArn": job_arn()}
    )
    assert engine.on_event(delete) == {"PhysicalResourceId": job_arn()}
    # Personalize has no stop API: the Delete does not wait for the job either.
    stub.add_response(
        "describe_dataset_export_job", describe_response("CREATE IN_PROGRESS"), {"datasetExportJobArn": job_arn()}
    )
    assert engine.is_complete(delete) == {"IsComplete": True}


@pytest.mark.parametrize(
    "physical_id",
    ["AWSCDK::CustomResourceProviderFramework::CREATE_FAILED", "d8f1a2b3-0000-4c1e-9f00-0123456789ab", ""],
)
def test_delete_of_something_that_is_not_a_job_does_nothing(
    personalize: tuple[Any, Stubber], clock: Clock, physical_id: str
) -> None:
    client, _ = personalize
    engine = engine_for(client, clock)
    delete = event("Delete", PhysicalResourceId=physical_id)
    assert engine.on_event(delete) == {"PhysicalResourceId": physical_id}
    assert engine.is_complete(delete) == {"IsComplete": True}


def test_delete_of_a_job_that_is_gone_succeeds(personalize: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = personalize
    engine = engine_for(client, clock)
    delete = event("Delete", PhysicalResourceId=job_arn())
    for _ in range(2):
        stub.add_client_error(
            "describe_dataset_export_job",
            "ResourceNotFoundException",
            "gone",
            expected_params={"datasetExportJobArn": job_arn()},
        )
    assert engine.on_event(delete) == {"PhysicalResourceId": job_arn()}
    assert engine.is_complete(delete) == {"IsComplete": True}


def test_delete_after_the_job_failed_succeeds(personalize: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = personalize
    engine = engine_for(client, clock)
    delete = event("Delete", PhysicalResourceId=job_arn())
    for _ in range(2):
        stub.add_response(
            "describe_dataset_export_job",
            describe_response("CREATE FAILED", reason="x"),
            {"datasetExportJobArn": job_arn()},
        )
    assert engine.on_event(delete) == {"PhysicalResourceId": job_arn()}
    assert engine.is_complete(delete) == {"IsComplete": True}


def test_other_errors_propagate(personalize: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = personalize
    stub.add_client_error(
        "create_dataset_export_job", "AccessDeniedException", "not allowed", expected_params=expected_create()
    )
    with pytest.raises(Exception, match="not allowed"):
        engine_for(client, clock).on_event(event())


def test_unknown_resource_types_are_refused(clock: Clock) -> None:
    engine = Engine(lambda _: None, clock=clock)
    for resource_type in (
        "Custom::ExportJob-Nope",
        "Custom::ExportJob-Base",
        "Custom::ExportJob-../x",
        "Custom::Other",
    ):
        with pytest.raises(ValueError, match=r"export-job adapter|not an export job"):
            engine.on_event(event(ResourceType=resource_type))

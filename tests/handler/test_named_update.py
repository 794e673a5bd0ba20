"""Updates of jobs with a given ``job_name``: a given name does not change with the
request, so an Update that changes the request cannot keep the job; it fails, naming the
construct, the name and what changed, and starts and stops nothing. CloudFormation's rollback
Update that follows (the old properties back, the failed ones as ``OldResourceProperties``)
keeps the job. The Stubber proves which calls are made: an unqueued call fails the test."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from export_constructs.handler import consts
from export_constructs.handler.adapters.base import JobConflict
from export_constructs.handler.engine import changed_members

from . import test_forecast as fc
from . import test_personalize as pz
from .conftest import Clock, stubbed_client
from .events import after_on_event

PATH = "ExportConstructsSample/UsersExport"
NAME = "users-export"


def named(props: dict[str, Any], name: str, path: str) -> dict[str, Any]:
    return {**copy.deepcopy(props), consts.PROP_JOB_NAME: name, consts.PROP_CONSTRUCT_PATH: path}


# -- Personalize -----------------------------------------------------------------------------

P_OLD = named(pz.PROPS, NAME, PATH)
P_NEW = copy.deepcopy(P_OLD)
P_NEW["Request"]["jobOutput"]["s3DataDestination"]["path"] = "s3://other-bucket/users/"
P_ARN = pz.job_arn(NAME)


def personalize_existing(stub: Stubber, request: dict[str, Any], status: str = "ACTIVE") -> None:
    """CreateDatasetExportJob refused (the name is taken), then the job of that name described:
    it was started with ``request``."""
    stub.add_client_error(
        "create_dataset_export_job",
        "ResourceAlreadyExistsException",
        "exists",
        expected_params={**request, "jobName": NAME},
    )
    job = pz.describe_response(status, arn=P_ARN)
    job["datasetExportJob"].update(jobName=NAME, jobOutput=copy.deepcopy(P_OLD["Request"]["jobOutput"]))
    stub.add_response("describe_dataset_export_job", job, {"datasetExportJobArn": P_ARN})


def test_personalize_update_changing_a_named_jobs_request_fails_and_starts_nothing(
    personalize: tuple[Any, Stubber], clock: Clock
) -> None:
    client, stub = personalize
    personalize_existing(stub, P_NEW["Request"])
    update = pz.event("Update", PhysicalResourceId=P_ARN, ResourceProperties=P_NEW, OldResourceProperties=P_OLD)
    with pytest.raises(JobConflict) as refused:
        pz.engine_for(client, clock).on_event(update)
    message = str(refused.value)
    assert message.startswith(f"{PATH}: ")
    assert f"job_name {NAME!r}" in message
    assert "(jobOutput.s3DataDestination.path)" in message
    assert "new job_name" in message and "custom-named resource that needs replacement" in message
    assert "Nothing was started or stopped" in message


def test_personalize_rollback_update_of_a_named_job_keeps_it(personalize: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = personalize
    personalize_existing(stub, P_OLD["Request"])
    rollback = pz.event("Update", PhysicalResourceId=P_ARN, ResourceProperties=P_OLD, OldResourceProperties=P_NEW)
    engine = pz.engine_for(client, clock)
    result = engine.on_event(rollback)
    assert result == {"PhysicalResourceId": P_ARN}
    stub.add_response(
        "describe_dataset_export_job", pz.describe_response("ACTIVE", arn=P_ARN), {"datasetExportJobArn": P_ARN}
    )
    done = engine.is_complete(after_on_event(rollback, result))
    assert done["Data"]["OutputUri"] == P_OLD["Request"]["jobOutput"]["s3DataDestination"]["path"]


@pytest.mark.parametrize(
    "change",
    [
        {consts.PROP_TIMEOUT_SECONDS: "1200"},
        {consts.PROP_CONSTRUCT_PATH: "Renamed/UsersExport"},
    ],
    ids=["timeout", "construct-path"],
)
def test_personalize_update_of_a_named_job_keeps_it_when_the_request_is_the_same(
    personalize: tuple[Any, Stubber], clock: Clock, change: dict[str, str]
) -> None:
    client, _ = personalize
    update = pz.event(
        "Update", PhysicalResourceId=P_ARN, ResourceProperties={**P_OLD, **change}, OldResourceProperties=P_OLD
    )
    assert pz.engine_for(client, clock).on_event(update) == {"PhysicalResourceId": P_ARN}  # and no API call


def test_an_existing_named_job_gaining_the_construct_path_property_is_kept(
    personalize: tuple[Any, Stubber], clock: Clock
) -> None:
    """Templates of earlier versions had no ConstructPath: upgrading the library keeps the job."""
    client, _ = personalize
    old = {k: v for k, v in P_OLD.items() if k != consts.PROP_CONSTRUCT_PATH}
    update = pz.event("Update", PhysicalResourceId=P_ARN, ResourceProperties=P_OLD, OldResourceProperties=old)
    assert pz.engine_for(client, clock).on_event(update) == {"PhysicalResourceId": P_ARN}  # and no API call


# -- Forecast --------------------------------------------------------------------------------

F_NAME = "demand_weekly"
F_PATH = "ExportConstructsSample/DemandExport"
F_OLD = named(fc.PROPS, F_NAME, F_PATH)
F_ARN = fc.job_arn(F_NAME)


@pytest.fixture
def forecast() -> Iterator[tuple[Any, Stubber]]:
    client, stubber = stubbed_client("forecast")
    with stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def forecast_existing(stub: Stubber, request: dict[str, Any]) -> None:
    """CreateForecastExportJob refused (the name is taken in that forecast), then the job of
    that name described: it was started with ``F_OLD``'s request."""
    stub.add_client_error(
        "create_forecast_export_job",
        "ResourceAlreadyExistsException",
        "exists",
        expected_params={**request, "ForecastExportJobName": F_NAME},
    )
    fc.describe(stub, "ACTIVE", arn=F_ARN, request=F_OLD["Request"])


def forecast_update(new: dict[str, Any], old: dict[str, Any] = F_OLD, physical: str = F_ARN) -> dict[str, Any]:
    return fc.event("Update", PhysicalResourceId=physical, ResourceProperties=new, OldResourceProperties=old)


@pytest.mark.parametrize(
    ("change", "members"),
    [
        ({"Format": "CSV"}, "Format"),
        (
            {"Destination": {"S3Config": {**fc.REQUEST["Destination"]["S3Config"], "Path": "s3://other-bucket/x/"}}},
            "Destination.S3Config.Path",
        ),
    ],
    ids=["format", "prefix"],
)
def test_forecast_update_changing_a_named_jobs_request_fails_and_starts_or_stops_nothing(
    forecast: tuple[Any, Stubber], clock: Clock, change: dict[str, Any], members: str
) -> None:
    client, stub = forecast
    new = {**F_OLD, "Request": {**F_OLD["Request"], **change}}
    forecast_existing(stub, new["Request"])
    with pytest.raises(JobConflict) as refused:
        fc.engine_for(client, clock).on_event(forecast_update(new))  # and no StopResource queued
    message = str(refused.value)
    assert message.startswith(f"{F_PATH}: ") and f"job_name {F_NAME!r}" in message
    assert f"({members})" in message and "new job_name" in message


def test_forecast_rollback_update_of_a_named_job_keeps_it(forecast: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = forecast
    failed = {**F_OLD, "Request": {**F_OLD["Request"], "Format": "CSV"}}
    forecast_existing(stub, F_OLD["Request"])
    assert fc.engine_for(client, clock).on_event(forecast_update(F_OLD, failed)) == {"PhysicalResourceId": F_ARN}


def test_forecast_named_job_moved_to_another_forecast_is_a_new_job(forecast: tuple[Any, Stubber], clock: Clock) -> None:
    """The job's ARN holds the forecast's name: the same job_name in another forecast is a new
    job, which Forecast accepts; the old one is deleted by CloudFormation's cleanup Delete."""
    client, stub = forecast
    other = "arn:aws:forecast:us-east-1:123456789012:forecast/shop_weekly"
    new = {**F_OLD, "Request": {**F_OLD["Request"], "ForecastArn": other}}
    new_arn = f"{fc.ACCOUNT_PREFIX}:forecast-export-job/shop_weekly/{F_NAME}"
    stub.add_response(
        "create_forecast_export_job",
        {"ForecastExportJobArn": new_arn},
        {**new["Request"], "ForecastExportJobName": F_NAME},
    )
    assert fc.engine_for(client, clock).on_event(forecast_update(new)) == {"PhysicalResourceId": new_arn}


def test_forecast_rollback_of_a_job_moved_to_another_forecast_returns_to_the_old_job(
    forecast: tuple[Any, Stubber], clock: Clock
) -> None:
    """A later resource failed: the rollback Update asks for the old forecast's job, which still
    exists (cleanup had not run), so the physical id goes back and CloudFormation deletes the new
    job in the rollback's cleanup."""
    client, stub = forecast
    other = "arn:aws:forecast:us-east-1:123456789012:forecast/shop_weekly"
    moved = {**F_OLD, "Request": {**F_OLD["Request"], "ForecastArn": other}}
    new_arn = f"{fc.ACCOUNT_PREFIX}:forecast-export-job/shop_weekly/{F_NAME}"
    forecast_existing(stub, F_OLD["Request"])
    rollback = forecast_update(F_OLD, moved, physical=new_arn)
    assert fc.engine_for(client, clock).on_event(rollback) == {"PhysicalResourceId": F_ARN}


def test_changed_members_are_dotted_paths_lists_whole() -> None:
    old = {"a": 1, "b": {"c": 2, "d": [1]}, "gone": 1}
    new = {"a": 1, "b": {"c": 3, "d": [1, 2]}, "added": 1}
    assert changed_members(old, new) == ["b.c", "b.d", "added", "gone"]
    assert changed_members(old, old) == []

"""The simulation runs where the stack runs, and its fakes refuse what AWS refuses: a
stack with a concrete env is simulated in its account and Region (the fakes' ARNs in
that Region's partition), arguments that contradict it are a ValueError; a source of another
Region or account, a dataset group given as the dataset, a Pinpoint id that is not 32 lower-case
hexadecimal digits and a role of another account are each refused with the service's own error
code, naming the bad value. Such a refusal fails the Create, as AWS would; it is no problem of the
handler's (``problems`` stays empty).

Speed: the fakes are driven directly (no synth); the simulations share one App of three small
stacks, synthesized once.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import aws_cdk as cdk
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from export_constructs import (
    ExportDestination,
    ForecastExportJob,
    PersonalizeDatasetExportJob,
    PinpointExportJob,
    RoboMakerWorldExportJob,
)
from export_constructs.testing import FakeService, Scenario, fake_class, simulate
from export_constructs.testing.fakes.server import ACCESS_KEY, SECRET_KEY

from .conftest import client

ACCOUNT, REGION = "123456789012", "us-east-1"
OTHER_ACCOUNT, OTHER_REGION = "210987654321", "eu-west-1"
HERE = f"{REGION}:{ACCOUNT}"
DATASET = f"arn:aws:personalize:{HERE}:dataset/shop/USERS"
FORECAST = f"arn:aws:forecast:{HERE}:forecast/shop_demand"
WORLD = f"arn:aws:robomaker:{HERE}:world/sim-1/world-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/export"
OTHER_ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/export"
APP = "0123456789abcdef0123456789abcdef"


def elsewhere(arn: str) -> list[str]:
    """``arn`` in another Region, in another account, and in another partition."""
    return [
        arn.replace(f":{REGION}:", f":{OTHER_REGION}:"),
        arn.replace(f":{ACCOUNT}:", f":{OTHER_ACCOUNT}:"),
        arn.replace("arn:aws:", "arn:aws-cn:"),
    ]


# -- the fakes, driven directly ----------------------------------------------------------------------


def refusal(call: Any, **params: Any) -> tuple[int, str, str]:
    """(HTTP status, error code, message) of a refused boto3 call."""
    with pytest.raises(ClientError) as refused:
        call(**params)
    error = refused.value.response
    return error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"], error["Error"]["Message"]


def dataset_export(**params: Any) -> dict[str, Any]:
    return {
        "jobName": "ex00000000_Users_0123456789ab",
        "datasetArn": DATASET,
        "roleArn": ROLE,
        "jobOutput": {"s3DataDestination": {"path": "s3://bucket/users/"}},
        **params,
    }


def test_personalize_refuses_a_dataset_of_another_place(personalize: FakeService) -> None:
    api = client("personalize", personalize)
    for arn in elsewhere(DATASET):
        status, code, message = refusal(api.create_dataset_export_job, **dataset_export(datasetArn=arn))
        assert (status, code) == (400, "ResourceNotFoundException") and arn in message, message
    assert personalize.jobs == {} and personalize.problems == []
    assert api.create_dataset_export_job(**dataset_export())["datasetExportJobArn"].startswith(
        f"arn:aws:personalize:{HERE}:dataset-export-job/"
    )


def test_personalize_refuses_a_dataset_group_as_the_dataset(personalize: FakeService) -> None:
    group = f"arn:aws:personalize:{HERE}:dataset-group/shop"
    api = client("personalize", personalize)
    status, code, message = refusal(api.create_dataset_export_job, **dataset_export(datasetArn=group))
    assert (status, code) == (400, "InvalidInputException")
    assert group in message and "is a dataset group, not a dataset" in message
    assert personalize.jobs == {} and personalize.problems == []


def test_personalize_refuses_a_role_of_another_account(personalize: FakeService) -> None:
    api = client("personalize", personalize)
    status, code, message = refusal(api.create_dataset_export_job, **dataset_export(roleArn=OTHER_ROLE))
    assert (status, code) == (400, "InvalidInputException") and OTHER_ROLE in message, message
    assert personalize.jobs == {} and personalize.problems == []


def forecast_export(forecast_arn: str = FORECAST, role: str = ROLE) -> dict[str, Any]:
    return {
        "ForecastExportJobName": "ex00000000_Demand_0123456789ab",
        "ForecastArn": forecast_arn,
        "Destination": {"S3Config": {"Path": "s3://bucket/demand/", "RoleArn": role}},
    }


def test_forecast_refuses_a_forecast_of_another_place_and_a_role_of_another_account(forecast: FakeService) -> None:
    api = client("forecast", forecast)
    for arn in elsewhere(FORECAST):
        status, code, message = refusal(api.create_forecast_export_job, **forecast_export(arn))
        assert (status, code) == (400, "ResourceNotFoundException") and arn in message, message
    # "If you pass a role that isn't in your account, you get an InvalidInputException error."
    status, code, message = refusal(api.create_forecast_export_job, **forecast_export(role=OTHER_ROLE))
    assert (status, code) == (400, "InvalidInputException") and OTHER_ROLE in message, message
    assert forecast.jobs == {} and forecast.problems == []


@pytest.mark.parametrize("app", [APP.upper(), APP[:-1], APP + "0", f"{APP[:8]}-{APP[8:]}", "my-project"])
def test_pinpoint_finds_no_application_that_is_not_32_lower_case_hex_digits(pinpoint: FakeService, app: str) -> None:
    api = client("pinpoint", pinpoint)
    request = {"RoleArn": ROLE, "S3UrlPrefix": "s3://bucket/endpoints/"}
    calls: list[tuple[Any, dict[str, Any]]] = [
        (api.create_export_job, {"ApplicationId": app, "ExportJobRequest": request}),
        (api.get_export_jobs, {"ApplicationId": app}),  # the handler lists them before it creates
    ]
    for call, params in calls:
        status, code, message = refusal(call, **params)
        assert (status, code) == (404, "NotFoundException") and repr(app) in message, message
    assert pinpoint.jobs == {} and pinpoint.problems == []


def test_pinpoint_refuses_a_role_of_another_account(pinpoint: FakeService) -> None:
    api = client("pinpoint", pinpoint)
    request = {"RoleArn": OTHER_ROLE, "S3UrlPrefix": "s3://bucket/endpoints/"}
    status, code, message = refusal(api.create_export_job, ApplicationId=APP, ExportJobRequest=request)
    assert (status, code) == (400, "BadRequestException") and OTHER_ROLE in message, message
    assert pinpoint.jobs == {} and pinpoint.problems == []
    request["RoleArn"] = ROLE
    assert api.create_export_job(ApplicationId=APP, ExportJobRequest=request)["ExportJobResponse"]["Id"]


def robomaker_call(fake: FakeService, operation: str, body: dict[str, Any]) -> tuple[int, str, dict[str, Any]]:
    """A SigV4-signed RoboMaker request (botocore has no RoboMaker model): (status, error code or
    "", body)."""
    request = AWSRequest(
        method="POST",
        url=f"{fake.url}/{operation}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "robomaker", fake.region).add_auth(request)
    prepared = urllib.request.Request(request.url, data=request.body, headers=dict(request.headers), method="POST")
    try:
        with urllib.request.urlopen(prepared, timeout=5) as answer:
            return answer.status, "", json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers.get("x-amzn-ErrorType", ""), json.loads(refused.read())


def world_export(worlds: list[str], role: str = ROLE) -> dict[str, Any]:
    return {"worlds": worlds, "iamRole": role, "outputLocation": {"s3Bucket": "bucket", "s3Prefix": "worlds/"}}


def test_robomaker_refuses_a_world_of_another_place_and_a_role_of_another_account(robomaker: FakeService) -> None:
    for arn in elsewhere(WORLD):
        status, code, body = robomaker_call(robomaker, "createWorldExportJob", world_export([WORLD, arn]))
        assert (status, code) == (400, "ResourceNotFoundException"), body
        assert arn in body["message"] and "worlds[1]" in body["message"], body
    status, code, body = robomaker_call(robomaker, "createWorldExportJob", world_export([WORLD], OTHER_ROLE))
    assert (status, code) == (400, "InvalidParameterException") and OTHER_ROLE in body["message"], body
    assert robomaker.jobs == {} and robomaker.problems == []
    status, _, created = robomaker_call(robomaker, "createWorldExportJob", world_export([WORLD]))
    assert status == 200 and created["arn"].startswith(f"arn:aws:robomaker:{HERE}:world-export-job/")


def test_the_fakes_build_arns_in_their_regions_partition(aws_env: None) -> None:
    china, account = "cn-north-1", ACCOUNT
    for region, partition in [(china, "aws-cn"), ("us-gov-west-1", "aws-us-gov")]:
        with fake_class("Personalize")(region=region, account=account) as personalize:
            dataset = f"arn:{partition}:personalize:{region}:{account}:dataset/shop/USERS"
            arn = client("personalize", personalize).create_dataset_export_job(
                **dataset_export(datasetArn=dataset, roleArn=f"arn:{partition}:iam::{account}:role/export")
            )["datasetExportJobArn"]
            assert arn.startswith(f"arn:{partition}:personalize:{region}:{account}:dataset-export-job/")
            # A dataset of the aws partition is not in this one.
            _, code, _ = refusal(client("personalize", personalize).create_dataset_export_job, **dataset_export())
            assert code == "ResourceNotFoundException"
        with fake_class("Forecast")(region=region, account=account) as forecast:
            job = forecast_export(f"arn:{partition}:forecast:{region}:{account}:forecast/shop_demand")
            arn = client("forecast", forecast).create_forecast_export_job(**job)["ForecastExportJobArn"]
            assert arn.startswith(f"arn:{partition}:forecast:{region}:{account}:forecast-export-job/")
        with fake_class("RoboMaker")(region=region, account=account) as robomaker:
            world = WORLD.replace("arn:aws:", f"arn:{partition}:").replace(REGION, region)
            _, _, created = robomaker_call(robomaker, "createWorldExportJob", world_export([world]))
            assert created["arn"].startswith(f"arn:{partition}:robomaker:{region}:{account}:")
    with fake_class("Personalize")(region=china, account=account, scenario=Scenario.ACCESS_DENIED) as denied:
        _, code, message = refusal(
            client("personalize", denied).create_dataset_export_job,
            **dataset_export(datasetArn=f"arn:aws-cn:personalize:{china}:{account}:dataset/shop/USERS"),
        )
        assert code == "AccessDeniedException" and f"arn:aws-cn:sts::{account}:" in message, message


# -- simulate: the stack's own account and Region ----------------------------------------------------

PLACED = cdk.Environment(account="111122223333", region="eu-west-1")
CHINA = cdk.Environment(account="111122223333", region="cn-north-1")


def export_jobs(stack: cdk.Stack, *, aws_only: bool = True) -> None:
    """A job of each service, sources in the stack's place; with ``aws_only`` False, only those
    whose APIs take other partitions (RoboMaker's iamRole pattern and Forecast's KMSKeyArn
    pattern, ``arn:aws:kms:.*:key/.*``, admit the aws partition only)."""
    place = f"{stack.region}:{stack.account}"
    exports = ExportDestination(stack, "Exports")
    PersonalizeDatasetExportJob(
        stack,
        "Users",
        dataset_arn=f"arn:{cdk.Aws.PARTITION}:personalize:{place}:dataset/shop/USERS",
        destination=exports,
    )
    PinpointExportJob(stack, "Endpoints", application_id=APP, destination=exports)
    if aws_only:
        ForecastExportJob(
            stack,
            "Demand",
            forecast_arn=f"arn:{cdk.Aws.PARTITION}:forecast:{place}:forecast/demand",
            destination=exports,
        )
        RoboMakerWorldExportJob(
            stack, "Worlds", worlds=[f"arn:{cdk.Aws.PARTITION}:robomaker:{place}:world/sim-1/w"], destination=exports
        )


@pytest.fixture(scope="module")
def stacks() -> dict[str, cdk.Stack]:
    """Three stacks of one App (synthesized once, by the first simulation): in a concrete place,
    in a Region of the aws-cn partition, and environment-agnostic with a dataset of eu-west-1 (which
    a stack without an account and Region cannot check at synth)."""
    app = cdk.App()
    placed = cdk.Stack(app, "Placed", env=PLACED)
    export_jobs(placed)
    china = cdk.Stack(app, "China", env=CHINA)
    export_jobs(china, aws_only=False)
    agnostic = cdk.Stack(app, "Agnostic")
    PersonalizeDatasetExportJob(
        agnostic,
        "Users",
        dataset_arn=f"arn:aws:personalize:eu-west-1:{ACCOUNT}:dataset/shop/USERS",
        destination=ExportDestination(agnostic, "Exports"),
    )
    return {"Placed": placed, "China": china, "Agnostic": agnostic}


def job_arns(result: Any) -> list[str]:
    return [s.data["JobArn"] for s in result.steps if s.request_type == "Create" and s.status == "SUCCESS"]


def test_a_stack_with_a_concrete_env_is_simulated_in_its_account_and_region(stacks: dict[str, cdk.Stack]) -> None:
    result = simulate(stacks["Placed"], delete=False)
    assert result.problems == [] and all(s.status == "SUCCESS" for s in result.steps), result.steps
    arns = job_arns(result)
    assert len(arns) == 4 and all(":eu-west-1:111122223333:" in arn for arn in arns), arns
    # The same, given explicitly.
    again = simulate(stacks["Placed"], account="111122223333", region="eu-west-1", delete=False)
    assert all(s.status == "SUCCESS" for s in again.steps)


def test_a_stack_in_china_is_simulated_in_the_aws_cn_partition(stacks: dict[str, cdk.Stack]) -> None:
    result = simulate(stacks["China"], delete=False)
    assert result.problems == [] and all(s.status == "SUCCESS" for s in result.steps), result.steps
    arns = job_arns(result)
    assert len(arns) == 2 and all(a.startswith("arn:aws-cn:") and ":cn-north-1:111122223333:" in a for a in arns)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"region": "us-east-1"}, "region eu-west-1"),
        ({"account": ACCOUNT}, "account 111122223333"),
        ({"update_to": "China"}, "region cn-north-1"),
    ],
)
def test_arguments_or_an_update_that_contradict_the_stacks_env_are_a_value_error(
    stacks: dict[str, cdk.Stack], kwargs: dict[str, Any], named: str
) -> None:
    if "update_to" in kwargs:
        kwargs = {"update_to": stacks[kwargs["update_to"]]}
    with pytest.raises(ValueError, match=named):
        simulate(stacks["Placed"], **kwargs)


def test_an_agnostic_stack_runs_in_the_default_place_where_aws_refuses_a_foreign_source(
    stacks: dict[str, cdk.Stack],
) -> None:
    result = simulate(stacks["Agnostic"])
    create = result.steps[0]
    assert (create.request_type, create.status) == ("Create", "FAILED"), result.steps
    dataset = f"arn:aws:personalize:eu-west-1:{ACCOUNT}:dataset/shop/USERS"
    assert "ResourceNotFoundException" in create.reason and dataset in create.reason, create.reason
    assert result.problems == []  # the handler sent what the template said
    # Simulated in the dataset's Region, the same stack succeeds.
    moved = simulate(stacks["Agnostic"], region="eu-west-1", delete=False)
    assert [a.split(":")[3:5] for a in job_arns(moved)] == [["eu-west-1", ACCOUNT]]

"""The fake services' own checks can fail: malformed or unsigned requests are found and
refused, answers are in the model's shapes, and jobs move through the services' states."""

from __future__ import annotations

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

from export_constructs.testing import FakeService

from .conftest import client

DATASET_EXPORT = {
    "jobName": "ex00000000_Users_0123456789ab",
    "datasetArn": "arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS",
    "roleArn": "arn:aws:iam::123456789012:role/export",
    "jobOutput": {"s3DataDestination": {"path": "s3://bucket/users/"}},
}


def test_a_request_outside_the_model_is_refused_and_recorded(personalize: FakeService) -> None:
    unchecked = client("personalize", personalize, parameter_validation=False)
    with pytest.raises(ClientError) as refused:
        unchecked.create_dataset_export_job(**{**DATASET_EXPORT, "ingestionMode": "SOMETIMES"})
    assert refused.value.response["Error"]["Code"] == "InvalidInputException"
    assert any("ingestionMode" in p for p in personalize.problems)
    assert personalize.jobs == {}


def test_an_unsigned_request_is_refused(personalize: FakeService) -> None:
    request = urllib.request.Request(
        personalize.url,
        data=json.dumps({"datasetExportJobArn": "arn:x"}).encode(),
        headers={
            "X-Amz-Target": "AmazonPersonalize.DescribeDatasetExportJob",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 403
    assert personalize.problems and "SigV4" in personalize.problems[0]


def test_a_request_signed_with_other_credentials_is_refused(
    personalize: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-simulations-secret")
    with pytest.raises(ClientError):
        client("personalize", personalize).describe_dataset_export_job(datasetExportJobArn="arn:x")
    assert "the signature does not match the request" in personalize.problems


def test_personalize_jobs_move_through_their_states(personalize: FakeService) -> None:
    api = client("personalize", personalize)
    arn = api.create_dataset_export_job(**DATASET_EXPORT)["datasetExportJobArn"]
    seen = [api.describe_dataset_export_job(datasetExportJobArn=arn)["datasetExportJob"]["status"] for _ in range(4)]
    assert seen == ["CREATE IN_PROGRESS", "CREATE IN_PROGRESS", "ACTIVE", "ACTIVE"]
    with pytest.raises(ClientError) as again:
        api.create_dataset_export_job(**DATASET_EXPORT)
    assert again.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"
    assert personalize.problems == []


def test_pinpoint_speaks_rest_json_with_uri_labels_payloads_and_query_strings(pinpoint: FakeService) -> None:
    api = client("pinpoint", pinpoint)
    request = {"RoleArn": "arn:aws:iam::123456789012:role/export", "S3UrlPrefix": "s3://bucket/endpoints/"}
    created = api.create_export_job(ApplicationId="0123456789abcdef0123456789abcdef", ExportJobRequest=request)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    job = created["ExportJobResponse"]
    assert job["JobStatus"] == "CREATED" and job["Definition"] == request
    statuses = [
        api.get_export_job(ApplicationId=job["ApplicationId"], JobId=job["Id"])["ExportJobResponse"]["JobStatus"]
        for _ in range(7)
    ]
    assert statuses[-1] == "COMPLETED" and "PROCESSING" in statuses
    listed = api.get_export_jobs(ApplicationId=job["ApplicationId"], PageSize="1")["ExportJobsResponse"]
    assert [j["Id"] for j in listed["Item"]] == [job["Id"]]
    with pytest.raises(ClientError) as missing:
        api.get_export_job(ApplicationId=job["ApplicationId"], JobId="0" * 32)
    assert missing.value.response["Error"]["Code"] == "NotFoundException"
    assert pinpoint.problems == []


def test_robomaker_bodies_are_checked_against_the_seed_shapes() -> None:
    from export_constructs.testing.fakes.robomaker import check_create, check_job

    assert check_job({"job": "arn:aws:robomaker:us-east-1:123456789012:world-export-job/x"}) == []
    assert check_job({"job": "not-an-arn"}) != []
    body = {"iamRole": "arn:aws:iam::123456789012:role/r", "outputLocation": {}, "worlds": []}
    assert any("worlds" in p for p in check_create(body))
    assert check_create({**body, "worlds": ["arn:aws:robomaker:::world/w"]}) == []

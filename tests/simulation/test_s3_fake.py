"""The S3 fake's GetBucketLocation on the wire, as botocore itself reads it: the Region of a known
bucket (none for us-east-1), NoSuchBucket for an unknown one, AccessDenied for a wrong expected
owner or a role IAM denies; requests reach it path-style through ``AWS_ENDPOINT_URL_S3``, as the
handler's clients do, and their S3 SigV4 signatures are checked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from export_constructs.testing.authorize import Authorizer
from export_constructs.testing.fakes.s3 import Fake as S3Fake
from export_constructs.testing.fakes.server import ACCESS_KEY, SECRET_KEY
from export_constructs.testing.iam import shared_simulator
from export_constructs.testing.policies import AccountPolicies

SOURCE, ARCHIVE = "111122223333", "222233334444"
REGION = "eu-west-1"


@pytest.fixture
def s3(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Fake]:
    fake = S3Fake(region=REGION, account=SOURCE)
    with fake:
        fake.add_bucket("archive", ARCHIVE, REGION)
        fake.add_bucket("virginia", ARCHIVE, "us-east-1")
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", fake.url)
        yield fake


def _client(**credentials: str) -> Any:
    """An S3 client as the handler makes one: its endpoint from ``AWS_ENDPOINT_URL_S3``."""
    config = Config(retries={"mode": "standard", "total_max_attempts": 1})
    return boto3.session.Session(**credentials).client("s3", region_name=REGION, config=config)


def _refused(call: Any, **params: str) -> tuple[int, str]:
    with pytest.raises(ClientError) as refused:
        call(**params)
    response = refused.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def test_the_owner_gets_the_buckets_region(s3: S3Fake) -> None:
    answer = _client().get_bucket_location(Bucket="archive", ExpectedBucketOwner=ARCHIVE)
    assert answer["LocationConstraint"] == REGION
    assert _client().get_bucket_location(Bucket="archive")["LocationConstraint"] == REGION
    assert s3.problems == []
    assert [c.params for c in s3.calls] == [
        {"Bucket": "archive", "ExpectedBucketOwner": ARCHIVE},
        {"Bucket": "archive"},
    ]


def test_a_bucket_in_us_east_1_has_no_location_constraint(s3: S3Fake) -> None:
    assert _client().get_bucket_location(Bucket="virginia")["LocationConstraint"] is None


def test_a_wrong_expected_owner_is_access_denied(s3: S3Fake) -> None:
    assert _refused(_client().get_bucket_location, Bucket="archive", ExpectedBucketOwner=SOURCE) == (
        403,
        "AccessDenied",
    )
    assert s3.problems == []


def test_an_unknown_bucket_is_no_such_bucket(s3: S3Fake) -> None:
    assert _refused(_client().get_bucket_location, Bucket="nobody-has-it", ExpectedBucketOwner=ARCHIVE) == (
        404,
        "NoSuchBucket",
    )


def test_a_request_signed_with_other_credentials_is_refused(s3: S3Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-simulations-secret")
    assert _refused(_client().get_bucket_location, Bucket="archive")[0] == 403
    assert "the signature does not match the request" in s3.problems


def test_the_callers_role_must_be_allowed_by_both_accounts(s3: S3Fake) -> None:
    """GetBucketLocation on the archive's bucket is authorized for the calling function's role:
    the source account's identity policy and the archive account's bucket policy both allow it."""
    bucket_arn = "arn:aws:s3:::archive"
    role = f"arn:aws:iam::{SOURCE}:role/handler"
    source = AccountPolicies(SOURCE, REGION, "aws")
    allow = {"Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": bucket_arn}
    trust = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    handler = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [trust]},
            "Policies": [{"PolicyName": "Handler", "PolicyDocument": {"Version": "2012-10-17", "Statement": [allow]}}],
        },
    }
    source.add_template({"Handler": handler}, lambda node: role if "Fn::GetAtt" in node else node, "Source")
    archive = AccountPolicies(ARCHIVE, REGION, "aws")
    archive.buckets.add("archive")
    authorizer = Authorizer(shared_simulator(), source, [archive])
    authorizer.sessions["handler-session"] = role
    s3.authorizer = authorizer
    client = _client(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, aws_session_token="handler-session"
    )
    # No bucket policy yet: the archive account does not allow the source's role.
    status, code = _refused(client.get_bucket_location, Bucket="archive", ExpectedBucketOwner=ARCHIVE)
    assert (status, code) == (403, "AccessDenied")
    assert authorizer.problems == [f"IAM: {role} s3:GetBucketLocation on {bucket_arn}: denied (ImplicitlyDenied)"]
    authorizer.problems.clear()
    archive.bucket_policies["archive"] = [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{SOURCE}:root"},
            "Action": "s3:GetBucketLocation",
            "Resource": bucket_arn,
        }
    ]
    assert client.get_bucket_location(Bucket="archive", ExpectedBucketOwner=ARCHIVE)["LocationConstraint"] == REGION
    assert authorizer.problems == []
    assert s3.problems == []

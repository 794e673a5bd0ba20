"""Every rule the API reference, botocore's model and the API reference's prose state, checked at synth:
just inside passes, just outside fails with a ValueError naming the construct path and the
prop; unresolved tokens pass."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from export_constructs import ExportDestination
from export_constructs.pinpoint import PinpointExportJob

APP = "0123456789abcdef0123456789abcdef"
SEGMENT = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
ROLE_HEAD = "arn:aws:iam::123456789012:role/"


@pytest.fixture(scope="module")
def scope() -> tuple[cdk.Stack, ExportDestination]:
    app = cdk.App()
    stack = cdk.Stack(app, "V", env=cdk.Environment(account="123456789012", region="us-east-1"))
    return stack, ExportDestination(stack, "Exports")


_counter = iter(range(10_000))


def make(scope: tuple[cdk.Stack, ExportDestination], **props: Any) -> PinpointExportJob:
    stack, dest = scope
    kwargs: dict[str, Any] = {"application_id": APP, "destination": dest, **props}
    return PinpointExportJob(stack, f"J{next(_counter)}", **kwargs)


def fails(scope: tuple[cdk.Stack, ExportDestination], prop: str, **props: Any) -> str:
    with pytest.raises(ValueError) as error:
        make(scope, **props)
    message = str(error.value)
    assert message.startswith(f"{scope[0].node.path}/J"), message  # the construct path
    assert f"- {prop}: " in message, message
    return message


def role(scope: tuple[cdk.Stack, ExportDestination], arn: str) -> iam.IRole:
    return iam.Role.from_role_arn(scope[0], f"R{next(_counter)}", arn, mutable=False)


CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    # prop, just inside, just outside
    ("application_id", {"application_id": APP.upper()}, {"application_id": APP[:-1] + "g"}),
    ("application_id", {"application_id": APP}, {"application_id": APP[:-1]}),
    ("application_id", {"application_id": APP}, {"application_id": APP + "0"}),
    ("application_id", {"application_id": APP}, {"application_id": ""}),
    ("application_id", {"application_id": APP}, {"application_id": "my-project"}),
    ("segment_id", {"segment_id": "s"}, {"segment_id": ""}),
    ("segment_version", {"segment_id": SEGMENT, "segment_version": 1}, {"segment_id": SEGMENT, "segment_version": 0}),
    ("segment_version", {"segment_id": SEGMENT, "segment_version": 7}, {"segment_version": 7}),
    ("segment_version", {"segment_id": SEGMENT, "segment_version": 2}, {"segment_id": SEGMENT, "segment_version": "2"}),
    (
        "segment_version",
        {"segment_id": SEGMENT, "segment_version": 1},
        {"segment_id": SEGMENT, "segment_version": True},
    ),
    ("timeout", {"timeout": cdk.Duration.hours(12)}, {"timeout": cdk.Duration.seconds(43_201)}),
    ("timeout", {"timeout": cdk.Duration.minutes(1)}, {"timeout": cdk.Duration.seconds(59)}),
    ("prefix", {"prefix": "a/" * 256}, {"prefix": "a/" * 256 + "b/"}),
    ("prefix", {"prefix": "pinpoint/endpoints/"}, {"prefix": "/pinpoint/endpoints/"}),
    ("prefix", {"prefix": "pinpoint/endpoints/"}, {"prefix": "pinpoint/endpoints"}),
    ("prefix", {"prefix": "e/"}, {"prefix": ""}),  # S3UrlPrefix is s3://bucket-name/folder-name/
]


@pytest.mark.parametrize(("prop", "inside", "outside"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule(
    scope: tuple[cdk.Stack, ExportDestination], prop: str, inside: dict[str, Any], outside: dict[str, Any]
) -> None:
    make(scope, **inside)
    fails(scope, prop, **outside)


@pytest.mark.parametrize(
    ("inside", "outside"),
    [
        (ROLE_HEAD + "path/to/name+=,.@-_", "arn:aws:iam::123456789012:user/name"),
        ("arn:aws-cn:iam::123456789012:role/r", "arn:aws:iam::1234567890:role/r"),
        (ROLE_HEAD + "r", ROLE_HEAD),
    ],
)
def test_role_must_be_an_iam_role_arn(scope: tuple[cdk.Stack, ExportDestination], inside: str, outside: str) -> None:
    make(scope, role=role(scope, inside))
    fails(scope, "role", role=role(scope, outside))


def test_the_s3_url_prefix_needs_a_bucket_name_s3_accepts(scope: tuple[cdk.Stack, ExportDestination]) -> None:
    stack, _ = scope
    good = ExportDestination(stack, "Good", bucket=s3.Bucket.from_bucket_name(stack, "GoodBucket", "my-exports.v2"))
    bad = ExportDestination(stack, "Bad", bucket=s3.Bucket.from_bucket_name(stack, "BadBucket", "My_Exports"))
    job = make(scope, destination=good, prefix="pinpoint/")
    assert stack.resolve(job.destination.s3_uri(job.prefix)) == "s3://my-exports.v2/pinpoint/"
    message = fails(scope, "destination", destination=bad, prefix="pinpoint/")
    assert "s3://My_Exports/pinpoint/" in message


def test_every_problem_is_reported_at_once(scope: tuple[cdk.Stack, ExportDestination]) -> None:
    message = fails(scope, "application_id", application_id="app!", segment_version=0, prefix="/x")
    assert "- segment_version: must be at least 1" in message
    assert "- segment_version: requires segment_id" in message
    assert "- prefix: must not start with '/'" in message and "- prefix: must end with '/'" in message


def test_unresolved_tokens_pass(scope: tuple[cdk.Stack, ExportDestination]) -> None:
    stack, _ = scope
    text = cdk.CfnParameter(stack, "P").value_as_string
    number = cdk.CfnParameter(stack, "N", type="Number").value_as_number
    given = iam.Role.from_role_arn(stack, "Given", text, mutable=False)
    job = make(scope, application_id=text, segment_id=text, segment_version=number, prefix=text, role=given)
    cfn = job.node.default_child
    assert isinstance(cfn, cdk.CfnResource)
    synthesized = Template.from_stack(stack).to_json()["Resources"][stack.get_logical_id(cfn)]["Properties"]
    assert synthesized["Request"]["ApplicationId"] == {"Ref": "P"}
    assert synthesized["Request"]["ExportJobRequest"]["SegmentVersion"] == {"Ref": "N"}
    # A segment version needs its segment even when the version is a token.
    fails(scope, "segment_version", segment_version=number)

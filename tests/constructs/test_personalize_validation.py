"""Every rule the API reference and the tag limits state, checked at synth: just inside passes, just
outside fails with a ValueError naming the construct path and the prop; tokens pass."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from export_constructs import ExportDestination, PersonalizeDatasetExportJob

ARN_HEAD = "arn:aws:personalize:us-east-1:123456789012:dataset/"


@pytest.fixture(scope="module")
def scope() -> tuple[cdk.Stack, ExportDestination]:
    app = cdk.App()
    stack = cdk.Stack(app, "V", env=cdk.Environment(account="123456789012", region="us-east-1"))
    return stack, ExportDestination(stack, "Exports")


_counter = iter(range(10_000))


def make(scope: tuple[cdk.Stack, ExportDestination], **props: Any) -> PersonalizeDatasetExportJob:
    stack, dest = scope
    kwargs: dict[str, Any] = {"dataset_arn": ARN_HEAD + "shop/USERS", "destination": dest, **props}
    return PersonalizeDatasetExportJob(stack, f"J{next(_counter)}", **kwargs)


def fails(scope: tuple[cdk.Stack, ExportDestination], prop: str, **props: Any) -> str:
    with pytest.raises(ValueError) as error:
        make(scope, **props)
    message = str(error.value)
    assert message.startswith("V/J"), message  # the construct path
    assert f"{prop}" in message, message
    return message


CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    # prop, just inside, just outside
    (
        "dataset_arn",
        {"dataset_arn": ARN_HEAD + "x" * (256 - len(ARN_HEAD))},
        {"dataset_arn": ARN_HEAD + "x" * (257 - len(ARN_HEAD))},
    ),
    (
        "dataset_arn",
        {"dataset_arn": "arn:aws:personalize:us-east-1:123456789012:dataset/x"},  # the stack's partition: aws
        {"dataset_arn": "arn:aws:s3:::bucket"},
    ),
    (
        "dataset_arn",
        {"dataset_arn": "arn:aws:personalize:us-east-1:123456789012:x"},
        {"dataset_arn": "arn:aws:personalize:us-east-1:123456789012:"},
    ),
    ("ingestion_mode", {"ingestion_mode": "BULK"}, {"ingestion_mode": "bulk"}),
    ("ingestion_mode", {"ingestion_mode": "ALL"}, {"ingestion_mode": "EVERYTHING"}),
    ("job_name", {"job_name": "a" * 63}, {"job_name": "a" * 64}),
    ("job_name", {"job_name": "a"}, {"job_name": ""}),
    ("job_name", {"job_name": "0users-export_1"}, {"job_name": "-users"}),
    ("job_name", {"job_name": "users_export-1"}, {"job_name": "users.export"}),
    ("tags", {"tags": {f"k{i}": "v" for i in range(50)}}, {"tags": {f"k{i}": "v" for i in range(51)}}),
    ("tags", {"tags": {"k" * 128: "v"}}, {"tags": {"k" * 129: "v"}}),
    ("tags", {"tags": {"k": "v" * 256}}, {"tags": {"k": "v" * 257}}),
    ("tags", {"tags": {"team name": "ml/ops @home+1=2:x-y_z."}}, {"tags": {"team": "ml#ops"}}),
    ("tags", {"tags": {"awsome": "aws:x"}}, {"tags": {"AwS:team": "ml"}}),
    ("tags", {"tags": {"k": ""}}, {"tags": {"": "v"}}),
    ("timeout", {"timeout": cdk.Duration.hours(12)}, {"timeout": cdk.Duration.seconds(43_201)}),
    ("timeout", {"timeout": cdk.Duration.minutes(1)}, {"timeout": cdk.Duration.seconds(59)}),
    ("timeout", {"timeout": cdk.Duration.minutes(56)}, {"timeout": cdk.Duration.hours(13)}),
    ("prefix", {"prefix": "a/" * 93}, {"prefix": "a/" * 94}),
    ("prefix", {"prefix": "exports/users/"}, {"prefix": "/exports/users/"}),
    ("prefix", {"prefix": ""}, {"prefix": "exports/users"}),
]


@pytest.mark.parametrize(("prop", "inside", "outside"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule(
    scope: tuple[cdk.Stack, ExportDestination], prop: str, inside: dict[str, Any], outside: dict[str, Any]
) -> None:
    make(scope, **inside)
    fails(scope, prop, **outside)


def test_role_arn_must_fit_the_api(scope: tuple[cdk.Stack, ExportDestination]) -> None:
    stack, _ = scope
    ok = iam.Role.from_role_arn(stack, "Ok", "arn:aws:iam::123456789012:role/path/name+=,.@-_")
    make(scope, role=ok)
    bad = iam.Role.from_role_arn(stack, "Bad", "arn:aws:iam::123456789012:role/" + "r" * 226)
    fails(scope, "role", role=bad)


def test_every_problem_is_reported_at_once(scope: tuple[cdk.Stack, ExportDestination]) -> None:
    message = fails(scope, "job_name", job_name="-", ingestion_mode="NOPE", tags={"aws:x": "y"})
    assert "ingestion_mode" in message and "tags" in message and "job_name" in message


def test_unresolved_tokens_pass(scope: tuple[cdk.Stack, ExportDestination]) -> None:
    stack, _ = scope
    param = cdk.CfnParameter(stack, "P").value_as_string
    make(scope, dataset_arn=param, job_name=param, ingestion_mode=param, prefix=param, tags={"k": param})

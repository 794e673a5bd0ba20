"""Bad input a fuzzer found, one test per finding: each ends in a template AWS accepts or in a
ValueError/TypeError naming the construct path and the prop (never a jsii RuntimeError, a
dangling reference or a template IAM or CloudFormation refuses)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from export_constructs import (
    CloudWatchLogsExportJob,
    ExportDestination,
    ForecastExportJob,
    PersonalizeDatasetExportJob,
    PinpointExportJob,
    RdsSnapshotExportJob,
    RoboMakerWorldExportJob,
)
from export_constructs.handler import consts
from export_constructs.services import SERVICES

ACCOUNT, REGION = "111122223333", "eu-west-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)
DATASET = f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset/shop/USERS"
FORECAST = f"arn:aws:forecast:{REGION}:{ACCOUNT}:forecast/demand"
WORLD = f"arn:aws:robomaker:{REGION}:{ACCOUNT}:world/sim-1/world-1"
SNAPSHOT = f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:shop-db-1"
APP_ID = "0123456789abcdef0123456789abcdef"

Job = Callable[..., Construct]
#: One job of each service, given a scope, an id, a destination and more props.
JOBS: dict[str, Job] = {
    "Personalize": lambda s, i, d, **p: PersonalizeDatasetExportJob(s, i, dataset_arn=DATASET, destination=d, **p),
    "Forecast": lambda s, i, d, **p: ForecastExportJob(s, i, forecast_arn=FORECAST, destination=d, **p),
    "Pinpoint": lambda s, i, d, **p: PinpointExportJob(s, i, application_id=APP_ID, destination=d, **p),
    "RoboMaker": lambda s, i, d, **p: RoboMakerWorldExportJob(s, i, worlds=[WORLD], destination=d, **p),
    "Rds": lambda s, i, d, **p: RdsSnapshotExportJob(s, i, source_arn=SNAPSHOT, destination=d, **p),
    "CloudWatchLogs": lambda s, i, d, **p: CloudWatchLogsExportJob(
        s, i, log_group="/aws/lambda/orders", destination=d, **{"window": cdk.Duration.hours(1), **p}
    ),
}


def new_stack(app: cdk.App | None = None, name: str = "St", env: cdk.Environment = ENV) -> cdk.Stack:
    return cdk.Stack(app or cdk.App(), name, env=env)


def refused(make: Callable[[], object], path: str, prop: str, *words: str) -> str:
    """``make()`` raises a ValueError naming ``path`` and ``prop``; returns the message."""
    with pytest.raises(ValueError) as raised:
        make()
    message = str(raised.value)
    assert message.startswith(f"{path}: invalid props:\n"), message
    assert f"  - {prop}: " in message, message
    for word in words:
        assert word in message, message
    return message


@pytest.mark.parametrize("service", JOBS)
@pytest.mark.parametrize("prefix", ["team-a)/", "team-a(/", "a}/", "x]/", "{a/"])
def test_2_an_unbalanced_bracket_in_a_prefix_is_refused_naming_prefix(service: str, prefix: str) -> None:
    stack = new_stack()
    refused(
        lambda: JOBS[service](stack, "J", ExportDestination(stack, "Dest"), prefix=prefix),
        "St/J",
        "prefix",
        "must balance its brackets",
    )


@pytest.mark.parametrize("service", JOBS)
def test_2_balanced_brackets_in_a_prefix_synthesize(service: str) -> None:
    app = cdk.App()
    stack = new_stack(app)
    JOBS[service](stack, "J", ExportDestination(stack, "Dest"), prefix="team-(a)/[b]/{c}/")
    app.synth()


@pytest.mark.parametrize("service", JOBS)
def test_3_a_destination_of_another_stack_is_refused_naming_destination(service: str) -> None:
    app = cdk.App()
    owner, other = new_stack(app, "A"), new_stack(app, "B")
    destination = ExportDestination(owner, "Dest")
    refused(lambda: JOBS[service](other, "J", destination), "B/J", "destination", "of this construct's stack B")


def test_4_a_destination_of_another_region_is_refused_naming_destination() -> None:
    app = cdk.App()
    here = new_stack(app, "A")
    there = new_stack(app, "B", cdk.Environment(account=ACCOUNT, region="us-east-1"))
    destination = ExportDestination(here, "Dest")
    refused(lambda: JOBS["Personalize"](there, "J", destination), "B/J", "destination")


@pytest.mark.parametrize("service", [s.name for s in SERVICES if s.assumes_role])
def test_4_a_role_of_another_stack_is_refused_naming_role(service: str) -> None:
    app = cdk.App()
    here, there = new_stack(app, "A"), new_stack(app, "B")
    role = iam.Role(there, "R", assumed_by=iam.ServicePrincipal("personalize.amazonaws.com"))
    refused(lambda: JOBS[service](here, "J", ExportDestination(here, "Dest"), role=role), "A/J", "role", "one of B")


def test_5_a_window_of_a_fraction_of_a_millisecond_is_refused_naming_window() -> None:
    stack = new_stack()
    refused(
        lambda: JOBS["CloudWatchLogs"](stack, "J", ExportDestination(stack, "Dest"), window=cdk.Duration.millis(1.5)),
        "St/J",
        "window",
        "whole number of milliseconds",
    )


def test_5_a_window_of_a_parameter_passes_as_a_token_the_handler_multiplies() -> None:
    app = cdk.App()
    stack = new_stack(app)
    days = cdk.CfnParameter(stack, "Days", type="Number", default=1)
    JOBS["CloudWatchLogs"](stack, "J", ExportDestination(stack, "Dest"), window=cdk.Duration.days(days.value_as_number))
    template = app.synth().get_stack_by_name("St").template
    (job,) = [r for r in template["Resources"].values() if r["Type"] == "Custom::ExportJob-CloudWatchLogs"]
    request = job["Properties"]["Request"]
    assert request[consts.LOGS_WINDOW_MEMBER] == {"Ref": "Days"}
    assert request[consts.LOGS_WINDOW_UNIT_MEMBER] == "86400000"


def test_5_a_timeout_of_a_parameter_is_refused_naming_timeout() -> None:
    stack = new_stack()
    minutes = cdk.CfnParameter(stack, "Minutes", type="Number")
    refused(
        lambda: JOBS["Personalize"](
            stack, "J", ExportDestination(stack, "Dest"), timeout=cdk.Duration.minutes(minutes.value_as_number)
        ),
        "St/J",
        "timeout",
        "known at synth time",
    )


@pytest.mark.parametrize(
    ("service", "prop", "value"),
    [
        ("Personalize", "dataset_arn", f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset/*"),
        ("Personalize", "dataset_arn", f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset/shop/USER?"),
        ("Forecast", "forecast_arn", f"arn:aws:forecast:{REGION}:{ACCOUNT}:forecast/*"),
        ("Rds", "source_arn", f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:*"),
        ("RoboMaker", "worlds", f"arn:aws:robomaker:{REGION}:{ACCOUNT}:world/*"),
    ],
)
def test_6_a_wildcard_source_is_refused_naming_the_prop(service: str, prop: str, value: str) -> None:
    stack = new_stack()
    given = {prop: [value] if prop == "worlds" else value}
    make = {
        "Personalize": PersonalizeDatasetExportJob,
        "Forecast": ForecastExportJob,
        "Rds": RdsSnapshotExportJob,
        "RoboMaker": RoboMakerWorldExportJob,
    }[service]
    shown = "worlds[0]" if prop == "worlds" else prop
    refused(
        lambda: make(stack, "J", destination=ExportDestination(stack, "Dest"), **given),
        "St/J",
        shown,
        "without '*' or '?'",
    )


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("dataset_arn", "arn:x"),
        ("dataset_arn", f"arn:bogus:personalize:{REGION}:{ACCOUNT}:dataset/shop/USERS"),
    ],
)
def test_6_a_malformed_source_arn_is_refused_naming_the_prop(prop: str, value: str) -> None:
    stack = new_stack()
    refused(
        lambda: PersonalizeDatasetExportJob(
            stack, "J", destination=ExportDestination(stack, "Dest"), dataset_arn=value
        ),
        "St/J",
        prop,
    )


def test_7_personalize_takes_at_most_50_tags() -> None:
    stack = new_stack()
    destination = ExportDestination(stack, "Dest")
    JOBS["Personalize"](stack, "Ok", destination, tags={f"k{i}": "v" for i in range(50)})
    refused(
        lambda: JOBS["Personalize"](stack, "J", destination, tags={f"k{i}": "v" for i in range(51)}),
        "St/J",
        "tags",
        "at most 50",
    )


@pytest.mark.parametrize("destination_id", ["目的地", "D" * 1200])
def test_8_a_destination_id_iam_would_refuse_in_a_description_is_made_acceptable(destination_id: str) -> None:
    app = cdk.App()
    stack = new_stack(app)
    JOBS["Personalize"](stack, "J", ExportDestination(stack, destination_id))
    template = app.synth().get_stack_by_name("St").template
    descriptions = [
        r["Properties"]["Description"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Role" and "Description" in r["Properties"]
    ]
    assert descriptions
    for description in descriptions:  # IAM's CreateRole: 0-1000 of [\t\n\r\x20-\x7e\xa1-\xff]
        assert len(description) <= 1000
        assert re.fullmatch(r"[\t\n\r\x20-\x7e\xa1-\xff]*", description), description


def test_9_a_robomaker_tag_key_of_a_token_is_refused_naming_tags() -> None:
    stack = new_stack()
    key = cdk.CfnParameter(stack, "Key").value_as_string
    refused(lambda: JOBS["RoboMaker"](stack, "J", ExportDestination(stack, "Dest"), tags={key: "v"}), "St/J", "tags")


@pytest.mark.parametrize("service", JOBS)
def test_10_a_prefix_with_an_empty_folder_is_refused_naming_prefix(service: str) -> None:
    stack = new_stack()
    refused(
        lambda: JOBS[service](stack, "J", ExportDestination(stack, "Dest"), prefix="exports//"),
        "St/J",
        "prefix",
        "'//'",
    )


@pytest.mark.parametrize("service", ["Rds", "CloudWatchLogs"])
def test_11_a_bucket_of_another_region_is_refused_for_services_that_write_in_their_own(service: str) -> None:
    stack = new_stack()
    bucket = s3.Bucket.from_bucket_attributes(stack, "B", bucket_name="my-exports", region="us-east-1")
    key = None
    if service == "Rds":  # RDS needs a key
        from aws_cdk import aws_kms as kms

        key = kms.Key.from_key_arn(
            stack, "K", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
        )
    destination = ExportDestination(stack, "Dest", bucket=bucket, encryption_key=key)
    refused(lambda: JOBS[service](stack, "J", destination), "St/J", "destination", "Region eu-west-1")


@pytest.mark.parametrize("service", JOBS)
def test_12_a_long_path_gets_a_default_prefix_that_fits(service: str) -> None:
    app = cdk.App()
    stack = new_stack(app)
    scope: Construct = stack
    for level in range(30):
        scope = Construct(scope, f"Level{level:02d}-" + "x" * 16)
    job = JOBS[service](scope, "J", ExportDestination(stack, "Dest"))
    app.synth()
    prefix = str(getattr(job, "prefix"))  # noqa: B009 - every job has one
    assert prefix.startswith(f"{service.lower()}/St/Level00-") and prefix.endswith("/J/")
    # Personalize's room is the tightest: s3:// + a 63-character bucket + / + prefix <= 256.
    assert len(prefix) <= (187 if service == "Personalize" else 512)
    assert len(prefix) > 150, "it keeps as much of the path as fits"


def test_12_a_snapshot_removal_policy_is_refused_naming_removal_policy() -> None:
    stack = new_stack()
    refused(
        lambda: ExportDestination(stack, "Dest", removal_policy=cdk.RemovalPolicy.SNAPSHOT),
        "St/Dest",
        "removal_policy",
    )


def test_the_findings_messages_are_one_per_prop() -> None:
    """A sanity check of the helper: a message lists each bad prop once, on its own line."""
    stack = new_stack()
    message = refused(
        lambda: JOBS["Personalize"](stack, "J", ExportDestination(stack, "Dest"), prefix="a)//"),
        "St/J",
        "prefix",
    )
    assert json.dumps(message).count("  - prefix: ") == 2  # the bracket and the empty folder

"""The form of the messages a user reads: a prop checked against a pattern is refused with the
rule in words and a valid example before the pattern (the example passes where it is given)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from export_constructs import (
    CloudWatchLogsExportJob,
    ExportDestination,
    ForecastExportJob,
    PersonalizeDatasetExportJob,
    PinpointExportJob,
    RdsSnapshotExportJob,
    RoboMakerWorldExportJob,
)
from export_constructs._text import WIDTH, plural, wrap

ENV = cdk.Environment(account="123456789012", region="us-east-1")
DATASET = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS"
FORECAST = "arn:aws:forecast:us-east-1:123456789012:forecast/shop_demand"
WORLD = "arn:aws:robomaker:us-east-1:123456789012:world/sim-1/world-1"
APP_ID = "0123456789abcdef0123456789abcdef"
SNAPSHOT = "arn:aws:rds:us-east-1:123456789012:snapshot:shop-db-2026-12-01"

#: ``<prop>: must be <rule> such as <example>, got <value> (the API's pattern: <regex>)``
FORM = re.compile(
    r"^  - (?P<prop>.+?): must be (?P<rule>.+?) such as (?P<example>'[^']*'|\S+), "
    r"got (?P<got>.+) \(the API's pattern: (?P<regex>.+)\)$"
)

Build = Callable[[cdk.Stack, dict[str, Any]], object]


def _destination(stack: cdk.Stack, bucket: str | None = None, key_arn: str | None = None) -> ExportDestination:
    if bucket is None:
        return ExportDestination(stack, "Exports")
    return ExportDestination(
        stack,
        "Exports",
        bucket=s3.Bucket.from_bucket_name(stack, "Bucket", bucket),
        encryption_key=kms.Key.from_key_arn(stack, "Key", key_arn) if key_arn else None,
    )


def personalize(stack: cdk.Stack, props: dict[str, Any]) -> object:
    return PersonalizeDatasetExportJob(
        stack, "Job", **{"dataset_arn": DATASET, "destination": _destination(stack), **props}
    )


def forecast(stack: cdk.Stack, props: dict[str, Any]) -> object:
    dest = _destination(stack, props.pop("bucket", None), props.pop("key_arn", None))
    return ForecastExportJob(stack, "Job", **{"forecast_arn": FORECAST, "destination": dest, **props})


def pinpoint(stack: cdk.Stack, props: dict[str, Any]) -> object:
    dest = _destination(stack, props.pop("bucket", None))
    return PinpointExportJob(stack, "Job", **{"application_id": APP_ID, "destination": dest, **props})


def robomaker(stack: cdk.Stack, props: dict[str, Any]) -> object:
    return RoboMakerWorldExportJob(stack, "Job", **{"worlds": [WORLD], "destination": _destination(stack), **props})


def rds(stack: cdk.Stack, props: dict[str, Any]) -> object:
    return RdsSnapshotExportJob(stack, "Job", **{"source_arn": SNAPSHOT, "destination": _destination(stack), **props})


def cloudwatch_logs(stack: cdk.Stack, props: dict[str, Any]) -> object:
    return CloudWatchLogsExportJob(
        stack,
        "Job",
        **{
            "log_group": "/aws/lambda/orders",
            "window": cdk.Duration.days(1),
            "destination": _destination(stack),
            **props,
        },
    )


KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

# (build, the prop as the message names it, the bad props, the props with the message's example in place)
CASES: list[tuple[Build, str, dict[str, Any], Callable[[str], dict[str, Any]]]] = [
    (personalize, "dataset_arn", {"dataset_arn": "shop/USERS"}, lambda x: {"dataset_arn": x}),
    (personalize, "job_name", {"job_name": "-users"}, lambda x: {"job_name": x}),
    (personalize, "tags['te am!'] key", {"tags": {"te am!": "ml"}}, lambda x: {"tags": {x: "ml"}}),
    (personalize, "tags['team'] value", {"tags": {"team": "m\tl"}}, lambda x: {"tags": {"team": x}}),
    (forecast, "forecast_arn", {"forecast_arn": "shop demand"}, lambda x: {"forecast_arn": x}),
    (forecast, "job_name", {"job_name": "1_demand"}, lambda x: {"job_name": x}),
    (forecast, "destination", {"bucket": "Exports"}, lambda x: {"bucket": x.split("/")[2]}),
    (
        forecast,
        "destination.encryption_key",
        {"bucket": "exports", "key_arn": KEY.replace("arn:aws:", "arn:aws-cn:")},
        lambda x: {"bucket": "exports", "key_arn": x},
    ),
    (pinpoint, "application_id", {"application_id": "my-project"}, lambda x: {"application_id": x}),
    (pinpoint, "destination", {"bucket": "Exports"}, lambda x: {"bucket": x.split("/")[2]}),
    (robomaker, "worlds[0]", {"worlds": ["world-1"]}, lambda x: {"worlds": [x]}),
    (robomaker, "tags['k'] value", {"tags": {"k": "é"}}, lambda x: {"tags": {"k": x}}),
    (rds, "source_arn", {"source_arn": "shop-db-2026-12-01"}, lambda x: {"source_arn": x}),
    (rds, "export_only[0]", {"export_only": ["shop..orders"]}, lambda x: {"export_only": [x]}),
    (cloudwatch_logs, "log_group", {"log_group": "orders logs"}, lambda x: {"log_group": x}),
    (
        cloudwatch_logs,
        "log_stream_name_prefix",
        {"log_stream_name_prefix": "a:b"},
        lambda x: {"log_stream_name_prefix": x},
    ),
]


def problems_of(build: Build, props: dict[str, Any]) -> list[str]:
    stack = cdk.Stack(cdk.App(), "M", env=ENV)
    try:
        build(stack, dict(props))
    except ValueError as error:
        return str(error).splitlines()[1:]
    return []


@pytest.mark.parametrize(("build", "prop", "bad", "fixed"), CASES, ids=[f"{c[0].__name__}-{c[1]}" for c in CASES])
def test_a_pattern_is_given_in_words_with_a_valid_example(
    build: Build, prop: str, bad: dict[str, Any], fixed: Callable[[str], dict[str, Any]]
) -> None:
    lines = [line for line in problems_of(build, bad) if line.startswith(f"  - {prop}: ")]
    assert lines, f"no problem for {prop}: {problems_of(build, bad)}"
    for line in lines:
        form = FORM.match(line)
        assert form is not None, f"not in the form `must be <rule> such as <example>, got ...`: {line}"
        assert re.search(r"[a-z]{3,}", form["rule"]), line  # words, not only the pattern again
        example = form["example"].strip("'")
        still = [x for x in problems_of(build, fixed(example)) if x.startswith(f"  - {prop}: ")]
        assert not still, f"the example {example!r} of {prop} is refused: {still}"


def test_the_personalize_message_reads_as_the_issue_asks() -> None:
    (line,) = [x for x in problems_of(personalize, {"dataset_arn": "shop/USERS"}) if "dataset_arn" in x]
    assert line == (
        f"  - dataset_arn: must be a Personalize dataset ARN such as {DATASET}, got 'shop/USERS' "
        r"(the API's pattern: arn:([a-z\d-]+):personalize:.*:.*:.+)"
    )


def _messages(stack: cdk.Stack) -> dict[str, str]:
    """The library's warnings and infos on ``stack``: id -> message (without the ``[ack: ...]`` tail)."""
    found: dict[str, str] = {}
    annotations = cdk.assertions.Annotations.from_stack(stack)
    for entry in [
        *annotations.find_warning("*", cdk.assertions.Match.any_value()),
        *annotations.find_info("*", cdk.assertions.Match.any_value()),
    ]:
        text = str(entry.entry.data)
        message, _, ack = text.rpartition(" [ack: ")
        if ack.startswith("export-constructs:"):
            found[ack.removesuffix("]")] = message
    return found


def test_lifecycle_and_prefix_warnings_are_wrapped_into_readable_lines() -> None:
    stack = cdk.Stack(cdk.App(), "M", env=ENV)
    dest = ExportDestination(stack, "Exports")
    ForecastExportJob(stack, "Demand", forecast_arn=FORECAST, destination=dest, prefix="common/")
    PinpointExportJob(stack, "Endpoints", application_id=APP_ID, destination=dest, prefix="common/")
    RoboMakerWorldExportJob(stack, "Worlds", worlds=[WORLD], destination=dest)
    messages = _messages(stack)
    assert {
        "export-constructs:forecast-closed-to-new-customers",
        "export-constructs:pinpoint-end-of-support",
        "export-constructs:robomaker-end-of-support",
        "export-constructs:shared-prefix",
    } <= set(messages), sorted(messages)
    for slug, message in messages.items():
        lines = message.splitlines()
        assert len(lines) > 1, f"{slug} is one line of {len(message)} characters"
        too_long = [x for x in lines if len(x) > WIDTH and len(x.split()) > 1]  # a URL alone may be longer
        assert not too_long, f"{slug}: {too_long}"


def test_wrap_keeps_every_word_and_url_whole() -> None:
    text = "word " * 30 + "https://docs.aws.amazon.com/" + "x" * 100 + " end-of-support"
    wrapped = wrap(text, 40)
    assert wrapped.split() == text.split()
    assert all(len(line) <= 40 or " " not in line for line in wrapped.splitlines())


@pytest.mark.parametrize(("count", "expected"), [(0, "0 export jobs"), (1, "1 export job"), (2, "2 export jobs")])
def test_counts_use_singular_and_plural(count: int, expected: str) -> None:
    assert plural(count, "export job") == expected

"""Bad input for CloudWatchLogsExportJob: every documented constraint is a ValueError at synth
that names the construct's path, the prop and the rule; tokens pass. Oracles: botocore's model of
``logs`` (CreateExportTask: logGroupName 1-512 ``[\\.\\-_/#A-Za-z0-9]+``, logStreamNamePrefix
1-512 ``[^:*]*``, taskName 1-512, from/to >= 0) and the construct's own documented rules (aware
datetimes, start before end, a window of 1 ms to 50 years, either a window or start/end)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from constructs import Construct

from export_constructs import CloudWatchLogsExportJob

from .test_bad_input import Scope, check_token_passes, job_builder, module_scope, properties_of, token

scope = module_scope("BadInputCloudWatchLogs")

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 2, tzinfo=UTC)
VALID: dict[str, Any] = {"log_group": "/aws/lambda/orders", "window": cdk.Duration.days(1)}


def job(scope: Scope, **props: Any) -> Callable[[str], Construct]:
    """A builder for ``accepted``: the job with valid props but ``props``."""
    return job_builder(CloudWatchLogsExportJob, scope, {**VALID, **props})


def accepted(scope: Scope, build: Callable[[str], object], props: list[str]) -> bool:
    """True when ``build(id)`` passes; False when it raises a ValueError that starts with its path
    and names one of ``props`` in every problem (test_bad_input's ``accepted``, outside
    hypothesis). Any other exception propagates."""
    cid = scope.new_id()
    try:
        build(cid)
    except ValueError as error:
        head, *problems = str(error).split("\n  - ")
        assert head == f"{scope.stack.node.path}/{cid}: invalid props:", error
        assert problems and all(any(p.startswith(f"{n}: ") for n in props) for p in problems), error
        return False
    return True


def refused(scope: Scope, props: dict[str, Any], prop: str, rule: str) -> str:
    """Build with ``props``: a ValueError whose message starts with the construct's path and whose
    one problem names ``prop`` and matches ``rule``."""
    cid = scope.new_id()
    with pytest.raises(ValueError) as raised:
        job(scope, **props)(cid)
    message = str(raised.value)
    head, *problems = message.split("\n  - ")
    assert head == f"{scope.stack.node.path}/{cid}: invalid props:", message
    assert len(problems) == 1 and problems[0].startswith(f"{prop}: "), message
    assert re.search(rule, problems[0]), message
    return message


# -- log_group: botocore's model, 1-512 of [\.\-_/#A-Za-z0-9]+ -----------------------------------


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("/aws/lambda/orders", True),
        ("a", True),
        ("app.logs_#1-x/y", True),
        ("x" * 512, True),
        ("x" * 513, False),
        ("", False),
        ("has space", False),
        ("colon:not", False),
        ("star*", False),
        ("ünïcode", False),
    ],
)
def test_log_group_names_follow_the_models_rules(scope: Scope, name: str, ok: bool) -> None:
    assert accepted(scope, job(scope, log_group=name), ["log_group"]) is ok


def test_a_bad_log_group_name_says_the_rule_and_gives_an_example(scope: Scope) -> None:
    refused(
        scope,
        {"log_group": "my group"},
        "log_group",
        r"letters, digits and \. - _ / # such as '/aws/lambda/my-function'",
    )


def test_a_log_group_construct_and_a_token_name_pass(scope: Scope) -> None:
    group = logs.LogGroup(scope.stack, scope.new_id("G"))
    made = job(scope, log_group=group)(scope.new_id())
    assert "Ref" in str(properties_of(made)["Request"]["logGroupName"])
    check_token_passes(scope, job, "log_group", "ref")
    check_token_passes(scope, job, "log_group", "lazy")


# -- log_stream_name_prefix: 1-512 of [^:*]* ------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "ok"),
    [
        ("2026/11/01/", True),
        ("i-0abc", True),
        ("x" * 512, True),
        ("x" * 513, False),
        ("", False),
        ("a:b", False),
        ("a*", False),
    ],
)
def test_log_stream_name_prefixes_follow_the_models_rules(scope: Scope, prefix: str, ok: bool) -> None:
    assert accepted(scope, job(scope, log_stream_name_prefix=prefix), ["log_stream_name_prefix"]) is ok


def test_a_token_stream_prefix_passes(scope: Scope) -> None:
    check_token_passes(scope, job, "log_stream_name_prefix", "ref")


# -- job_name: taskName 1-512, unique in the stack ---------------------------------------------------


@pytest.mark.parametrize(("name", "ok"), [("t", True), ("x" * 512, True), ("x" * 513, False), ("", False)])
def test_job_names_are_1_to_512_characters(scope: Scope, name: str, ok: bool) -> None:
    assert accepted(scope, job(scope, job_name=name), ["job_name"]) is ok


def test_a_job_name_is_unique_among_the_stacks_logs_jobs(scope: Scope) -> None:
    job(scope, job_name="nightly-orders")(scope.new_id())
    refused(scope, {"job_name": "nightly-orders"}, "job_name", "must be unique among this stack's CloudWatchLogs")


# -- the time range ------------------------------------------------------------------------------


def test_naive_datetimes_are_refused(scope: Scope) -> None:
    build = job(scope, window=None, start=START.replace(tzinfo=None), end=END.replace(tzinfo=None))
    with pytest.raises(ValueError) as raised:
        build(scope.new_id())
    message = str(raised.value)
    assert "- start: must be timezone-aware, got the naive datetime 2026-11-01T00:00:00" in message
    assert "- end: must be timezone-aware" in message


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(hours=-1)])
def test_start_must_come_before_end(scope: Scope, delta: timedelta) -> None:
    refused(scope, {"window": None, "start": START, "end": START + delta}, "end", "must be after start")


def test_aware_datetimes_of_any_zone_pass_and_become_epoch_milliseconds(scope: Scope) -> None:
    tokyo = timezone(timedelta(hours=9))
    made = job(scope, window=None, start=START.astimezone(tokyo), end=END)(scope.new_id())
    request = properties_of(made)["Request"]
    assert (request["from"], request["to"]) == (1_793_491_200_000, 1_793_577_600_000)


def test_a_range_before_1970_is_refused(scope: Scope) -> None:
    refused(scope, {"window": None, "start": datetime(1969, 12, 31, tzinfo=UTC), "end": END}, "start", "before 1970")


@pytest.mark.parametrize(("given", "missing"), [({"start": START}, "end"), ({"end": END}, "start")])
def test_start_and_end_come_together(scope: Scope, given: dict[str, Any], missing: str) -> None:
    refused(scope, {"window": None, **given}, missing, "must be given with")


def test_window_and_start_end_together_are_refused(scope: Scope) -> None:
    refused(scope, {"start": START, "end": END}, "window", "either window or start and end, not both")


def test_neither_window_nor_start_end_is_a_clear_error(scope: Scope) -> None:
    refused(scope, {"window": None}, "start", "give start and end .* or window")


@pytest.mark.parametrize(
    ("window", "ok"),
    [
        (cdk.Duration.millis(1), True),
        (cdk.Duration.days(50 * 365), True),
        (cdk.Duration.days(50 * 365 + 1), False),
        (cdk.Duration.millis(0), False),
    ],
)
def test_window_bounds(scope: Scope, window: cdk.Duration, ok: bool) -> None:
    assert accepted(scope, job(scope, window=window), ["window"]) is ok


def test_a_token_window_passes_and_the_handler_checks_it(scope: Scope) -> None:
    """A window of a parameter goes to the handler as the parameter and its unit (CloudFormation
    cannot multiply): ``tests/handler`` shows the handler's check."""
    lazy = cdk.Duration.millis(cdk.Token.as_number(cdk.Fn.ref("WindowMillis")))
    assert accepted(scope, job(scope, window=lazy), ["window"])


# -- prefix ----------------------------------------------------------------------------------------


def test_an_empty_prefix_is_refused_as_logs_writes_under_exportedlogs(scope: Scope) -> None:
    refused(scope, {"prefix": ""}, "prefix", "exportedlogs")


def test_a_prefix_without_a_trailing_slash_is_refused(scope: Scope) -> None:
    refused(scope, {"prefix": "logs"}, "prefix", "must end with '/'")


# -- all at once -----------------------------------------------------------------------------------


def test_every_problem_is_reported_at_once(scope: Scope) -> None:
    cid = scope.new_id()
    with pytest.raises(ValueError) as raised:
        job(
            scope,
            log_group="bad group",
            log_stream_name_prefix="a:b",
            job_name="",
            start=START,
            end=END,
            prefix="no-slash",
        )(cid)
    message = str(raised.value)
    assert message.startswith(f"{scope.stack.node.path}/{cid}: invalid props:")
    for prop in ("log_group", "log_stream_name_prefix", "job_name", "window", "prefix"):
        assert f"\n  - {prop}: " in message, (prop, message)


def test_a_token_reaches_the_request_unchanged(scope: Scope) -> None:
    made = job(scope, log_group=token("ref", "GroupName"))(scope.new_id())
    assert properties_of(made)["Request"]["logGroupName"] == {"Ref": "GroupName"}


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders:*",
        "arn:aws:logs:us-east-1:210987654321:log-group:/aws/lambda/orders:*",
    ],
)
def test_an_imported_log_group_of_another_region_or_account_is_refused(scope: Scope, arn: str) -> None:
    group = logs.LogGroup.from_log_group_arn(scope.stack, scope.new_id("G"), arn)
    refused(scope, {"log_group": group}, "log_group", "must be a log group of this stack's (account|Region)")


def test_an_imported_log_group_of_the_stacks_account_and_region_passes(scope: Scope) -> None:
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/orders:*"
    group = logs.LogGroup.from_log_group_arn(scope.stack, scope.new_id("G"), arn)
    assert accepted(scope, job(scope, log_group=group), ["log_group"])

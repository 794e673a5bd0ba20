"""CloudWatchLogsExport on the template: the schedule and its input, the ledger, the runner's least
privilege, the bucket policy Logs needs, the nag packs, and the synth-time checks and warnings."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from export_constructs import CloudWatchLogsExport, ExportDestination, ExportSchedule
from export_constructs.handler.windows import Period, Zone

from .conftest import nag_findings, refused_by, resolved, resources_of

ENV = cdk.Environment(account="111122223333", region="eu-west-1")
GROUP_ARN = "arn:${AWS::Partition}:logs:eu-west-1:111122223333:log-group:"
Built = tuple[cdk.App, cdk.Stack, Mapping[str, Any], CloudWatchLogsExport]


def build(**props: Any) -> Built:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    destination = ExportDestination(stack, "Dest")
    orders = logs.LogGroup(stack, "Orders", log_group_name="/aws/lambda/orders", encryption_key=None)
    defaults: dict[str, Any] = {
        "log_groups": [orders, "/aws/lambda/payments"],
        "destination": destination,
        "schedule": ExportSchedule.daily(hour=1, time_zone=cdk.TimeZone.EUROPE_BERLIN),
        "start": datetime(2026, 11, 1, tzinfo=UTC),
    }
    export = CloudWatchLogsExport(stack, "Archive", **{**defaults, **props})
    return app, stack, Template.from_stack(stack).to_json(), export


@pytest.fixture(scope="module")
def built() -> Built:
    return build(alarm_topic=None)


def schedule_of(template: Mapping[str, Any]) -> dict[str, Any]:
    (schedule,) = resources_of(template, "AWS::Scheduler::Schedule").values()
    return dict(schedule["Properties"])


def statements_of(template: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [
        statement
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Policy" and logical_id.startswith(prefix)
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_schedule_fires_at_the_local_hour_and_hands_the_run_its_export(built: Built) -> None:
    _, _, template, export = built
    props = schedule_of(template)
    assert props["ScheduleExpression"] == "cron(0 1 * * ? *)"
    assert props["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert props["State"] == "ENABLED"
    run_input = json.loads(resolved(template, props["Target"]["Input"]))
    assert run_input["Time"] == "<aws.scheduler.scheduled-time>"
    description = run_input["Export"]
    assert description["Id"] == "S/Archive" == export.export_id
    assert description["Sources"] == ["/aws/lambda/orders", "/aws/lambda/payments"]
    assert description["Prefix"] == "logs/{source}/{yyyy}/{MM}/{dd}/"
    assert description["Period"] == "day"
    assert description["SettleMs"] == 12 * 3600 * 1000
    assert description["StartMs"] == int(datetime(2026, 11, 1, tzinfo=UTC).timestamp() * 1000)
    assert description["Request"]["destination"].startswith("s")  # the bucket's resolved name
    # The zone the windows follow: Berlin's midnights, 23 hours on the day summer time begins.
    period = Period("day", Zone.from_json(description["Zone"]))
    spring = int(datetime(2026, 3, 28, 23, tzinfo=UTC).timestamp() * 1000)  # 00:00 CET, 29 March
    assert period.floor(spring) == spring
    assert period.following(spring) - spring == 23 * 3600 * 1000


def test_the_zone_table_does_not_depend_on_the_day_of_synthesis(built: Built) -> None:
    """The same app gives the same template whatever the date: the table's years are fixed."""
    _, _, template, _ = built
    first = json.loads(resolved(template, schedule_of(template)["Target"]["Input"]))["Export"]["Zone"]
    assert first[0][0] == int(datetime(2000, 1, 1, tzinfo=UTC).timestamp() * 1000)


def test_the_ledger_is_encrypted_recoverable_and_kept(built: Built) -> None:
    _, _, template, _ = built
    (table,) = resources_of(template, "AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert table["DeletionPolicy"] == "Retain"
    assert props["DeletionProtectionEnabled"] is True
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEType"] == "KMS"
    assert props["SSESpecification"]["KMSMasterKeyId"]["Fn::GetAtt"][0].startswith("ExportJobProviderKey")
    assert props["KeySchema"] == [{"AttributeName": "Source", "KeyType": "HASH"}]


def test_the_run_role_may_do_what_a_window_needs_and_no_more(built: Built) -> None:
    _, _, template, _ = built
    statements = statements_of(template, "ExportJobProviderRunnerRole")
    by_action: dict[str, list[Any]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            by_action.setdefault(action, []).extend(resolved(template, r) for r in resources)
    groups = [f"{GROUP_ARN}/aws/lambda/{g}" for g in ("orders", "payments")]
    expected_groups = sorted(g.replace("${AWS::Partition}", "aws") + tail for g in groups for tail in ("", ":*"))
    assert sorted(by_action.pop("logs:CreateExportTask")) == expected_groups
    assert by_action.pop("logs:DescribeExportTasks") == ["*"]
    assert by_action.pop("logs:CancelExportTask") == ["*"]
    (objects,) = by_action.pop("s3:PutObject")
    assert objects.endswith("/logs/*"), objects  # the prefix's fixed folder, nothing above it
    (table,) = set(by_action.pop("dynamodb:GetItem"))
    assert by_action.pop("dynamodb:UpdateItem") == [table]
    assert by_action.pop("dynamodb:DeleteItem") == [table]  # a released run lock
    assert ":table/" in table
    assert by_action.pop("events:PutEvents") == ["arn:aws:events:eu-west-1:111122223333:event-bus/default"]
    for action in ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"):
        assert len(by_action.pop(action)) == 1
    # What remains is the log group of the provider (CDK's grant_write) and X-Ray's tracing.
    assert set(by_action) <= {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }, by_action


def test_the_bucket_lets_logs_write_under_the_prefix_for_this_account_only(built: Built) -> None:
    _, _, template, _ = built
    (policy,) = [p for k, p in resources_of(template, "AWS::S3::BucketPolicy").items() if k.startswith("DestPolicy")]
    logs_statements = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "Service" in s.get("Principal", {})
    ]
    assert logs_statements, "no statement for the Logs principal"
    for statement in logs_statements:
        assert resolved(template, statement["Principal"]["Service"]) == "logs.eu-west-1.amazonaws.com"
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == "111122223333"
        arn_like = resolved(template, statement["Condition"]["ArnLike"]["aws:SourceArn"])
        assert arn_like == "arn:aws:logs:eu-west-1:111122223333:log-group:*"
    puts = [s for s in logs_statements if "s3:PutObject" in s["Action"]]
    objects = [
        resolved(template, r)
        for s in puts
        for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    ]
    assert [o.split(":::", 1)[1].split("/", 1)[1] for o in objects] == ["logs/*"], objects


def test_one_scheduler_role_trusted_for_this_account_starts_the_runs(built: Built) -> None:
    _, _, template, _ = built
    roles = {k: r for k, r in resources_of(template, "AWS::IAM::Role").items() if "Scheduler" in k}
    assert list(roles) == [k for k in roles if k.startswith("ExportJobProviderRunnerSchedulerRole")]
    (role,) = roles.values()
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    condition = resolved(template, trust["Condition"])
    assert condition == {
        "StringEquals": {"aws:SourceAccount": "111122223333"},
        "ArnLike": {"aws:SourceArn": "arn:aws:scheduler:eu-west-1:111122223333:schedule-group/default"},
    }
    starts = statements_of(template, "ExportJobProviderRunnerSchedulerRole")
    assert [s["Action"] for s in starts] == ["states:StartExecution"]
    assert starts[0]["Resource"]["Ref"].startswith("ExportJobProviderRunnerStateMachine")


def test_the_five_nag_packs_find_nothing_the_library_made(built: Built) -> None:
    app, stack, _, _ = built
    findings = nag_findings(app, stack)
    # The test's own unencrypted log group is the user's resource, not the library's.
    leftover = {pack: [row for row in rows if "@ S/Orders/" not in row] for pack, rows in findings.items()}
    assert all(not rows for rows in leftover.values()), leftover


def test_an_alarm_on_failed_windows_notifies_the_topic() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    topic = sns.Topic(stack, "Topic", master_key=None)
    export = CloudWatchLogsExport(
        stack, "Archive", log_groups=["/aws/lambda/a"], destination=ExportDestination(stack, "Dest"), alarm_topic=topic
    )
    template = Template.from_stack(stack).to_json()
    (alarm,) = resources_of(template, "AWS::CloudWatch::Alarm").values()
    props = alarm["Properties"]
    assert props["MetricName"] == "FailedWindows" and props["Namespace"] == "ExportConstructs"
    assert props["Dimensions"] == [{"Name": "Export", "Value": "S/Archive"}]
    assert props["Threshold"] == 1 and props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    cfn_topic = topic.node.default_child
    assert isinstance(cfn_topic, cdk.CfnElement)
    assert props["AlarmActions"] == [{"Ref": stack.get_logical_id(cfn_topic)}]
    assert export.metric_windows_behind().metric_name == "WindowsBehind"
    assert export.metric_windows_behind().statistic == "Maximum"
    assert export.metric_exported_windows().metric_name == "ExportedWindows"


def test_a_log_group_without_a_name_is_resolved_by_cloudformation() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    group = logs.LogGroup(stack, "Unnamed")
    CloudWatchLogsExport(stack, "Archive", log_groups=[group], destination=ExportDestination(stack, "Dest"))
    template = Template.from_stack(stack).to_json()
    run_input = json.loads(resolved(template, schedule_of(template)["Target"]["Input"]))
    cfn_group = group.node.default_child
    assert isinstance(cfn_group, cdk.CfnElement)
    assert run_input["Export"]["Sources"] == [resolved(template, {"Ref": stack.get_logical_id(cfn_group)})]


# -- what is refused, and what is warned of --------------------------------------------------


def refused(props: Mapping[str, Any], prop: str, *words: str) -> None:
    refused_by(build, props, prop, *words)


@pytest.mark.parametrize(
    ("props", "prop", "words"),
    [
        ({"schedule": ExportSchedule.daily(hour=24)}, "schedule", ("hour must be 0-23",)),
        ({"schedule": ExportSchedule.hourly(minute=60)}, "schedule", ("minute must be 0-59",)),
        ({"schedule": ExportSchedule.weekly(week_day="MONDAY")}, "schedule", ("MON ... SUN",)),
        ({"schedule": ExportSchedule.daily(time_zone=cdk.TimeZone.of("Mars/Olympus"))}, "schedule", ("Mars",)),
        ({"prefix": "logs/{group}/"}, "prefix", ("unknown placeholder {group}",)),
        ({"prefix": "{log_group}/{yyyy}/"}, "prefix", ("fixed folder",)),
        ({"prefix": "logs/{log_group}"}, "prefix", ("end with '/'",)),
        ({"prefix": "logs/{log_group/"}, "prefix", ("outside a placeholder",)),
        ({"settle": cdk.Duration.days(400)}, "settle", ()),
        ({"task_timeout": cdk.Duration.hours(24)}, "task_timeout", ()),
        ({"poll_interval": cdk.Duration.seconds(1)}, "poll_interval", ()),
        ({"max_windows_per_run": 0}, "max_windows_per_run", ("1 to 500",)),
        ({"start": datetime(2026, 11, 1)}, "start", ("timezone-aware",)),
        ({"start": datetime(1999, 1, 1, tzinfo=UTC)}, "start", ("2000",)),
        ({"log_groups": []}, "log_groups", ("at least one",)),
        ({"log_groups": ["/a", "/a"]}, "log_groups[1]", ("twice",)),
        ({"log_groups": ["bad name!"]}, "log_groups[0]", ()),
        ({"log_groups": [f"/g{i}" for i in range(101)]}, "log_groups", ("at most 100",)),
    ],
)
def test_bad_props_are_refused_naming_the_prop(props: Mapping[str, Any], prop: str, words: tuple[str, ...]) -> None:
    refused(props, prop, *words)


def test_the_prefix_must_fit_logs_destination_prefix_for_the_group_whose_name_renders_longest() -> None:
    # "/abcde" is the longer name, but "abcdef" the longer {log_group} (the leading "/" is dropped):
    # the rendered prefix (without its final "/") is 513 characters for it, one over destinationPrefix's
    # 512 (botocore's model), whatever the order of the groups.
    prefix = "a" * 506 + "/{log_group}/"
    for groups in (["/abcde", "abcdef"], ["abcdef", "/abcde"]):
        refused({"log_groups": groups, "prefix": prefix}, "prefix", "513 characters", "'abcdef'", "512")
    build(log_groups=["/abcde", "abcde"], prefix=prefix)  # 512: accepted


def test_a_destination_of_another_region_is_refused() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    from aws_cdk import aws_s3 as s3

    bucket = s3.Bucket.from_bucket_attributes(stack, "B", bucket_name="archive-b", region="us-east-1")
    with pytest.raises(ValueError, match=r"destination: must be a bucket of this stack's Region eu-west-1"):
        CloudWatchLogsExport(
            stack, "Archive", log_groups=["/a"], destination=ExportDestination(stack, "Dest", bucket=bucket)
        )


def messages(make: Callable[[], Built]) -> list[str]:
    app, stack, _, _ = make()
    return [str(m.entry.data) for m in app.synth().get_stack_by_name(stack.stack_name).messages]


def test_an_hourly_schedule_points_to_subscriptions() -> None:
    found = messages(lambda: build(schedule=ExportSchedule.hourly()))
    assert any("recurring-hourly" in m and "subscriptions" in m for m in found), found


def test_a_short_settle_is_warned_of_with_the_documented_delay() -> None:
    found = messages(lambda: build(settle=cdk.Duration.hours(1)))
    assert any("recurring-settle" in m and "12 hours" in m for m in found), found
    assert not any("recurring-settle" in m for m in messages(lambda: build()))


def test_a_period_too_short_for_its_groups_tasks_is_warned_of() -> None:
    groups = [f"/aws/lambda/g{i}" for i in range(30)]
    found = messages(lambda: build(log_groups=groups, expected_task_duration=cdk.Duration.hours(1)))
    assert any("recurring-period-too-short" in m and "30 log groups" in m for m in found), found
    assert not any("recurring-period-too-short" in m for m in messages(lambda: build(log_groups=groups)))


def test_a_schedule_of_no_period_or_a_text_hour_is_refused_plainly() -> None:
    with pytest.raises(ValueError, match=r"unit must be 'hour', 'day' or 'week', got 'daily'"):
        ExportSchedule("daily")
    refused({"schedule": ExportSchedule.daily(hour="1")}, "schedule", "the hour must be an int, got '1'")  # type: ignore[arg-type]

"""CloudWatchLogsExportJob on the template: the bucket and key policies Logs documents, no role,
the handler's least privilege, the request in the API's shape, attributes, nag packs."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from export_constructs import CloudWatchLogsExportJob, ExportDestination
from export_constructs.handler.adapters.cloudwatchlogs import API_MEMBERS, WINDOW_MEMBER
from export_constructs.testing.fakes.wire import service_model, validate

from ..handler.events import load
from .conftest import handler_statements, nag_findings, object_path, resources_of
from .flags import recommended_flags
from .test_forecast import same_shape

ENV = cdk.Environment(account="123456789012", region="us-east-1")
PARTITION = {"Ref": "AWS::Partition"}
SOURCE_ARN = {"Fn::Join": ["", ["arn:", PARTITION, ":logs:us-east-1:123456789012:log-group:*"]]}
CONFUSED_DEPUTY = {"StringEquals": {"aws:SourceAccount": "123456789012"}, "ArnLike": {"aws:SourceArn": SOURCE_ARN}}
#: The Region's Logs principal with the partition's DNS suffix (``logs.us-east-1.amazonaws.com``).
PRINCIPAL = {"Service": {"Fn::Join": ["", ["logs.us-east-1.", {"Ref": "AWS::URLSuffix"}]]}}
#: As the warnings print it for a stack of a known Region: nothing left to resolve.
PASTED_PRINCIPAL = {"Service": "logs.us-east-1.amazonaws.com"}
START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 2, tzinfo=UTC)

Built = tuple[cdk.App, cdk.Stack, Mapping[str, Any], dict[str, CloudWatchLogsExportJob]]


def build(app: cdk.App | None = None) -> Built:
    app = app or cdk.App()
    stack = cdk.Stack(app, "Test", env=ENV)
    dest = ExportDestination(stack, "Exports")
    key = kms.Key(stack, "LogsKey", enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.DESTROY)
    group = logs.LogGroup(stack, "Orders", encryption_key=key, removal_policy=cdk.RemovalPolicy.DESTROY)
    jobs = {
        "Daily": CloudWatchLogsExportJob(
            stack, "Daily", log_group=group, destination=dest, window=cdk.Duration.days(1)
        ),
        "Fixed": CloudWatchLogsExportJob(
            stack,
            "Fixed",
            log_group="/aws/lambda/orders",
            destination=dest,
            prefix="logs/fixed/",
            start=START,
            end=END,
            log_stream_name_prefix="2026/11/01/",
        ),
    }
    return app, stack, Template.from_stack(stack).to_json(), jobs


@pytest.fixture(scope="module")
def built() -> Built:
    return build()


def bucket_statements(template: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        s
        for p in resources_of(template, "AWS::S3::BucketPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == PRINCIPAL
    ]


def jobs_of(template: Mapping[str, Any]) -> dict[str, Any]:
    return resources_of(template, "Custom::ExportJob-CloudWatchLogs")


# -- the service writes as itself: bucket policy and key policy ----------------------------------


def test_bucket_policy_is_the_statements_logs_documents_with_confused_deputy_conditions(built: Built) -> None:
    by_action = {s["Action"]: s for s in bucket_statements(built[2])}
    assert set(by_action) == {"s3:GetBucketAcl", "s3:PutObject"}
    acl = by_action["s3:GetBucketAcl"]
    assert acl["Effect"] == "Allow"
    assert acl["Condition"] == CONFUSED_DEPUTY
    (bucket_id,) = [k for k in resources_of(built[2], "AWS::S3::Bucket") if not k.startswith("ExportsAccessLogs")]
    assert acl["Resource"] == {"Fn::GetAtt": [bucket_id, "Arn"]}
    put = by_action["s3:PutObject"]
    assert put["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012", "s3:x-amz-acl": "bucket-owner-full-control"},
        "ArnLike": {"aws:SourceArn": SOURCE_ARN},
    }
    # Only under the two jobs' prefixes, never the whole bucket.
    assert sorted(object_path(r) for r in put["Resource"]) == ["/cloudwatchlogs/Test/Daily/*", "/logs/fixed/*"]


def test_key_policy_lets_logs_use_the_key_as_logs_documents(built: Built) -> None:
    (key,) = [
        k
        for k in resources_of(built[2], "AWS::KMS::Key").values()
        if "export-job output" in k["Properties"].get("Description", "")
    ]
    statements = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Principal") == PRINCIPAL]
    assert statements == [
        {
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Condition": CONFUSED_DEPUTY,
            "Effect": "Allow",
            "Principal": PRINCIPAL,
            "Resource": "*",
        }
    ]


def test_no_role_is_created_or_passed(built: Built) -> None:
    _, _, template, jobs = built
    roles = resources_of(template, "AWS::IAM::Role")
    assert not [r for r in roles.values() if "logs." in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])]
    assert not [s for s in handler_statements(template) if s["Action"] == "iam:PassRole"]
    with pytest.raises(AttributeError):
        _ = jobs["Daily"].role


def test_each_job_waits_for_the_bucket_policy(built: Built) -> None:
    (policy_id,) = [k for k in resources_of(built[2], "AWS::S3::BucketPolicy") if k.startswith("ExportsPolicy")]
    for job in jobs_of(built[2]).values():
        assert policy_id in job["DependsOn"]


# -- the handler ---------------------------------------------------------------------------------


def test_handler_may_create_tasks_only_of_the_stacks_log_groups(built: Built) -> None:
    template = built[2]
    (create,) = [s for s in handler_statements(template) if s["Action"] == "logs:CreateExportTask"]
    (group_id,) = resources_of(template, "AWS::Logs::LogGroup").keys() - {
        k for k in resources_of(template, "AWS::Logs::LogGroup") if k.startswith("ExportJobProvider")
    }
    head = ["arn:", PARTITION, ":logs:us-east-1:123456789012:log-group:"]
    assert create["Resource"] == [
        {"Fn::Join": ["", [*head, {"Ref": group_id}]]},
        {"Fn::Join": ["", [*head, {"Ref": group_id}, ":*"]]},
        {"Fn::Join": ["", ["arn:", PARTITION, ":logs:us-east-1:123456789012:log-group:/aws/lambda/orders"]]},
        {"Fn::Join": ["", ["arn:", PARTITION, ":logs:us-east-1:123456789012:log-group:/aws/lambda/orders:*"]]},
    ]


def test_describe_and_cancel_are_on_star_as_the_reference_requires_and_nothing_else_is(built: Built) -> None:
    statements = handler_statements(built[2])
    (tasks,) = [s for s in statements if "logs:DescribeExportTasks" in json.dumps(s["Action"])]
    assert tasks == {
        "Action": ["logs:DescribeExportTasks", "logs:CancelExportTask"],
        "Effect": "Allow",
        "Resource": "*",
    }
    # The caller's own write permission (CreateExportTask's API reference), under the prefixes only.
    (put,) = [s for s in statements if s["Action"] == "s3:PutObject"]
    assert sorted(object_path(r) for r in put["Resource"]) == ["/cloudwatchlogs/Test/Daily/*", "/logs/fixed/*"]
    logs_actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {a for a in logs_actions if a.startswith("logs:") and "ExportTask" in a} == {
        "logs:CreateExportTask",
        "logs:DescribeExportTasks",
        "logs:CancelExportTask",
    }


# -- the request ---------------------------------------------------------------------------------


def test_the_request_is_in_the_apis_shape(built: Built) -> None:
    jobs = {k.rstrip("0123456789ABCDEF"): j for k, j in jobs_of(built[2]).items()}
    fixed = jobs["Fixed"]["Properties"]["Request"]
    assert fixed == {
        "logGroupName": "/aws/lambda/orders",
        "destination": fixed["destination"],
        "destinationPrefix": "logs/fixed",
        "from": int(START.timestamp() * 1000),
        "to": int(END.timestamp() * 1000),
        "logStreamNamePrefix": "2026/11/01/",
    }
    assert set(fixed["destination"]) == {"Ref"}
    daily = jobs["Daily"]["Properties"]["Request"]
    assert daily[WINDOW_MEMBER] == 86_400_000 and "from" not in daily and "to" not in daily
    # With the tokens resolved, what the adapter sends validates against botocore's model.
    shape = service_model("logs").operation_model("CreateExportTask").input_shape
    sent = {k: v for k, v in fixed.items() if k in API_MEMBERS} | {"destination": "my-bucket", "taskName": "t"}
    assert validate(sent, shape, "CreateExportTask") == []


def test_a_window_is_stable_across_synths() -> None:
    first = jobs_of(build()[2])
    second = jobs_of(build()[2])
    assert first == second
    assert not re.search(
        r"\"(from|to)\"",
        json.dumps([j["Properties"]["Request"] for j in first.values() if WINDOW_MEMBER in j["Properties"]["Request"]]),
    )


def test_the_jobs_queue_one_behind_the_other_for_the_one_task_quota(built: Built) -> None:
    jobs = jobs_of(built[2])
    daily = next(k for k in jobs if k.startswith("Daily"))
    fixed = next(k for k in jobs if k.startswith("Fixed"))
    assert daily in jobs[fixed]["DependsOn"]
    assert CloudWatchLogsExportJob.SERVICE.quota == 1


def test_attributes_are_tokens(built: Built) -> None:
    job = built[3]["Daily"]
    for value in (
        job.job_arn,
        job.job_name,
        job.status,
        job.output_uri,
        job.queued_seconds,
        job.time_from,
        job.time_to,
    ):
        assert cdk.Token.is_unresolved(value)
    resolved = built[1].resolve(job.job_arn)
    daily = next(k for k in jobs_of(built[2]) if k.startswith("Daily"))
    assert resolved == {"Fn::GetAtt": [daily, "JobArn"]}
    assert built[1].resolve(job.time_from) == {"Fn::GetAtt": [daily, "From"]}
    assert built[1].resolve(job.time_to) == {"Fn::GetAtt": [daily, "To"]}


def test_the_handlers_sample_event_is_what_this_construct_synthesizes() -> None:
    event = load("cloudwatchlogs_create")
    request = event["ResourceProperties"]["Request"]
    app = cdk.App()
    stack = cdk.Stack(app, "ExportConstructsSample", env=ENV)
    CloudWatchLogsExportJob(
        stack,
        "OrdersLogs",
        log_group=request["logGroupName"],
        destination=ExportDestination(stack, "Exports"),
        prefix="logs/orders/",
        window=cdk.Duration.millis(request[WINDOW_MEMBER]),
    )
    jobs = jobs_of(Template.from_stack(stack).to_json())
    assert list(jobs) == [event["LogicalResourceId"]]
    (job,) = jobs.values()
    assert job["Type"] == event["ResourceType"]
    same_shape(job["Properties"], event["ResourceProperties"])


# -- nag, flags, imported resources --------------------------------------------------------------


def test_construct_stack_passes_the_five_nag_packs(built: Built) -> None:
    app, stack, _, _ = built
    assert nag_findings(app, stack) == {}


def test_the_five_nag_packs_pass_under_the_recommended_flags() -> None:
    app, stack, template, _ = build(cdk.App(context=recommended_flags()))
    assert bucket_statements(template)  # the same grants under the flags
    assert nag_findings(app, stack) == {}


def _warnings(app: cdk.App, stack: cdk.Stack, warning_id: str) -> list[dict[str, Any]]:
    artifact = app.synth().get_stack_by_name(stack.stack_name)
    texts = [str(m.entry.data) for m in artifact.messages if f"[ack: {warning_id}]" in str(m.entry.data)]
    (text,) = texts  # one policy per imported resource
    statements: list[dict[str, Any]] = json.loads(text[text.index("\n{") : text.rindex("}") + 1])["Statement"]
    return statements


def test_an_imported_bucket_and_key_get_the_statements_to_paste() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Own", env=ENV)
    bucket = s3.Bucket.from_bucket_name(stack, "B", "my-exports")
    key = kms.Key.from_key_arn(
        stack, "K", "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    )
    dest = ExportDestination(stack, "Exports", bucket=bucket, encryption_key=key)
    CloudWatchLogsExportJob(stack, "J", log_group="/aws/lambda/orders", destination=dest, window=cdk.Duration.hours(6))
    source = {"aws:SourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:*"}
    bucket_warned = {s["Action"]: s for s in _warnings(app, stack, "export-constructs:imported-bucket-policy")}
    assert set(bucket_warned) == {"s3:PutObject", "s3:GetBucketAcl"}
    put = bucket_warned["s3:PutObject"]
    assert (put["Effect"], put["Principal"]) == ("Allow", PASTED_PRINCIPAL)
    assert put["Resource"] == ["arn:aws:s3:::my-exports/cloudwatchlogs/Own/J/*"]
    assert put["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012", "s3:x-amz-acl": "bucket-owner-full-control"},
        "ArnLike": source,
    }
    acl = bucket_warned["s3:GetBucketAcl"]
    assert acl["Resource"] == "arn:aws:s3:::my-exports"
    assert acl["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}, "ArnLike": source}
    (key_warned,) = _warnings(app, stack, "export-constructs:imported-key-policy")
    assert key_warned["Principal"] == PASTED_PRINCIPAL
    assert key_warned["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
    assert key_warned["Condition"]["ArnLike"] == source


def test_many_log_groups_collapse_to_the_accounts_groups_and_stay_nag_clean() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Scale", env=ENV)
    dest = ExportDestination(stack, "Exports")
    for n in range(25):
        CloudWatchLogsExportJob(
            stack, f"J{n}", log_group=f"/aws/lambda/f{n}", destination=dest, window=cdk.Duration.hours(1)
        )
    template = Template.from_stack(stack).to_json()
    (create,) = [s for s in handler_statements(template) if s["Action"] == "logs:CreateExportTask"]
    assert create["Resource"] == [SOURCE_ARN]  # log-group:* of this account and Region
    (put,) = [s for s in handler_statements(template) if s["Action"] == "s3:PutObject"]
    assert [object_path(r) for r in put["Resource"]] == ["/cloudwatchlogs/Scale/*"]  # their common folder
    assert nag_findings(app, stack) == {}

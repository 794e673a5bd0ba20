"""RdsSnapshotExportJob asserted on the template: the role RDS assumes (trust with the
confused-deputy conditions, S3 only under the jobs' prefixes, the key), the handler's least
privilege (StartExportTask on the sources, describe/cancel on '*', PassRole only to RDS, the
caller's CreateGrant/DescribeKey on the key), the request in StartExportTask's shape, the
attributes, the long wait by default, and the five nag packs under default and recommended flags."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import botocore.session
import pytest
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from botocore.validate import ParamValidator

from export_constructs import ExportDestination, RdsSnapshotExportJob
from tests.handler.events import load

from .conftest import handler_statements, nag_findings, object_path, resources_of
from .flags import recommended_flags

ENV = cdk.Environment(account="123456789012", region="us-east-1")
SNAPSHOT = "arn:aws:rds:us-east-1:123456789012:snapshot:shop-db-2026-12-01"
CLUSTER_SNAPSHOT = "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:shop-aurora-1"
PARTITION = {"Ref": "AWS::Partition"}
CONFUSED_DEPUTY = {
    "StringEquals": {"aws:SourceAccount": "123456789012"},
    "ArnLike": {"aws:SourceArn": {"Fn::Join": ["", ["arn:", PARTITION, ":rds:us-east-1:123456789012:*"]]}},
}
Built = tuple[cdk.App, cdk.Stack, dict[str, Any]]


def build(app: cdk.App) -> Built:
    stack = cdk.Stack(app, "Test", env=ENV)
    dest = ExportDestination(stack, "Exports")
    RdsSnapshotExportJob(stack, "Orders", source_arn=SNAPSHOT, destination=dest, export_only=["shop.orders"])
    RdsSnapshotExportJob(
        stack,
        "Aurora",
        source_arn=CLUSTER_SNAPSHOT,
        destination=dest,
        prefix="aurora/",
        job_name="aurora-export-1",
        timeout=Duration.minutes(30),
    )
    return app, stack, dict(Template.from_stack(stack).to_json())


@pytest.fixture(scope="module")
def built() -> Built:
    return build(cdk.App())


def rds_role(template: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    ((role_id, role),) = [(k, r) for k, r in resources_of(template, "AWS::IAM::Role").items() if "RdsRole" in k]
    (policy,) = [
        p for p in resources_of(template, "AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    return role, policy["Properties"]["PolicyDocument"]["Statement"]


def jobs_of(template: dict[str, Any]) -> dict[str, Any]:
    """The jobs' resources (not the long path's result resources, of the same type)."""
    return {k: v for k, v in resources_of(template, "Custom::ExportJob-Rds").items() if "Request" in v["Properties"]}


# -- the role RDS assumes -----------------------------------------------------------------------


def test_the_role_trusts_only_rds_export_with_confused_deputy_conditions(built: Built) -> None:
    _, _, template = built
    role, _ = rds_role(template)
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "export.rds.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == CONFUSED_DEPUTY


def test_the_role_reaches_objects_only_under_the_jobs_prefixes_and_uses_the_key(built: Built) -> None:
    _, _, template = built
    _, statements = rds_role(template)
    by_action = {json.dumps(s["Action"]): s["Resource"] for s in statements}
    (bucket_id,) = [k for k in resources_of(template, "AWS::S3::Bucket") if not k.startswith("ExportsAccessLogs")]
    (key_id,) = [k for k in resources_of(template, "AWS::KMS::Key") if k.startswith("ExportsKey")]
    for objects in ('"s3:PutObject"', '["s3:GetObject", "s3:DeleteObject"]'):
        assert sorted(object_path(r) for r in by_action.pop(objects)) == ["/aurora/*", "/rds/Test/Orders/*"], objects
    assert by_action == {
        '["s3:ListBucket", "s3:GetBucketLocation"]': {"Fn::GetAtt": [bucket_id, "Arn"]},
        '["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]': {"Fn::GetAtt": [key_id, "Arn"]},
    }


# -- the handler's policy ---------------------------------------------------------------------


def test_the_handler_starts_exports_of_the_listed_sources_only(built: Built) -> None:
    _, _, template = built
    (start,) = [s for s in handler_statements(template) if s["Action"] == "rds:StartExportTask"]
    assert sorted(start["Resource"]) == [CLUSTER_SNAPSHOT, SNAPSHOT]


def test_describe_and_cancel_are_the_only_actions_on_any_resource(built: Built) -> None:
    _, _, template = built
    rds = [s for s in handler_statements(template) if "rds:" in json.dumps(s["Action"])]
    assert {json.dumps(s["Action"]): s["Resource"] for s in rds} == {
        '"rds:StartExportTask"': sorted([SNAPSHOT, CLUSTER_SNAPSHOT]),
        '["rds:DescribeExportTasks", "rds:CancelExportTask"]': "*",
    }


def test_pass_role_goes_only_to_rds_and_only_to_the_librarys_roles(built: Built) -> None:
    _, _, template = built
    (passing,) = [s for s in handler_statements(template) if s["Action"] == "iam:PassRole"]
    services = ["export.rds.amazonaws.com", "rds.amazonaws.com"]  # the one it trusts, and RDS's own
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": services}}
    (resource,) = passing["Resource"]
    assert resource["Fn::Join"][1][-1] == "/*" and "role/export-constructs/" in json.dumps(resource)


def test_the_handler_may_create_grants_on_and_describe_the_destination_key_once(built: Built) -> None:
    _, _, template = built
    kms_statements = [s for s in handler_statements(template) if "kms:" in json.dumps(s["Action"])]
    (grant,) = [s for s in kms_statements if "kms:CreateGrant" in s["Action"]]
    assert grant["Action"] == ["kms:CreateGrant", "kms:DescribeKey"]
    assert grant["Resource"]["Fn::GetAtt"][0].startswith("ExportsKey")


# -- the request ------------------------------------------------------------------------------


def test_each_request_is_in_start_export_tasks_shape(built: Built) -> None:
    """Tokens resolved to strings, the request (with an identifier) passes botocore's validator."""
    _, _, template = built
    model = botocore.session.get_session().get_service_model("rds").operation_model("StartExportTask")
    for job in jobs_of(template).values():
        request = json.loads(json.dumps(job["Properties"]["Request"]), object_hook=_intrinsics_as_strings)
        report = ParamValidator().validate({**request, "ExportTaskIdentifier": "x"}, model.input_shape)
        assert not report.has_errors(), report.generate_report()
    orders, aurora = sorted(jobs_of(template).values(), key=lambda j: "JobName" in j["Properties"])
    assert orders["Properties"]["Request"]["S3Prefix"] == "rds/Test/Orders"  # RDS adds the task's folder
    assert orders["Properties"]["Request"]["ExportOnly"] == ["shop.orders"]
    assert aurora["Properties"]["Request"]["S3Prefix"] == "aurora"
    assert "ExportOnly" not in aurora["Properties"]["Request"]
    assert aurora["Properties"]["JobName"] == "aurora-export-1"
    assert orders["Properties"]["Request"]["KmsKeyId"]["Fn::GetAtt"][0].startswith("ExportsKey")


def _intrinsics_as_strings(node: dict[str, Any]) -> Any:
    return "resolved" if len(node) == 1 and next(iter(node)).startswith(("Fn::", "Ref")) else node


def test_the_default_timeout_of_six_hours_takes_the_long_wait(built: Built) -> None:
    _, stack, template = built
    orders = stack.node.find_child("Orders")
    assert isinstance(orders, RdsSnapshotExportJob)
    assert orders.wait_condition is not None
    (wait,) = resources_of(template, "AWS::CloudFormation::WaitCondition").values()
    assert wait["Properties"]["Timeout"] == str(6 * 3600)
    aurora = stack.node.find_child("Aurora")
    assert isinstance(aurora, RdsSnapshotExportJob) and aurora.wait_condition is None


def test_attributes_are_tokens_of_the_result_resource_on_the_long_path(built: Built) -> None:
    _, stack, _ = built
    orders = stack.node.find_child("Orders")
    aurora = stack.node.find_child("Aurora")
    assert isinstance(orders, RdsSnapshotExportJob) and isinstance(aurora, RdsSnapshotExportJob)
    result = orders.node.find_child("Result")
    assert isinstance(result, cdk.CfnResource)
    for attribute, name in (
        (orders.percent_progress, "PercentProgress"),
        (orders.total_extracted_data_in_gb, "TotalExtractedDataInGB"),
        (orders.snapshot_time, "SnapshotTime"),
        (orders.job_arn, "JobArn"),
    ):
        assert stack.resolve(attribute) == {"Fn::GetAtt": [stack.get_logical_id(result), name]}
    resource = aurora.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    assert stack.resolve(aurora.percent_progress) == {"Fn::GetAtt": [stack.get_logical_id(resource), "PercentProgress"]}


def test_jobs_of_the_stack_run_at_most_five_at_once() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Many", env=ENV)
    dest = ExportDestination(stack, "Exports")
    jobs = [
        RdsSnapshotExportJob(
            stack, f"J{i}", source_arn=f"{SNAPSHOT}-{i}", destination=dest, timeout=Duration.minutes(30)
        )
        for i in range(7)
    ]
    template = Template.from_stack(stack).to_json()
    ids = [stack.get_logical_id(j.node.default_child) for j in jobs]  # type: ignore[arg-type]
    depends = {i: template["Resources"][i].get("DependsOn", []) for i in ids}
    assert ids[0] in depends[ids[5]] and ids[1] in depends[ids[6]]
    assert not any(j in depends[ids[4]] for j in ids)


# -- the sample event, user resources, nag ----------------------------------------------------


def same_shape(synthesized: Any, sample: Any, path: str = "") -> None:
    """The sample event holds what CloudFormation sends for the synthesized properties."""
    if isinstance(synthesized, dict) and len(synthesized) == 1 and next(iter(synthesized)).startswith(("Fn::", "Ref")):
        assert isinstance(sample, str), path
    elif isinstance(synthesized, dict):
        assert isinstance(sample, dict) and synthesized.keys() == sample.keys(), (path, synthesized.keys(), sample)
        for k in synthesized:
            same_shape(synthesized[k], sample[k], f"{path}.{k}")
    elif isinstance(synthesized, list):
        assert isinstance(sample, list) and len(synthesized) == len(sample), path
        for i, (a, b) in enumerate(zip(synthesized, sample, strict=True)):
            same_shape(a, b, f"{path}[{i}]")
    else:
        assert synthesized == sample, path


def test_the_handlers_sample_event_is_what_this_construct_synthesizes() -> None:
    event = load("rds_create")
    request = event["ResourceProperties"]["Request"]
    app = cdk.App()
    stack = cdk.Stack(app, "ExportConstructsSample", env=ENV)
    RdsSnapshotExportJob(
        stack,
        "SnapshotExport",
        source_arn=request["SourceArn"],
        destination=ExportDestination(stack, "Exports"),
        prefix="rds/shop/",
        export_only=request["ExportOnly"],
        timeout=Duration.minutes(50),
    )
    jobs = jobs_of(dict(Template.from_stack(stack).to_json()))
    assert list(jobs) == [event["LogicalResourceId"]]
    (job,) = jobs.values()
    assert job["Type"] == event["ResourceType"]
    same_shape(job["Properties"], event["ResourceProperties"])


def test_user_bucket_key_and_immutable_role() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Own", env=ENV)
    bucket = s3.Bucket.from_bucket_name(stack, "B", "my-exports")
    key_arn = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    key = kms.Key.from_key_arn(stack, "K", key_arn)
    role = iam.Role.from_role_arn(stack, "R", "arn:aws:iam::123456789012:role/my-rds-export", mutable=False)
    dest = ExportDestination(stack, "Exports", bucket=bucket, encryption_key=key)
    job = RdsSnapshotExportJob(stack, "J", source_arn=SNAPSHOT, destination=dest, role=role)
    assert job.role is role
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "Custom::ExportJob-Rds",
        {
            "Request": {
                "SourceArn": SNAPSHOT,
                "S3BucketName": "my-exports",
                "IamRoleArn": "arn:aws:iam::123456789012:role/my-rds-export",
                "KmsKeyId": key_arn,
                "S3Prefix": "rds/Own/J",
            }
        },
    )
    statements = handler_statements(dict(template.to_json()))
    (pass_role,) = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert "arn:aws:iam::123456789012:role/my-rds-export" in pass_role["Resource"]
    (grant,) = [s for s in statements if s["Action"] == ["kms:CreateGrant", "kms:DescribeKey"]]
    assert grant["Resource"] == key_arn


def test_the_construct_stack_passes_the_five_nag_packs(built: Built) -> None:
    app, stack, _ = built
    assert nag_findings(app, stack) == {}


def test_the_five_nag_packs_pass_under_the_recommended_flags() -> None:
    app, stack, template = build(cdk.App(context=recommended_flags()))
    assert jobs_of(template)
    assert nag_findings(app, stack) == {}

"""PinpointExportJob asserted on the template: the per-project service roles, the handler's
policy, the request in the API's shape, the end-of-support warning and the five nag packs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Annotations, Match, Template

from export_constructs import ExportDestination
from export_constructs.handler.adapters import pinpoint as adapter_module
from export_constructs.pinpoint import PinpointExportJob
from export_constructs.services import PINPOINT

from ..handler.events import load
from .conftest import handler_statements, nag_findings, object_path, resources_of

ENV = cdk.Environment(account="123456789012", region="us-east-1")
APP_A = "0123456789abcdef0123456789abcdef"
APP_B = "fedcba9876543210fedcba9876543210"
SEGMENT = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
PARTITION = {"Ref": "AWS::Partition"}
ROLE_PATH = {"Fn::Join": ["", ["/export-constructs/", {"Ref": "AWS::StackName"}, "/"]]}
Built = tuple[cdk.App, cdk.Stack, dict[str, Any]]


def app_arn(app: Any, suffix: str = "") -> dict[str, Any]:
    return {"Fn::Join": ["", ["arn:", PARTITION, f":mobiletargeting:us-east-1:123456789012:apps/{app}{suffix}"]]}


def confused_deputy(app: str) -> dict[str, Any]:
    return {"StringEquals": {"aws:SourceAccount": "123456789012"}, "ArnLike": {"aws:SourceArn": app_arn(app)}}


@pytest.fixture(scope="module")
def built() -> Built:
    app = cdk.App()
    stack = cdk.Stack(app, "Test", env=ENV)
    exports = ExportDestination(stack, "Exports")
    archive = ExportDestination(stack, "Archive")
    PinpointExportJob(
        stack,
        "Endpoints",
        application_id=APP_A,
        destination=exports,
        prefix="pinpoint/endpoints/",
        segment_id=SEGMENT,
        segment_version=3,
    )
    PinpointExportJob(stack, "All", application_id=APP_A, destination=exports)
    PinpointExportJob(stack, "Other", application_id=APP_B, destination=exports, prefix="pinpoint/other/")
    PinpointExportJob(stack, "Archived", application_id=APP_A, destination=archive)
    return app, stack, dict(Template.from_stack(stack).to_json())


def pinpoint_roles(template: dict[str, Any]) -> dict[str, Any]:
    return {
        k: r
        for k, r in resources_of(template, "AWS::IAM::Role").items()
        if "pinpoint.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])
    }


def role_statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    (policy,) = [
        p for p in resources_of(template, "AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def jobs(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Custom resources by construct id (logical ids start with it)."""
    found = resources_of(template, "Custom::ExportJob-Pinpoint")
    return {
        name: next(r["Properties"] for k, r in found.items() if k.startswith(name))
        for name in ("Endpoints", "All", "Other", "Archived")
    }


def role_of(job: dict[str, Any]) -> str:
    role_id: str = job["Request"]["ExportJobRequest"]["RoleArn"]["Fn::GetAtt"][0]
    return role_id


# -- service roles --------------------------------------------------------------------------------


def test_roles_trust_pinpoint_for_their_project_only(built: Built) -> None:
    roles = pinpoint_roles(built[2])
    assert len(roles) == 3  # project A into Exports, project B into Exports, project A into Archive
    trusted = []
    for role in roles.values():
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "pinpoint.amazonaws.com"}
        assert statement["Action"] == "sts:AssumeRole"
        trusted.append(json.dumps(statement["Condition"]))
        assert role["Properties"]["Path"] == ROLE_PATH
        assert "ManagedPolicyArns" not in role["Properties"]
    assert sorted(trusted) == sorted(json.dumps(confused_deputy(a)) for a in (APP_A, APP_A, APP_B))


def test_one_role_per_project_and_destination(built: Built) -> None:
    found = jobs(built[2])
    assert role_of(found["Endpoints"]) == role_of(found["All"])
    assert role_of(found["Endpoints"]).startswith(f"ExportsPinpointRole{APP_A}")
    assert role_of(found["Other"]).startswith(f"ExportsPinpointRole{APP_B}")
    assert role_of(found["Archived"]).startswith(f"ArchivePinpointRole{APP_A}")
    trust = pinpoint_roles(built[2])
    assert trust[role_of(found["Other"])]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0][
        "Condition"
    ] == confused_deputy(APP_B)


def test_role_may_only_write_under_its_jobs_prefixes_and_use_the_key_to_encrypt(built: Built) -> None:
    template = built[2]
    found = jobs(template)
    for job, prefixes in (
        (found["Endpoints"], ["/pinpoint/Test/All/*", "/pinpoint/endpoints/*"]),
        (found["Other"], ["/pinpoint/other/*"]),
    ):
        statements = role_statements(template, role_of(job))
        by_action = {json.dumps(s["Action"]): s for s in statements}
        assert set(by_action) == {
            '"s3:PutObject"',
            '["s3:ListBucket", "s3:GetBucketLocation"]',
            '["kms:GenerateDataKey", "kms:Decrypt"]',
        }
        assert [object_path(r) for r in by_action['"s3:PutObject"']["Resource"]] == prefixes
        assert by_action['["s3:ListBucket", "s3:GetBucketLocation"]']["Resource"] == {
            "Fn::GetAtt": ["ExportsD637FF99", "Arn"]
        }
        assert by_action['["kms:GenerateDataKey", "kms:Decrypt"]']["Resource"]["Fn::GetAtt"][0].startswith("ExportsKey")
        assert all("Condition" not in s and s["Resource"] != "*" for s in statements)


def test_pinpoint_gets_no_bucket_or_key_policy(built: Built) -> None:
    """AWS documents only the role for Pinpoint's export: nothing for the service principal."""
    assert "pinpoint.amazonaws.com" not in json.dumps(resources_of(built[2], "AWS::S3::BucketPolicy"))
    assert "pinpoint.amazonaws.com" not in json.dumps(resources_of(built[2], "AWS::KMS::Key"))


# -- handler ----------------------------------------------------------------------------------------


def test_handler_may_run_export_jobs_of_the_listed_projects_only(built: Built) -> None:
    statements = [s for s in handler_statements(built[2]) if "mobiletargeting" in json.dumps(s["Action"])]
    assert statements == [
        {
            "Action": [
                "mobiletargeting:CreateExportJob",
                "mobiletargeting:GetExportJob",
                "mobiletargeting:GetExportJobs",
            ],
            "Effect": "Allow",
            "Resource": [
                app_arn(app, suffix) for app in (APP_A, APP_B) for suffix in ("", "/jobs/export", "/jobs/export/*")
            ],
        }
    ]


def test_handler_passes_only_the_stacks_roles_to_pinpoint_under_both_names(built: Built) -> None:
    (statement,) = [s for s in handler_statements(built[2]) if s["Action"] == "iam:PassRole"]
    assert statement["Condition"] == {
        "StringEquals": {"iam:PassedToService": ["mobiletargeting.amazonaws.com", "pinpoint.amazonaws.com"]}
    }
    assert statement["Resource"] == [
        {
            "Fn::Join": [
                "",
                ["arn:", PARTITION, ":iam::123456789012:role/export-constructs/", {"Ref": "AWS::StackName"}, "/*"],
            ]
        }
    ]


# -- the custom resource -------------------------------------------------------------------------------


def test_custom_resource_carries_the_request_in_the_apis_shape(built: Built) -> None:
    found = jobs(built[2])
    bucket = {"Ref": Match.string_like_regexp("ExportsD637")}
    role = {"Fn::GetAtt": [Match.string_like_regexp(f"ExportsPinpointRole{APP_A}"), "Arn"]}
    template = Template.from_json(built[2])
    template.has_resource_properties(
        "Custom::ExportJob-Pinpoint",
        {
            "TimeoutSeconds": "3000",
            "Request": {
                "ApplicationId": APP_A,
                "ExportJobRequest": {
                    "RoleArn": role,
                    "S3UrlPrefix": {"Fn::Join": ["", ["s3://", bucket, "/pinpoint/endpoints/"]]},
                    "SegmentId": SEGMENT,
                    "SegmentVersion": 3,
                },
            },
        },
    )
    template.has_resource_properties(
        "Custom::ExportJob-Pinpoint",
        {
            "Request": {
                "ApplicationId": APP_A,
                "ExportJobRequest": {
                    "RoleArn": role,
                    "S3UrlPrefix": {"Fn::Join": ["", ["s3://", bucket, "/pinpoint/Test/All/"]]},
                },
            }
        },
    )
    assert all("JobName" not in props for props in found.values())  # Pinpoint export jobs have no name


def shape(value: Any) -> Any:
    """Keys all the way down; leaves become their kind (a token is a string after deployment)."""
    if isinstance(value, dict) and not (len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref"))):
        return {k: shape(v) for k, v in value.items()}
    return "leaf"


def test_the_sample_event_has_the_shape_the_construct_synthesizes(built: Built) -> None:
    event = load("pinpoint_create")
    synthesized = jobs(built[2])["Endpoints"]
    # JobNamePrefix: templates of earlier versions carried it; the handler derives it otherwise.
    ignored = ("ServiceToken", "JobNamePrefix")
    sent = {k: v for k, v in event["ResourceProperties"].items() if k not in ignored}
    assert event["ResourceType"] == "Custom::ExportJob-Pinpoint"
    assert shape(sent) == shape({k: v for k, v in synthesized.items() if k not in ignored})
    assert sent["Request"]["ApplicationId"] == synthesized["Request"]["ApplicationId"] == APP_A
    assert sent["Request"]["ExportJobRequest"]["SegmentId"] == SEGMENT
    # The template holds a number; CloudFormation hands every property over as a string.
    assert synthesized["Request"]["ExportJobRequest"]["SegmentVersion"] == 3
    assert sent["Request"]["ExportJobRequest"]["SegmentVersion"] == "3"
    assert sent["TimeoutSeconds"] == synthesized["TimeoutSeconds"]


def test_attributes_are_tokens_named_as_the_handler_returns_them(built: Built) -> None:
    _, stack, _ = built
    job = stack.node.find_child("Endpoints")
    assert isinstance(job, PinpointExportJob)
    resource = job.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    logical = stack.get_logical_id(resource)
    extra = {
        "TotalPieces": job.total_pieces,
        "CompletedPieces": job.completed_pieces,
        "FailedPieces": job.failed_pieces,
        "TotalFailures": job.total_failures,
        "Failures": job.failures,
        "PinpointJobId": job.pinpoint_job_id,
    }
    for name, token in {"JobArn": job.job_arn, "Status": job.status, "OutputUri": job.output_uri, **extra}.items():
        assert cdk.Token.is_unresolved(token)
        assert stack.resolve(token) == {"Fn::GetAtt": [logical, name]}

    class Client:
        def get_export_job(self, **_: Any) -> dict[str, Any]:
            return {"ExportJobResponse": {"Id": "j", "JobStatus": "COMPLETED", "CreationDate": "2026-11-22T11:00:00Z"}}

    arn = f"arn:aws:mobiletargeting:us-east-1:123456789012:apps/{APP_A}/jobs/export/j"
    state = adapter_module.Adapter(lambda _: Client()).describe(arn)
    assert set(state.attributes) == set(extra)
    assert state.created_at == datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
    assert job.prefix == "pinpoint/endpoints/" and job.application_id == APP_A
    assert cdk.Token.is_unresolved(job.role.role_arn)


def test_every_job_warns_that_pinpoint_support_ended(built: Built) -> None:
    _, stack, _ = built
    annotations = Annotations.from_stack(stack)
    warnings = annotations.find_warning(
        "*", Match.string_like_regexp("ended support for Amazon Pinpoint on 2026-10-30")
    )
    assert sorted(w.id for w in warnings) == ["/Test/All", "/Test/Archived", "/Test/Endpoints", "/Test/Other"]
    text = str(warnings[0].entry.data)
    assert PINPOINT.notice is not None
    assert PINPOINT.notice.id in text
    for guidance in ("Amazon Connect Customer Profiles", "outbound campaigns", "AWS End User Messaging"):
        assert guidance in text
    # The matcher discriminates: a text no warning holds finds nothing.
    assert annotations.find_warning("*", Match.string_like_regexp("support ended on 1999")) == []


def test_construct_stack_passes_the_five_nag_packs(built: Built) -> None:
    app, stack, _ = built
    assert nag_findings(app, stack) == {}


# -- tokens, scale, bring your own ---------------------------------------------------------------------


def token_stack() -> tuple[cdk.App, cdk.Stack, dict[str, Any], str]:
    app = cdk.App()
    stack = cdk.Stack(app, "Tokens", env=ENV)
    dest = ExportDestination(stack, "Exports")
    project = cdk.CfnParameter(stack, "ProjectId").value_as_string
    PinpointExportJob(stack, "A", application_id=project, destination=dest)
    PinpointExportJob(stack, "B", application_id=project, destination=dest)
    return app, stack, dict(Template.from_stack(stack).to_json()), project


def test_a_project_id_token_gets_one_stable_role_scoped_to_it() -> None:
    app, stack, template, project = token_stack()
    roles = pinpoint_roles(template)
    assert len(roles) == 1
    (role_id,) = roles
    assert role_id.startswith("ExportsPinpointRoleToken")
    (statement,) = roles[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == {
        "Fn::Join": ["", ["arn:", PARTITION, ":mobiletargeting:us-east-1:123456789012:apps/", {"Ref": "ProjectId"}]]
    }
    _, _, again, same_project = token_stack()
    assert same_project != project  # the token's string differs from one synth to the next ...
    assert set(pinpoint_roles(again)) == {role_id}  # ... the role's logical id does not
    (create,) = [s for s in handler_statements(template) if "mobiletargeting:CreateExportJob" in s["Action"]]
    assert len(create["Resource"]) == 3 and "ProjectId" in json.dumps(create["Resource"])
    assert nag_findings(app, stack) == {}


def test_many_projects_widen_to_the_accounts_projects_and_pass_nag() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Many", env=ENV)
    dest = ExportDestination(stack, "Exports")
    for i in range(21):
        PinpointExportJob(stack, f"Job{i}", application_id=f"{i:032x}", destination=dest)
    template = dict(Template.from_stack(stack).to_json())
    (create,) = [s for s in handler_statements(template) if "mobiletargeting:CreateExportJob" in s["Action"]]
    assert create["Resource"] == [app_arn("*")]
    assert len(pinpoint_roles(template)) == 21  # one per project: each trusts its own project only
    for policy in resources_of(template, "AWS::IAM::Policy").values():
        assert len(json.dumps(policy["Properties"]["PolicyDocument"], separators=(",", ":"))) < 10_240
    assert nag_findings(app, stack) == {}


@pytest.mark.parametrize(("projects", "listed"), [(17, True), (18, False)])
def test_projects_are_listed_while_they_fit_pinpoints_policy(projects: int, listed: bool) -> None:
    """Three ARNs per project: seventeen fit the handler's Pinpoint policy (a managed policy of at
    most 6,144 characters, with iam:PassRole; 5,667 resolved in the aws-us-gov partition) as the
    library counts them; more collapse to the account's projects."""
    app = cdk.App()
    stack = cdk.Stack(app, "Many", env=ENV)
    dest = ExportDestination(stack, "Exports")
    for i in range(projects):
        PinpointExportJob(stack, f"Job{i}", application_id=f"{i:032x}", destination=dest)
    template = dict(Template.from_stack(stack).to_json())
    (create,) = [s for s in handler_statements(template) if "mobiletargeting:CreateExportJob" in s["Action"]]
    if listed:
        assert len(create["Resource"]) == 3 * projects and app_arn("*") not in create["Resource"]
    else:
        assert create["Resource"] == [app_arn("*")]


def test_user_role_is_used_and_passable() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Own", env=ENV)
    dest = ExportDestination(stack, "Exports")
    role = iam.Role.from_role_arn(stack, "R", "arn:aws:iam::123456789012:role/my-pinpoint-role")
    job = PinpointExportJob(stack, "J", application_id=APP_A, destination=dest, role=role)
    assert job.role is role
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "Custom::ExportJob-Pinpoint",
        {
            "Request": {
                "ExportJobRequest": Match.object_like({"RoleArn": "arn:aws:iam::123456789012:role/my-pinpoint-role"})
            }
        },
    )
    assert pinpoint_roles(dict(template.to_json())) == {}
    (pass_role,) = [s for s in handler_statements(dict(template.to_json())) if s["Action"] == "iam:PassRole"]
    assert "arn:aws:iam::123456789012:role/my-pinpoint-role" in pass_role["Resource"]

"""PersonalizeDatasetExportJob, ExportDestination and the provider, asserted on the template."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template
from constructs import Construct

from export_constructs import ExportDestination, PersonalizeDatasetExportJob

from .conftest import handler_statements, nag_findings, object_path, resources_of

Built = tuple[cdk.App, cdk.Stack, Mapping[str, Any]]

DATASET = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS"
ENV = cdk.Environment(account="123456789012", region="us-east-1")


def new_stack(name: str = "Test") -> tuple[cdk.App, cdk.Stack, ExportDestination]:
    app = cdk.App()
    stack = cdk.Stack(app, name, env=ENV)
    return app, stack, ExportDestination(stack, "Exports")


@pytest.fixture(scope="module")
def built() -> Built:
    app, stack, dest = new_stack()
    PersonalizeDatasetExportJob(
        stack, "Users", dataset_arn=DATASET, destination=dest, prefix="personalize/users/", tags={"team": "ml"}
    )
    PersonalizeDatasetExportJob(stack, "Items", dataset_arn=DATASET.replace("USERS", "ITEMS"), destination=dest)
    return app, stack, Template.from_stack(stack).to_json()


def template_of(built: Built) -> Template:
    return Template.from_json(built[2])


# -- destination ------------------------------------------------------------------------------


def test_destination_bucket_is_hardened(built: Built) -> None:
    t = template_of(built)
    t.has_resource(
        "AWS::S3::Bucket",
        {
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {
                                "BucketKeyEnabled": True,
                                "ServerSideEncryptionByDefault": {
                                    "SSEAlgorithm": "aws:kms",
                                    "KMSMasterKeyID": Match.any_value(),
                                },
                            }
                        ]
                    },
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                    "LoggingConfiguration": {
                        "DestinationBucketName": Match.any_value(),
                        "LogFilePrefix": "export-bucket/",
                    },
                }
            ),
        },
    )
    # The log bucket is retained and hardened too.
    buckets = resources_of(built[2], "AWS::S3::Bucket")
    assert len(buckets) == 2
    assert all(b["DeletionPolicy"] == "Retain" for b in buckets.values())
    assert all(b["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"} for b in buckets.values())


def test_destination_key_rotates_and_is_retained(built: Built) -> None:
    keys = resources_of(built[2], "AWS::KMS::Key")
    export_keys = [k for k in keys.values() if "export-job output" in k["Properties"]["Description"]]
    assert len(export_keys) == 1
    assert export_keys[0]["Properties"]["EnableKeyRotation"] is True
    assert export_keys[0]["DeletionPolicy"] == "Retain"


def test_every_bucket_denies_plain_http(built: Built) -> None:
    policies = resources_of(built[2], "AWS::S3::BucketPolicy")
    assert len(policies) == 2
    for policy in policies.values():
        assert {
            "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Resource": Match.any_value(),
        }.keys() <= policy["Properties"]["PolicyDocument"]["Statement"][0].keys()
        deny = policy["Properties"]["PolicyDocument"]["Statement"][0]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


PARTITION = {"Ref": "AWS::Partition"}
CONFUSED_DEPUTY = {
    "StringEquals": {"aws:SourceAccount": "123456789012"},
    "ArnLike": {"aws:SourceArn": {"Fn::Join": ["", ["arn:", PARTITION, ":personalize:us-east-1:123456789012:*"]]}},
}
STACK_PREFIX = {
    "Fn::Select": [0, {"Fn::Split": ["-", {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]}]
}


def test_bucket_policy_lets_personalize_write_only_under_the_prefixes(
    built: Built,
) -> None:
    statements = [
        s
        for p in resources_of(built[2], "AWS::S3::BucketPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "personalize.amazonaws.com"}
    ]
    by_action = {json.dumps(s["Action"]): s for s in statements}
    put = by_action['"s3:PutObject"']
    assert put["Condition"] == CONFUSED_DEPUTY
    rendered = json.dumps(put["Resource"])
    assert "/personalize/users/*" in rendered and "/personalize/Test/Items/*" in rendered
    assert by_action['"s3:ListBucket"']["Condition"] == CONFUSED_DEPUTY


def test_key_policy_lets_personalize_use_the_key(built: Built) -> None:
    template_of(built).has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        {
                            "Action": [
                                "kms:Decrypt",
                                "kms:GenerateDataKey",
                                "kms:DescribeKey",
                                "kms:ListGrants",
                                "kms:CreateGrant",
                            ],
                            "Condition": CONFUSED_DEPUTY,
                            "Effect": "Allow",
                            "Principal": {"Service": "personalize.amazonaws.com"},
                            "Resource": "*",
                        }
                    ]
                )
            }
        },
    )


# -- service role -----------------------------------------------------------------------------


def test_one_service_role_is_shared_and_trusts_personalize_with_confused_deputy_conditions(
    built: Built,
) -> None:
    roles = {
        k: r
        for k, r in resources_of(built[2], "AWS::IAM::Role").items()
        if "personalize.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])
    }
    assert len(roles) == 1
    (role,) = roles.values()
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": CONFUSED_DEPUTY,
            "Effect": "Allow",
            "Principal": {"Service": "personalize.amazonaws.com"},
        }
    ]
    assert role["Properties"]["Path"] == {"Fn::Join": ["", ["/export-constructs/", {"Ref": "AWS::StackName"}, "/"]]}
    assert "ManagedPolicyArns" not in role["Properties"]


def test_service_role_policy_is_least_privilege(built: Built) -> None:
    (role_id,) = [k for k in resources_of(built[2], "AWS::IAM::Role") if k.startswith("ExportsPersonalizeRole")]
    (policy,) = [
        p for p in resources_of(built[2], "AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == sorted(
        [
            "s3:PutObject",
            "s3:ListBucket",
            "s3:GetBucketLocation",
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "kms:DescribeKey",
            "kms:ListGrants",
        ]
    )
    put = next(s for s in statements if s["Action"] == "s3:PutObject")
    assert [object_path(r) for r in put["Resource"]] == ["/personalize/Test/Items/*", "/personalize/users/*"]
    assert all(s["Resource"] != "*" for s in statements)


# -- handler / provider -----------------------------------------------------------------------


def test_handler_may_create_only_this_stacks_jobs_from_the_listed_datasets(
    built: Built,
) -> None:
    (statement,) = [s for s in handler_statements(built[2]) if "personalize:CreateDatasetExportJob" in s["Action"]]
    assert statement["Action"] == "personalize:CreateDatasetExportJob"
    resources = statement["Resource"]
    assert resources[0] == {
        "Fn::Join": [
            "",
            ["arn:", PARTITION, ":personalize:us-east-1:123456789012:dataset-export-job/ex", STACK_PREFIX, "_*"],
        ]
    }
    assert DATASET in resources and DATASET.replace("USERS", "ITEMS") in resources
    assert len(resources) == 3
    # Describing and tagging (at create) concern this stack's jobs only, never a dataset.
    (jobs,) = [s for s in handler_statements(built[2]) if "personalize:TagResource" in s["Action"]]
    assert jobs["Action"] == ["personalize:DescribeDatasetExportJob", "personalize:TagResource"]
    assert jobs["Resource"] == resources[:1]


def test_handler_passes_only_the_stacks_roles_to_personalize(built: Built) -> None:
    (statement,) = [s for s in handler_statements(built[2]) if s["Action"] == "iam:PassRole"]
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": ["personalize.amazonaws.com"]}}
    assert statement["Resource"] == [
        {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    ":iam::123456789012:role/export-constructs/",
                    {"Ref": "AWS::StackName"},
                    "/*",
                ],
            ]
        }
    ]


def test_one_provider_per_stack_with_hardened_functions(built: Built) -> None:
    template = built[2]
    functions = resources_of(template, "AWS::Lambda::Function")
    assert len(functions) == 5  # onEvent + isComplete, and the framework's three
    ours = [f for f in functions.values() if f["Properties"]["Runtime"].startswith("python")]
    assert sorted(f["Properties"]["Handler"] for f in ours) == ["handler.entry.is_complete", "handler.entry.on_event"]
    for f in functions.values():
        props = f["Properties"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert "KmsKeyArn" in props and "LogGroup" in props["LoggingConfig"]
        assert props["ReservedConcurrentExecutions"] >= 1
    assert all(f["Properties"]["Runtime"] == "python3.14" for f in ours)
    (log_group,) = resources_of(template, "AWS::Logs::LogGroup").values()
    assert log_group["Properties"]["RetentionInDays"] == 365 and "KmsKeyId" in log_group["Properties"]
    (machine,) = resources_of(template, "AWS::StepFunctions::StateMachine").values()
    assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}
    assert machine["Properties"]["LoggingConfiguration"]["Level"] == "ALL"
    definition = json.dumps(machine["Properties"]["DefinitionString"])
    assert '\\"MaxAttempts\\":120' in definition and '\\"IntervalSeconds\\":30' in definition  # 1 hour


def test_custom_resource_carries_the_request_in_the_apis_shape(
    built: Built,
) -> None:
    template_of(built).has_resource_properties(
        "Custom::ExportJob-Personalize",
        {
            "TimeoutSeconds": "3000",
            "JobNamePrefix": Match.absent(),  # the handler derives it from the stack id
            "Request": {
                "datasetArn": DATASET,
                "ingestionMode": "PUT",
                "roleArn": {"Fn::GetAtt": [Match.string_like_regexp("ExportsPersonalizeRole"), "Arn"]},
                "jobOutput": {
                    "s3DataDestination": {
                        "path": {"Fn::Join": ["", ["s3://", {"Ref": Match.any_value()}, "/personalize/users/"]]},
                        "kmsKeyArn": {"Fn::GetAtt": [Match.string_like_regexp("ExportsKey"), "Arn"]},
                    }
                },
                "tags": [{"tagKey": "team", "tagValue": "ml"}],
            },
        },
    )


def test_attributes_are_tokens_and_role_is_exposed() -> None:
    _, stack, dest = new_stack()
    job = PersonalizeDatasetExportJob(stack, "J", dataset_arn=DATASET, destination=dest)
    for token in (job.job_arn, job.status, job.output_uri, job.job_name):
        assert cdk.Token.is_unresolved(token)
    resource = job.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    assert stack.resolve(job.status) == {"Fn::GetAtt": [stack.get_logical_id(resource), "Status"]}
    assert cdk.Token.is_unresolved(job.role.role_arn)
    assert job.prefix == "personalize/Test/J/"


def test_each_job_waits_for_its_roles_policy_the_bucket_policy_and_the_handlers_access(built: Built) -> None:
    """Personalize writes as itself under the bucket policy's grant: a job that started before
    that policy (or its role's policy) existed would fail to write; and the handler may start it
    only once its access for Personalize (a managed policy) is attached."""
    t = built[2]
    (role_policy,) = [k for k in resources_of(t, "AWS::IAM::Policy") if k.startswith("ExportsPersonalizeRole")]
    (bucket_policy,) = [
        k for k, v in resources_of(t, "AWS::S3::BucketPolicy").items() if "personalize.amazonaws.com" in json.dumps(v)
    ]
    (access,) = [k for k in resources_of(t, "AWS::IAM::ManagedPolicy") if "PersonalizeAccess" in k]
    jobs = resources_of(t, "Custom::ExportJob-Personalize")
    assert len(jobs) == 2
    for job in jobs.values():
        assert sorted(job["DependsOn"]) == sorted([role_policy, bucket_policy, access])


def test_a_users_own_role_in_the_stack_is_waited_for_whole() -> None:
    _, stack, dest = new_stack()
    role = iam.Role(stack, "Mine", assumed_by=iam.ServicePrincipal("personalize.amazonaws.com"))
    PersonalizeDatasetExportJob(stack, "J", dataset_arn=DATASET, destination=dest, role=role)
    t = Template.from_stack(stack).to_json()
    (job,) = resources_of(t, "Custom::ExportJob-Personalize").values()
    iam_resources = [*resources_of(t, "AWS::IAM::Role"), *resources_of(t, "AWS::IAM::Policy")]
    own = [k for k in iam_resources if k.startswith("Mine")]
    assert len(own) == 2  # the role and its default policy (the grants)
    assert set(own) <= set(job["DependsOn"])


@pytest.mark.parametrize("id", ["Users", "Users/2026", "ünï cödé"])
def test_the_default_prefix_follows_the_construct_path(id: str) -> None:
    """The construct derives its path instead of asking jsii: it must be the path constructs keeps."""
    _, stack, dest = new_stack()
    job = PersonalizeDatasetExportJob(Construct(stack, "Group"), id, dataset_arn=DATASET, destination=dest)
    assert job.prefix == "personalize/" + re.sub(r"[^A-Za-z0-9_./-]", "-", job.node.path) + "/"
    assert job.node.path.startswith("Test/Group/")


def test_the_jobs_logical_id_is_that_of_a_custom_resource_at_its_path() -> None:
    """Earlier versions made the job's resource with ``CustomResource`` (a ``Default`` child):
    a different logical id would make CloudFormation replace every deployed job."""
    _, stack, dest = new_stack()
    job = PersonalizeDatasetExportJob(stack, "J", dataset_arn=DATASET, destination=dest)
    resource = job.node.default_child
    assert isinstance(resource, cdk.CfnResource)

    other = cdk.Stack(cdk.App(), "Test", env=ENV)
    earlier = cdk.CustomResource(Construct(other, "J"), "Resource", service_token="arn:aws:lambda:x")
    earlier_id = other.resolve(other.get_logical_id(earlier.node.default_child))  # type: ignore[arg-type]
    assert stack.resolve(stack.get_logical_id(resource)) == earlier_id
    assert "DeletionPolicy" not in Template.from_stack(stack).to_json()["Resources"][earlier_id]


def test_construct_stack_passes_the_five_nag_packs(built: Built) -> None:
    app, stack, _ = built
    assert nag_findings(app, stack) == {}


# -- bring your own ---------------------------------------------------------------------------


def test_user_bucket_key_and_role() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Own", env=ENV)
    bucket = s3.Bucket.from_bucket_name(stack, "B", "my-exports")
    key = kms.Key.from_key_arn(
        stack, "K", "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    )
    role = iam.Role.from_role_arn(stack, "R", "arn:aws:iam::123456789012:role/my-personalize-role")
    dest = ExportDestination(stack, "Exports", bucket=bucket, encryption_key=key)
    job = PersonalizeDatasetExportJob(stack, "J", dataset_arn=DATASET, destination=dest, role=role)
    assert job.role is role
    t = Template.from_stack(stack)
    t.resource_count_is("AWS::S3::Bucket", 0)
    t.resource_count_is("AWS::KMS::Key", 1)  # the provider's own key only
    t.has_resource_properties(
        "Custom::ExportJob-Personalize",
        {
            "Request": Match.object_like(
                {
                    "roleArn": "arn:aws:iam::123456789012:role/my-personalize-role",
                    "jobOutput": {
                        "s3DataDestination": {
                            "path": "s3://my-exports/personalize/Own/J/",
                            "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
                        }
                    },
                }
            )
        },
    )
    (pass_role,) = [s for s in handler_statements(t.to_json()) if s["Action"] == "iam:PassRole"]
    assert "arn:aws:iam::123456789012:role/my-personalize-role" in pass_role["Resource"]
    warnings = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("bucket policy cannot be changed")
    )
    (warning,) = warnings  # one policy for the bucket, on the job that needs it
    assert warning.id == "/Own/J"
    text = str(warning.entry.data)
    document = json.loads(text[text.index("\n{") : text.rindex("}") + 1])
    # s3:PutObject under the prefix, s3:ListBucket on the bucket
    assert sorted(s["Action"] for s in document["Statement"]) == ["s3:ListBucket", "s3:PutObject"]
    assert all(s["Principal"] == {"Service": "personalize.amazonaws.com"} for s in document["Statement"])


def test_grant_read_covers_objects_and_key() -> None:
    _, stack, dest = new_stack()
    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    dest.grant_read(reader, "personalize/")
    statements = [
        s
        for k, p in resources_of(Template.from_stack(stack).to_json(), "AWS::IAM::Policy").items()
        if k.startswith("ReaderDefaultPolicy")
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    text = json.dumps(statements)
    assert "s3:GetObject*" in text and "/personalize/*" in text and "kms:Decrypt" in text


# -- scale ------------------------------------------------------------------------------------


def test_two_hundred_jobs_keep_every_policy_within_iam_limits() -> None:
    _, stack, dest = new_stack("Many")
    for i in range(200):
        PersonalizeDatasetExportJob(stack, f"Job{i}", dataset_arn=f"{DATASET}{i}", destination=dest)
    template = Template.from_stack(stack).to_json()
    assert len(template["Resources"]) < 500
    assert len(json.dumps(template)) < 1_000_000
    for policy in resources_of(template, "AWS::IAM::Policy").values():
        assert len(json.dumps(policy["Properties"]["PolicyDocument"], separators=(",", ":"))) < 10_240
    # The listed datasets collapse to the account's datasets, the prefixes to their folder.
    (create,) = [s for s in handler_statements(template) if "personalize:CreateDatasetExportJob" in s["Action"]]
    assert len(create["Resource"]) == 2
    for policy in resources_of(template, "AWS::S3::BucketPolicy").values():
        assert len(json.dumps(policy["Properties"]["PolicyDocument"])) < 20_480

"""RoboMakerWorldExportJob asserted on the template, and every rule of the API reference checked at synth:
just inside passes, just outside fails with a ValueError naming the construct path and the prop;
unresolved tokens pass."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Annotations, Match, Template

from export_constructs import ExportDestination
from export_constructs.robomaker import RoboMakerWorldExportJob
from export_constructs.services import ROBOMAKER

from .conftest import handler_statements, nag_findings, object_path, resources_of

ENV = cdk.Environment(account="123456789012", region="us-east-1")
WORLD = "arn:aws:robomaker:us-east-1:123456789012:world/sim-0f1e2d3c4b5a/world-"
PARTITION = {"Ref": "AWS::Partition"}
CONFUSED_DEPUTY = {
    "StringEquals": {"aws:SourceAccount": "123456789012"},
    "ArnLike": {"aws:SourceArn": {"Fn::Join": ["", ["arn:", PARTITION, ":robomaker:us-east-1:123456789012:*"]]}},
}
Built = tuple[cdk.App, cdk.Stack, dict[str, Any]]


@pytest.fixture(scope="module")
def built() -> Built:
    app = cdk.App()
    stack = cdk.Stack(app, "Test", env=ENV)
    dest = ExportDestination(stack, "Exports")
    RoboMakerWorldExportJob(
        stack,
        "Worlds",
        worlds=[WORLD + "a", WORLD + "b"],
        destination=dest,
        prefix="robomaker/worlds/",
        tags={"team": "sim", "cost-center": ""},
    )
    RoboMakerWorldExportJob(stack, "More", worlds=[WORLD + "c"], destination=dest)
    return app, stack, dict(Template.from_stack(stack).to_json())


def role_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    (role_id,) = [k for k in resources_of(template, "AWS::IAM::Role") if k.startswith("ExportsRoboMakerRole")]
    (policy,) = [
        p for p in resources_of(template, "AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def object_paths(statement: dict[str, Any]) -> list[str]:
    return [object_path(r) for r in statement["Resource"]]


def test_one_service_role_trusts_robomaker_with_confused_deputy_conditions(built: Built) -> None:
    roles = [
        r
        for r in resources_of(built[2], "AWS::IAM::Role").values()
        if "robomaker.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])
    ]
    assert len(roles) == 1
    assert roles[0]["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": CONFUSED_DEPUTY,
            "Effect": "Allow",
            "Principal": {"Service": "robomaker.amazonaws.com"},
        }
    ]
    assert roles[0]["Properties"]["Path"] == {"Fn::Join": ["", ["/export-constructs/", {"Ref": "AWS::StackName"}, "/"]]}
    assert "ManagedPolicyArns" not in roles[0]["Properties"]


def test_service_role_may_put_get_and_abort_uploads_only_under_the_prefixes(built: Built) -> None:
    statements = role_statements(built[2])
    by_action = {json.dumps(s["Action"]): s for s in statements}
    assert set(by_action) == {
        '"s3:PutObject"',
        '["s3:GetObject", "s3:AbortMultipartUpload"]',
        '["s3:ListBucket", "s3:GetBucketLocation"]',
        '["kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey"]',
    }
    for objects in ('"s3:PutObject"', '["s3:GetObject", "s3:AbortMultipartUpload"]'):
        assert object_paths(by_action[objects]) == ["/robomaker/Test/More/*", "/robomaker/worlds/*"]
    assert all(s["Resource"] != "*" for s in statements)


def test_robomaker_needs_no_bucket_or_key_policy(built: Built) -> None:
    assert "robomaker.amazonaws.com" not in json.dumps(resources_of(built[2], "AWS::S3::BucketPolicy"))
    assert "robomaker.amazonaws.com" not in json.dumps(resources_of(built[2], "AWS::KMS::Key"))


def test_handler_may_run_world_export_jobs_of_this_account_and_region_from_the_listed_worlds(built: Built) -> None:
    statements = [s for s in handler_statements(built[2]) if "robomaker" in json.dumps(s["Action"])]
    assert statements == [
        {
            "Action": [
                "robomaker:DescribeWorldExportJob",
                "robomaker:CancelWorldExportJob",
                "robomaker:TagResource",
            ],
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", ["arn:", PARTITION, ":robomaker:us-east-1:123456789012:world-export-job/*"]]},
        },
        {
            "Action": "robomaker:CreateWorldExportJob",
            "Effect": "Allow",
            "Resource": [WORLD + "a", WORLD + "b", WORLD + "c"],
        },
    ]


def test_handler_passes_only_the_stacks_roles_to_robomaker(built: Built) -> None:
    (statement,) = [s for s in handler_statements(built[2]) if s["Action"] == "iam:PassRole"]
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": ["robomaker.amazonaws.com"]}}
    assert statement["Resource"] == [
        {
            "Fn::Join": [
                "",
                ["arn:", PARTITION, ":iam::123456789012:role/export-constructs/", {"Ref": "AWS::StackName"}, "/*"],
            ]
        }
    ]


def test_custom_resource_carries_the_request_in_the_apis_shape(built: Built) -> None:
    template = Template.from_json(built[2])
    role = {"Fn::GetAtt": [Match.string_like_regexp("ExportsRoboMakerRole"), "Arn"]}
    template.has_resource_properties(
        "Custom::ExportJob-RoboMaker",
        {
            "TimeoutSeconds": "3000",
            "JobNamePrefix": Match.absent(),  # the handler derives it from the stack id
            "Request": {
                "worlds": [WORLD + "a", WORLD + "b"],
                "outputLocation": {
                    "s3Bucket": {"Ref": Match.string_like_regexp("Exports")},
                    "s3Prefix": "robomaker/worlds/",
                },
                "iamRole": role,
                "tags": {"team": "sim", "cost-center": ""},
            },
        },
    )
    template.has_resource_properties(
        "Custom::ExportJob-RoboMaker",
        {
            "Request": {
                "worlds": [WORLD + "c"],
                "outputLocation": {"s3Bucket": Match.any_value(), "s3Prefix": "robomaker/Test/More/"},
                "iamRole": role,
            },
        },
    )
    assert all("JobName" not in r["Properties"] for r in resources_of(built[2], "Custom::ExportJob-RoboMaker").values())


def test_every_job_warns_that_robomaker_support_ended(built: Built) -> None:
    _, stack, _ = built
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("support ended on 2025-09-10"))
    assert sorted(w.id for w in warnings) == ["/Test/More", "/Test/Worlds"]
    text = str(warnings[0].entry.data)
    assert ROBOMAKER.notice is not None
    assert "AWS Batch" in text and ROBOMAKER.notice.id in text


def test_attributes_are_tokens(built: Built) -> None:
    _, stack, _ = built
    job = stack.node.find_child("More")
    assert isinstance(job, RoboMakerWorldExportJob)
    for token in (job.job_arn, job.status, job.output_uri, job.job_name):
        assert cdk.Token.is_unresolved(token)
    assert job.prefix == "robomaker/Test/More/"


def test_construct_stack_passes_the_five_nag_packs(built: Built) -> None:
    app, stack, _ = built
    assert nag_findings(app, stack) == {}


def test_many_worlds_and_world_tokens_widen_to_the_accounts_worlds_and_pass_nag() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Many", env=ENV)
    dest = ExportDestination(stack, "Exports")
    for i in range(3):
        RoboMakerWorldExportJob(stack, f"Job{i}", worlds=[f"{WORLD}{i}-{w}" for w in range(10)], destination=dest)
    listed = cdk.CfnParameter(stack, "Worlds", type="CommaDelimitedList").value_as_list
    RoboMakerWorldExportJob(stack, "FromParameter", worlds=listed, destination=dest)
    template = dict(Template.from_stack(stack).to_json())
    (create,) = [s for s in handler_statements(template) if s["Action"] == "robomaker:CreateWorldExportJob"]
    assert create["Resource"] == [{"Fn::Join": ["", ["arn:", PARTITION, ":robomaker:us-east-1:123456789012:world/*"]]}]
    requests = [r["Properties"]["Request"] for r in resources_of(template, "Custom::ExportJob-RoboMaker").values()]
    assert {"Ref": "Worlds"} in [r["worlds"] for r in requests]
    assert nag_findings(app, stack) == {}


def test_worlds_may_be_a_tuple_holding_tokens() -> None:
    # worlds is a Sequence[str]: a tuple holding a token used to reach jsii, which takes only lists.
    stack = cdk.Stack(cdk.App(), "Tuple", env=ENV)
    worlds = (cdk.Fn.ref("World"), WORLD + "a")
    RoboMakerWorldExportJob(stack, "J", worlds=worlds, destination=ExportDestination(stack, "Exports"))
    template = dict(Template.from_stack(stack).to_json())
    requests = [r["Properties"]["Request"] for r in resources_of(template, "Custom::ExportJob-RoboMaker").values()]
    assert [r["worlds"] for r in requests] == [[{"Ref": "World"}, WORLD + "a"]]


def test_user_role_is_used_and_passable() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Own", env=ENV)
    dest = ExportDestination(stack, "Exports")
    role = iam.Role.from_role_arn(stack, "R", "arn:aws:iam::123456789012:role/my-robomaker-role")
    job = RoboMakerWorldExportJob(stack, "J", worlds=[WORLD + "a"], destination=dest, role=role, prefix="")
    assert job.role is role
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "Custom::ExportJob-RoboMaker",
        {
            "Request": {
                "worlds": [WORLD + "a"],
                "outputLocation": {"s3Bucket": Match.any_value()},  # no s3Prefix: it has at least 1 character
                "iamRole": "arn:aws:iam::123456789012:role/my-robomaker-role",
            }
        },
    )
    template.resource_count_is("AWS::IAM::Role", 4)  # the provider's three and the waiter's; none for RoboMaker
    (pass_role,) = [s for s in handler_statements(dict(template.to_json())) if s["Action"] == "iam:PassRole"]
    assert "arn:aws:iam::123456789012:role/my-robomaker-role" in pass_role["Resource"]


# -- validation -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scope() -> tuple[cdk.Stack, ExportDestination]:
    app = cdk.App()
    stack = cdk.Stack(app, "V", env=ENV)
    return stack, ExportDestination(stack, "Exports")


_counter = iter(range(10_000))


def make(scope: tuple[cdk.Stack, ExportDestination], **props: Any) -> RoboMakerWorldExportJob:
    stack, dest = scope
    kwargs: dict[str, Any] = {"worlds": [WORLD + "a"], "destination": dest, **props}
    return RoboMakerWorldExportJob(stack, f"J{next(_counter)}", **kwargs)


def fails(scope: tuple[cdk.Stack, ExportDestination], prop: str, **props: Any) -> str:
    with pytest.raises(ValueError) as error:
        make(scope, **props)
    message = str(error.value)
    assert message.startswith(f"{scope[0].node.path}/J"), message  # the construct path
    assert f"- {prop}" in message, message
    return message


def role(stack: cdk.Stack, arn: str) -> iam.IRole:
    return iam.Role.from_role_arn(stack, f"R{next(_counter)}", arn, mutable=False)


ROLE_HEAD = "arn:aws:iam::123456789012:role/"
CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    # prop, just inside, just outside
    ("worlds", {"worlds": [f"{WORLD}{i}" for i in range(100)]}, {"worlds": [f"{WORLD}{i}" for i in range(101)]}),
    ("worlds", {"worlds": [WORLD + "a"]}, {"worlds": []}),
    ("worlds", {"worlds": [WORLD + "a"]}, {"worlds": WORLD + "a"}),
    ("worlds[0]", {"worlds": [WORLD + "x" * (1224 - len(WORLD))]}, {"worlds": [WORLD + "x" * (1225 - len(WORLD))]}),
    ("worlds[1]", {"worlds": [WORLD + "a", WORLD + "b"]}, {"worlds": [WORLD + "a", "world/sim-1/world-a"]}),
    ("worlds[0]", {"worlds": [WORLD + "x"]}, {"worlds": [""]}),
    # The API's pattern is arn:.*; the handler's policy names each world, and IAM takes whole ARNs only.
    ("worlds[0]", {"worlds": [WORLD + "y"]}, {"worlds": ["arn:x"]}),
    ("tags", {"tags": {f"k{i}": "v" for i in range(50)}}, {"tags": {f"k{i}": "v" for i in range(51)}}),
    ("tags['", {"tags": {"k" * 128: "v"}}, {"tags": {"k" * 129: "v"}}),
    ("tags['k'] value", {"tags": {"k": "v" * 256}}, {"tags": {"k": "v" * 257}}),
    ("tags['k'] value", {"tags": {"k": ""}}, {"tags": {"k": "ml@ops"}}),
    ("tags[''] key", {"tags": {"team name": "a-z A-Z 0-9 _.-/+=:"}}, {"tags": {"": "v"}}),
    ("tags['team#'] key", {"tags": {"team": "sim"}}, {"tags": {"team#": "sim"}}),
    ("tags['AwS:team'] key", {"tags": {"awsome": "aws:x"}}, {"tags": {"AwS:team": "sim"}}),
    ("timeout", {"timeout": cdk.Duration.hours(12)}, {"timeout": cdk.Duration.seconds(43_201)}),
    ("timeout", {"timeout": cdk.Duration.minutes(1)}, {"timeout": cdk.Duration.seconds(59)}),
    ("prefix", {"prefix": "a/" * 256}, {"prefix": "a/" * 256 + "b/"}),
    ("prefix", {"prefix": "robomaker/worlds/"}, {"prefix": "/robomaker/worlds/"}),
    ("prefix", {"prefix": ""}, {"prefix": "robomaker/worlds"}),
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
        (ROLE_HEAD + "r" * (255 - len(ROLE_HEAD)), ROLE_HEAD + "r" * (256 - len(ROLE_HEAD))),
        (ROLE_HEAD + "path/to/name+=,.@-_", "arn:aws-cn:iam::123456789012:role/name"),
        (ROLE_HEAD + "name", "arn:aws:iam::123456789012:user/name"),
    ],
)
def test_role_arn_must_fit_the_api(scope: tuple[cdk.Stack, ExportDestination], inside: str, outside: str) -> None:
    make(scope, role=role(scope[0], inside))
    fails(scope, "role", role=role(scope[0], outside))


@pytest.mark.parametrize(("region", "partition"), [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")])
def test_regions_outside_the_aws_partition_fail(region: str, partition: str) -> None:
    app = cdk.App()
    ok = cdk.Stack(app, "Ok", env=cdk.Environment(region="eu-west-1"))
    here = WORLD.replace("us-east-1", "eu-west-1")
    RoboMakerWorldExportJob(ok, "J", worlds=[here + "a"], destination=ExportDestination(ok, "Exports"))
    stack = cdk.Stack(app, "Other", env=cdk.Environment(account="123456789012", region=region))
    there = WORLD.replace("arn:aws:", f"arn:{partition}:").replace("us-east-1", region)
    with pytest.raises(ValueError, match=rf"^Other/J: invalid props:\n  - region: .*{region} is in the {partition}"):
        RoboMakerWorldExportJob(stack, "J", worlds=[there + "a"], destination=ExportDestination(stack, "Exports"))


def test_every_problem_is_reported_at_once(scope: tuple[cdk.Stack, ExportDestination]) -> None:
    message = fails(scope, "worlds", worlds=["world"], tags={"aws:x": "y"}, prefix="/x/")
    assert "worlds[0]" in message and "tags" in message and "prefix" in message


def test_unresolved_tokens_pass() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Agnostic")  # no env: the Region, and so the partition, is a token
    dest = ExportDestination(stack, "Exports")
    text = cdk.CfnParameter(stack, "P").value_as_string
    listed = cdk.CfnParameter(stack, "L", type="CommaDelimitedList").value_as_list
    given = iam.Role.from_role_arn(stack, "R", text, mutable=False)
    RoboMakerWorldExportJob(stack, "A", worlds=listed, destination=dest, prefix=text, tags={"k": text}, role=given)
    RoboMakerWorldExportJob(stack, "B", worlds=[text, WORLD + "a"], destination=dest)
    template = dict(Template.from_stack(stack).to_json())
    (create,) = [s for s in handler_statements(template) if s["Action"] == "robomaker:CreateWorldExportJob"]
    any_world = {
        "Fn::Join": [
            "",
            ["arn:", PARTITION, ":robomaker:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, ":world/*"],
        ]
    }
    assert sorted(map(json.dumps, create["Resource"])) == sorted(
        map(json.dumps, [WORLD + "a", {"Ref": "P"}, any_world])
    )
    assert nag_findings(app, stack) == {}

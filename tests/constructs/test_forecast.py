"""ForecastExportJob asserted on the template, and every rule of the API reference (and of botocore's
forecast model for the nested shapes) checked at synth: just inside passes, just outside fails
with a ValueError naming the construct path and the prop; unresolved tokens pass."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from export_constructs import ExportDestination
from export_constructs.forecast import (
    FORECAST_ARN_CHARS,
    FORECAST_ARN_PATTERN,
    FORECAST_RESOURCE_PATTERN,
    JOB_NAME_PATTERN,
    KMS_KEY_ARN_PATTERN,
    ROLE_ARN_PATTERN,
    S3_PATH_PATTERN,
    TAG_PATTERN,
    ForecastExportJob,
)
from export_constructs.services import FORECAST
from tests.handler.events import load

from .conftest import handler_statements, nag_findings, object_path, resources_of

ENV = cdk.Environment(account="123456789012", region="us-east-1")
FORECAST_HEAD = "arn:aws:forecast:us-east-1:123456789012:forecast/"
DEMAND = FORECAST_HEAD + "shop_demand"
WEEKLY = FORECAST_HEAD + "shop_weekly"
PARTITION = {"Ref": "AWS::Partition"}
CONFUSED_DEPUTY = {
    "StringEquals": {"aws:SourceAccount": "123456789012"},
    "ArnLike": {"aws:SourceArn": {"Fn::Join": ["", ["arn:", PARTITION, ":forecast:us-east-1:123456789012:*"]]}},
}
STACK_PREFIX = {
    "Fn::Select": [0, {"Fn::Split": ["-", {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]}]
}
Built = tuple[cdk.App, cdk.Stack, dict[str, Any]]


@pytest.fixture(scope="module")
def built() -> Built:
    app = cdk.App()
    stack = cdk.Stack(app, "Test", env=ENV)
    dest = ExportDestination(stack, "Exports")
    ForecastExportJob(
        stack,
        "Demand",
        forecast_arn=DEMAND,
        destination=dest,
        prefix="forecast/demand/",
        format="PARQUET",
        tags={"team": "planning", "cost-center": ""},
    )
    ForecastExportJob(stack, "Weekly", forecast_arn=WEEKLY, destination=dest, job_name="weekly_export")
    return app, stack, dict(Template.from_stack(stack).to_json())


def forecast_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in handler_statements(template) if "forecast:" in json.dumps(s["Action"])]


def role_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    (role_id,) = [k for k in resources_of(template, "AWS::IAM::Role") if k.startswith("ExportsForecastRole")]
    (policy,) = [
        p for p in resources_of(template, "AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def job_arn(name: Any) -> dict[str, Any]:
    """``forecast-export-job/<name>`` as the template renders it (``name`` a list of parts)."""
    parts = name if isinstance(name, list) else [name]
    head = ["arn:", PARTITION, ":forecast:us-east-1:123456789012:forecast-export-job/"]
    return {"Fn::Join": ["", [*head[:-1], head[-1] + parts[0], *parts[1:]]]}


# -- service role -----------------------------------------------------------------------------


def test_one_service_role_trusts_forecast_with_confused_deputy_conditions(built: Built) -> None:
    roles = [
        r
        for r in resources_of(built[2], "AWS::IAM::Role").values()
        if "forecast.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])
    ]
    assert len(roles) == 1  # shared by both jobs
    assert roles[0]["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": CONFUSED_DEPUTY,
            "Effect": "Allow",
            "Principal": {"Service": "forecast.amazonaws.com"},
        }
    ]
    assert roles[0]["Properties"]["Path"] == {"Fn::Join": ["", ["/export-constructs/", {"Ref": "AWS::StackName"}, "/"]]}
    assert "ManagedPolicyArns" not in roles[0]["Properties"]


def test_service_role_may_write_and_read_only_under_the_prefixes_and_use_the_key(built: Built) -> None:
    statements = role_statements(built[2])
    by_action = {json.dumps(s["Action"]): s for s in statements}
    assert set(by_action) == {
        '"s3:PutObject"',
        '"s3:GetObject"',
        '["s3:ListBucket", "s3:GetBucketLocation"]',
        '["kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant", "kms:RetireGrant"]',
    }
    for objects in ('"s3:PutObject"', '"s3:GetObject"'):
        assert [object_path(r) for r in by_action[objects]["Resource"]] == [
            "/forecast/Test/Weekly/*",
            "/forecast/demand/*",
        ]
    listing = by_action['["s3:ListBucket", "s3:GetBucketLocation"]']["Resource"]
    assert listing["Fn::GetAtt"][0].startswith("Exports") and listing["Fn::GetAtt"][1] == "Arn"  # the bucket
    kms_statement = by_action[
        '["kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant", "kms:RetireGrant"]'
    ]
    assert kms_statement["Resource"]["Fn::GetAtt"][0].startswith("ExportsKey")
    assert all(s["Resource"] != "*" for s in statements)


def test_forecast_needs_no_bucket_or_key_policy(built: Built) -> None:
    # Forecast documents only the role's permissions: no statement for its service principal.
    assert "forecast.amazonaws.com" not in json.dumps(resources_of(built[2], "AWS::S3::BucketPolicy"))
    assert "forecast.amazonaws.com" not in json.dumps(resources_of(built[2], "AWS::KMS::Key"))


# -- handler ----------------------------------------------------------------------------------


def test_handler_may_manage_only_this_stacks_export_jobs_of_the_listed_forecasts(built: Built) -> None:
    assert forecast_statements(built[2]) == [
        {
            "Action": [
                "forecast:DescribeForecastExportJob",
                "forecast:StopResource",
                "forecast:DeleteForecastExportJob",
                "forecast:TagResource",
            ],
            "Effect": "Allow",
            "Resource": [
                # Derived names carry this stack's prefix whatever the forecast: one entry for all.
                job_arn(["*/ex", STACK_PREFIX, "_*"]),
                {
                    "Fn::Join": [
                        "",
                        [
                            "arn:",
                            PARTITION,
                            ":forecast:us-east-1:123456789012:forecast-export-job/shop_weekly/weekly_export",
                        ],
                    ]
                },
            ],
        },
        {"Action": "forecast:CreateForecastExportJob", "Effect": "Allow", "Resource": [DEMAND, WEEKLY]},
    ]


def test_handler_passes_only_the_stacks_roles_to_forecast(built: Built) -> None:
    (statement,) = [s for s in handler_statements(built[2]) if s["Action"] == "iam:PassRole"]
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": ["forecast.amazonaws.com"]}}
    assert statement["Resource"] == [
        {
            "Fn::Join": [
                "",
                ["arn:", PARTITION, ":iam::123456789012:role/export-constructs/", {"Ref": "AWS::StackName"}, "/*"],
            ]
        }
    ]


# -- the custom resource ----------------------------------------------------------------------


def test_custom_resource_carries_the_request_in_the_apis_shape(built: Built) -> None:
    template = Template.from_json(built[2])
    role = {"Fn::GetAtt": [Match.string_like_regexp("ExportsForecastRole"), "Arn"]}
    key = {"Fn::GetAtt": [Match.string_like_regexp("ExportsKey"), "Arn"]}
    template.has_resource_properties(
        "Custom::ExportJob-Forecast",
        {
            "TimeoutSeconds": "3000",
            "JobNamePrefix": Match.absent(),  # the handler derives it from the stack id
            "Request": {
                "ForecastArn": DEMAND,
                "Destination": {
                    "S3Config": {
                        "Path": {
                            "Fn::Join": [
                                "",
                                ["s3://", {"Ref": Match.string_like_regexp("Exports")}, "/forecast/demand/"],
                            ]
                        },
                        "RoleArn": role,
                        "KMSKeyArn": key,
                    }
                },
                "Format": "PARQUET",
                "Tags": [{"Key": "team", "Value": "planning"}, {"Key": "cost-center", "Value": ""}],
            },
        },
    )
    # No format given: none sent (Forecast's default applies); a given job name is passed on.
    template.has_resource_properties(
        "Custom::ExportJob-Forecast",
        {
            "JobName": "weekly_export",
            "Request": {
                "ForecastArn": WEEKLY,
                "Destination": {
                    "S3Config": {
                        "Path": {"Fn::Join": ["", ["s3://", Match.any_value(), "/forecast/Test/Weekly/"]]},
                        "RoleArn": role,
                        "KMSKeyArn": key,
                    }
                },
            },
        },
    )
    jobs = resources_of(built[2], "Custom::ExportJob-Forecast")
    assert sorted("JobName" in j["Properties"] for j in jobs.values()) == [False, True]
    assert all(
        j["DependsOn"] and any(d.startswith("ExportsForecastRole") for d in j["DependsOn"]) for j in jobs.values()
    )


def same_shape(synthesized: Any, sample: Any, path: str = "") -> None:
    """The sample event holds what CloudFormation sends for the synthesized properties: the same
    keys everywhere, lists of the same length, and the same value wherever the template has a
    literal (an intrinsic resolves to a string at deploy time)."""
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
    event = load("forecast_create")
    request = event["ResourceProperties"]["Request"]
    app = cdk.App()
    stack = cdk.Stack(app, "ExportConstructsSample", env=ENV)
    ForecastExportJob(
        stack,
        "DemandExport",
        forecast_arn=request["ForecastArn"],
        destination=ExportDestination(stack, "Exports"),
        prefix="forecast/demand/",
        format=request["Format"],
        tags={t["Key"]: t["Value"] for t in request["Tags"]},
    )
    jobs = resources_of(Template.from_stack(stack).to_json(), "Custom::ExportJob-Forecast")
    assert list(jobs) == [event["LogicalResourceId"]]
    (job,) = jobs.values()
    assert job["Type"] == event["ResourceType"]
    same_shape(job["Properties"], event["ResourceProperties"])
    assert request["Destination"]["S3Config"]["Path"].endswith("/forecast/demand/")


# -- lifecycle, attributes, nag ---------------------------------------------------------------


def test_every_job_says_forecast_is_closed_to_new_customers_as_info(built: Built) -> None:
    _, stack, _ = built
    annotations = Annotations.from_stack(stack)
    infos = annotations.find_info("*", Match.string_like_regexp("no longer available to new customers"))
    assert sorted(i.id for i in infos) == ["/Test/Demand", "/Test/Weekly"]
    text = str(infos[0].entry.data)
    assert FORECAST.notice is not None
    assert "SageMaker Canvas" in text and "July 2024" in text and FORECAST.notice.id in text
    # It is information, not a warning; and a search for something else finds nothing.
    assert annotations.find_warning("*", Match.string_like_regexp("no longer available")) == []
    assert annotations.find_info("*", Match.string_like_regexp("support ended")) == []


def test_attributes_are_tokens(built: Built) -> None:
    _, stack, _ = built
    job = stack.node.find_child("Weekly")
    assert isinstance(job, ForecastExportJob)
    for token in (job.job_arn, job.status, job.output_uri, job.job_name):
        assert cdk.Token.is_unresolved(token)
    resource = job.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    assert stack.resolve(job.output_uri) == {"Fn::GetAtt": [stack.get_logical_id(resource), "OutputUri"]}
    assert cdk.Token.is_unresolved(job.role.role_arn)
    assert job.prefix == "forecast/Test/Weekly/"


def test_construct_stack_passes_the_five_nag_packs(built: Built) -> None:
    app, stack, _ = built
    assert nag_findings(app, stack) == {}


def test_many_forecasts_collapse_to_the_accounts_forecasts_within_iam_limits_and_pass_nag() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Many", env=ENV)
    dest = ExportDestination(stack, "Exports")
    # A named job stays listed with its forecast; derived names need one entry whatever the forecasts.
    ForecastExportJob(stack, "Named", forecast_arn=DEMAND, destination=dest, job_name="named_export")
    for i in range(24):
        ForecastExportJob(stack, f"Job{i}", forecast_arn=f"{FORECAST_HEAD}f{i}", destination=dest)
    template = dict(Template.from_stack(stack).to_json())
    jobs, create = forecast_statements(template)
    assert jobs["Resource"] == [
        job_arn(["*/ex", STACK_PREFIX, "_*"]),
        job_arn("shop_demand/named_export"),
    ]
    assert create["Resource"] == [
        {"Fn::Join": ["", ["arn:", PARTITION, ":forecast:us-east-1:123456789012:forecast/*"]]}
    ]
    for policy in resources_of(template, "AWS::IAM::Policy").values():
        assert len(json.dumps(policy["Properties"]["PolicyDocument"], separators=(",", ":"))) < 10_240
    assert nag_findings(app, stack) == {}


def test_user_bucket_key_and_role() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Own", env=ENV)
    bucket = s3.Bucket.from_bucket_name(stack, "B", "my-exports")
    key_arn = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    key = kms.Key.from_key_arn(stack, "K", key_arn)
    role = iam.Role.from_role_arn(stack, "R", "arn:aws:iam::123456789012:role/my-forecast-role", mutable=False)
    dest = ExportDestination(stack, "Exports", bucket=bucket, encryption_key=key)
    job = ForecastExportJob(stack, "J", forecast_arn=DEMAND, destination=dest, role=role)
    assert job.role is role
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "Custom::ExportJob-Forecast",
        {
            "Request": {
                "ForecastArn": DEMAND,
                "Destination": {
                    "S3Config": {
                        "Path": "s3://my-exports/forecast/Own/J/",
                        "RoleArn": "arn:aws:iam::123456789012:role/my-forecast-role",
                        "KMSKeyArn": key_arn,
                    }
                },
            }
        },
    )
    template.resource_count_is("AWS::IAM::Role", 4)  # the provider's three and the waiter's; none for Forecast
    (pass_role,) = [s for s in handler_statements(dict(template.to_json())) if s["Action"] == "iam:PassRole"]
    assert "arn:aws:iam::123456789012:role/my-forecast-role" in pass_role["Resource"]
    # Forecast needs no bucket or key policy: nothing to ask the user to add.
    assert Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("cannot be changed here")) == []


# -- validation -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scope() -> tuple[cdk.Stack, ExportDestination]:
    app = cdk.App()
    stack = cdk.Stack(app, "V", env=ENV)
    return stack, ExportDestination(stack, "Exports")


_counter = iter(range(10_000))


def make(scope: tuple[cdk.Stack, ExportDestination], **props: Any) -> ForecastExportJob:
    stack, dest = scope
    kwargs: dict[str, Any] = {"forecast_arn": DEMAND, "destination": dest, **props}
    return ForecastExportJob(stack, f"J{next(_counter)}", **kwargs)


def fails(scope: tuple[cdk.Stack, ExportDestination], prop: str, why: str = "", **props: Any) -> str:
    with pytest.raises(ValueError) as error:
        make(scope, **props)
    message = str(error.value)
    assert message.startswith(f"{scope[0].node.path}/J"), message  # the construct path
    assert f"- {prop}" in message, message
    assert why in message, message
    return message


def role(stack: cdk.Stack, arn: str) -> iam.IRole:
    return iam.Role.from_role_arn(stack, f"R{next(_counter)}", arn, mutable=False)


def destination(stack: cdk.Stack, bucket_name: str = "my-exports", key_arn: str | None = None) -> ExportDestination:
    n = next(_counter)
    key = kms.Key.from_key_arn(stack, f"K{n}", key_arn) if key_arn else None
    bucket = s3.Bucket.from_bucket_name(stack, f"B{n}", bucket_name)
    return ExportDestination(stack, f"D{n}", bucket=bucket, encryption_key=key)


ROLE_HEAD = "arn:aws:iam::123456789012:role/"
KEY_HEAD = "arn:aws:kms:us-east-1:123456789012:key/"
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    # prop, what the message says, just inside, just outside
    (
        "forecast_arn",
        "at most 256",
        {"forecast_arn": FORECAST_HEAD + "f" * (256 - len(FORECAST_HEAD))},
        {"forecast_arn": FORECAST_HEAD + "f" * (257 - len(FORECAST_HEAD))},
    ),
    ("forecast_arn", FORECAST_ARN_CHARS, {"forecast_arn": DEMAND}, {"forecast_arn": DEMAND + "!"}),
    (
        "forecast_arn",
        FORECAST_ARN_PATTERN,
        {"forecast_arn": "arn:aws:forecast:us-east-1:123456789012:forecast/d"},  # the stack's partition: aws
        {"forecast_arn": "arn:aws:personalize:us-east-1:123456789012:forecast/d"},
    ),
    (
        "forecast_arn",
        FORECAST_RESOURCE_PATTERN,
        {"forecast_arn": FORECAST_HEAD + "d_2"},
        {"forecast_arn": "arn:aws:forecast:us-east-1:123456789012:predictor/d_2"},
    ),
    ("job_name", "at most 63", {"job_name": "a" * 63}, {"job_name": "a" * 64}),
    ("job_name", "at least 1", {"job_name": "a"}, {"job_name": ""}),
    ("job_name", JOB_NAME_PATTERN, {"job_name": "Demand_2"}, {"job_name": "2demand"}),
    ("job_name", JOB_NAME_PATTERN, {"job_name": "demand_export"}, {"job_name": "demand-export"}),
    ("format", "one of CSV, PARQUET", {"format": "CSV"}, {"format": "csv"}),
    ("format", "one of CSV, PARQUET", {"format": "PARQUET"}, {"format": "JSON"}),
    (
        "tags",
        "at most 50 tags",
        {"tags": {f"k{i}": "v" for i in range(50)}},
        {"tags": {f"k{i}": "v" for i in range(51)}},
    ),
    ("tags['", "at most 128", {"tags": {"k" * 128: "v"}}, {"tags": {"k" * 129: "v"}}),
    ("tags['k'] value", "at most 256", {"tags": {"k": "v" * 256}}, {"tags": {"k": "v" * 257}}),
    ("tags['k'] value", TAG_PATTERN, {"tags": {"k": "plan/ops @home+1=2:x-y_z."}}, {"tags": {"k": "ml#ops"}}),
    # \p{L}, \p{N} and \p{Z} include non-ASCII letters and separators, but no tabs or newlines.
    ("tags['a\\tb'] key", TAG_PATTERN, {"tags": {"équipe\u00a0\u2003①": "v"}}, {"tags": {"a\tb": "v"}}),
    ("tags[''] key", "at least 1", {"tags": {"k": ""}}, {"tags": {"": "v"}}),
    ("tags['AwS:team'] key", "aws:", {"tags": {"awsome": "aws:x"}}, {"tags": {"AwS:team": "planning"}}),
    (
        "timeout",
        "between 1 minute and 12 hours",
        {"timeout": cdk.Duration.hours(12)},
        {"timeout": cdk.Duration.seconds(43_201)},
    ),
    (
        "timeout",
        "between 1 minute and 12 hours",
        {"timeout": cdk.Duration.minutes(1)},
        {"timeout": cdk.Duration.seconds(59)},
    ),
    ("prefix", "at most 512", {"prefix": "a/" * 256}, {"prefix": "a/" * 256 + "b/"}),
    ("prefix", "start with", {"prefix": "forecast/demand/"}, {"prefix": "/forecast/demand/"}),
    ("prefix", "end with", {"prefix": ""}, {"prefix": "forecast/demand"}),
]


@pytest.mark.parametrize(("prop", "why", "inside", "outside"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule(
    scope: tuple[cdk.Stack, ExportDestination], prop: str, why: str, inside: dict[str, Any], outside: dict[str, Any]
) -> None:
    make(scope, **inside)
    fails(scope, prop, why, **outside)


@pytest.mark.parametrize(
    ("why", "inside", "outside"),
    [
        ("at most 256", ROLE_HEAD + "r" * (256 - len(ROLE_HEAD)), ROLE_HEAD + "r" * (257 - len(ROLE_HEAD))),
        (ROLE_ARN_PATTERN, ROLE_HEAD + "path/to/name+=,.@-_", "arn:aws:iam::123456789012:user/name"),
        (ROLE_ARN_PATTERN, "arn:aws-cn:iam::123456789012:role/name", "arn:aws:forecast:us-east-1:123456789012:role/x"),
        ("this stack's account 123456789012", ROLE_HEAD + "name", "arn:aws:iam::210987654321:role/name"),
    ],
)
def test_role_arn_must_fit_the_api(
    scope: tuple[cdk.Stack, ExportDestination], why: str, inside: str, outside: str
) -> None:
    make(scope, role=role(scope[0], inside))
    fails(scope, "role", why, role=role(scope[0], outside))


def test_output_path_must_fit_the_api_where_the_bucket_name_is_known(
    scope: tuple[cdk.Stack, ExportDestination],
) -> None:
    stack = scope[0]
    make(scope, destination=destination(stack, "my_exports"))
    make(scope, destination=destination(stack, "0exports"))
    # CDK accepts legacy names with capitals; Forecast's S3Path pattern does not.
    fails(scope, "destination", S3_PATH_PATTERN, destination=destination(stack, "My_Exports"))
    # Its 4096 characters always fit: the prefix is at most 512, a bucket name at most 63.
    make(scope, destination=destination(stack, "b" * 63), prefix="a/" * 256)


@pytest.mark.parametrize(
    ("why", "inside", "outside"),
    [
        ("at most 256", KEY_HEAD + "k" * (256 - len(KEY_HEAD)), KEY_HEAD + "k" * (257 - len(KEY_HEAD))),
        (KMS_KEY_ARN_PATTERN, KEY_HEAD + "0a1b", "arn:aws:kms:us-east-1:123456789012:alias/exports"),
    ],
)
def test_key_arn_must_fit_the_api_where_it_is_known(
    scope: tuple[cdk.Stack, ExportDestination], why: str, inside: str, outside: str
) -> None:
    stack = scope[0]
    make(scope, destination=destination(stack, key_arn=inside))
    fails(scope, "destination.encryption_key", why, destination=destination(stack, key_arn=outside))


def test_every_problem_is_reported_at_once(scope: tuple[cdk.Stack, ExportDestination]) -> None:
    message = fails(scope, "forecast_arn", forecast_arn="forecast", job_name="-", format="XML", tags={"aws:x": "y"})
    assert all(f"- {p}" in message for p in ("job_name", "format", "tags"))


def test_unresolved_tokens_pass() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Agnostic")  # no env: account and Region are tokens too
    text = cdk.CfnParameter(stack, "P").value_as_string
    bucket = s3.Bucket.from_bucket_name(stack, "B", cdk.CfnParameter(stack, "Bucket").value_as_string)
    dest = ExportDestination(stack, "Exports", bucket=bucket)
    given = iam.Role.from_role_arn(stack, "R", text, mutable=False)
    ForecastExportJob(
        stack,
        "A",
        forecast_arn=text,
        destination=dest,
        prefix=text,
        job_name=text,
        format=text,
        tags={"k": text},
        role=given,
    )
    ForecastExportJob(stack, "Other", forecast_arn=text, destination=ExportDestination(stack, "Own"))
    template = dict(Template.from_stack(stack).to_json())
    jobs, create = forecast_statements(template)
    # The forecast's name is known only at deploy time: the job ARNs take any forecast.
    assert "forecast-export-job/*/" in json.dumps(jobs["Resource"])
    assert create["Resource"] == [{"Ref": "P"}]
    assert nag_findings(app, stack) == {}


def test_more_named_jobs_than_can_be_listed_keep_their_names_on_any_forecast_and_pass_nag() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Named", env=ENV)
    dest = ExportDestination(stack, "Exports")
    for i in range(22):
        ForecastExportJob(stack, f"Job{i}", forecast_arn=f"{FORECAST_HEAD}f{i}", destination=dest, job_name=f"n{i}")
    jobs, _ = forecast_statements(dict(Template.from_stack(stack).to_json()))
    assert jobs["Resource"] == [job_arn(f"*/n{i}") for i in sorted(range(22), key=str)]
    assert nag_findings(app, stack) == {}

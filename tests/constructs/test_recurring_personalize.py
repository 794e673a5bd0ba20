"""PersonalizeDatasetExport on the template: the schedule's input (latest-only catch-up, the
export's job name prefix), the runner's least privilege, the shared Personalize role, the nag
packs, and the synth-time checks."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from export_constructs import ExportDestination, ExportSchedule, PersonalizeDatasetExport, PersonalizeDatasetExportJob

from .conftest import nag_findings, refused_by, resolved, resources_of
from .test_sample_app import cfn_lint

ENV = cdk.Environment(account="111122223333", region="eu-west-1")
USERS = "arn:aws:personalize:eu-west-1:111122223333:dataset/shop/USERS"
ITEMS = "arn:aws:personalize:eu-west-1:111122223333:dataset/shop/ITEMS"
Built = tuple[cdk.App, cdk.Stack, Mapping[str, Any], PersonalizeDatasetExport]


def build(**props: Any) -> Built:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    defaults: dict[str, Any] = {
        "dataset_arns": [USERS, ITEMS],
        "destination": ExportDestination(stack, "Dest"),
        "start": datetime(2026, 11, 1, tzinfo=UTC),
    }
    export = PersonalizeDatasetExport(stack, "Archive", **{**defaults, **props})
    return app, stack, Template.from_stack(stack).to_json(), export


@pytest.fixture(scope="module")
def built() -> Built:
    return build()


def export_of(template: Mapping[str, Any]) -> dict[str, Any]:
    (schedule,) = resources_of(template, "AWS::Scheduler::Schedule").values()
    run_input = json.loads(resolved(template, schedule["Properties"]["Target"]["Input"]))
    assert run_input["Time"] == "<aws.scheduler.scheduled-time>"
    return dict(run_input["Export"])


def run_actions(template: Mapping[str, Any]) -> dict[str, list[Any]]:
    by_action: dict[str, list[Any]] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Policy" or not logical_id.startswith("ExportJobProviderRunnerRole"):
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for action in actions:
                by_action.setdefault(action, []).extend(resolved(template, r) for r in resources)
                if action == "iam:PassRole":
                    assert statement["Condition"] == {
                        "StringEquals": {"iam:PassedToService": ["personalize.amazonaws.com"]}
                    }
    return by_action


def test_the_schedule_hands_the_run_a_full_export_caught_up_on_the_latest_period(built: Built) -> None:
    _, _, template, _ = built
    description = export_of(template)
    assert description["Service"] == "Personalize"
    assert description["Sources"] == [USERS, ITEMS]
    assert description["Catchup"] == "latest"
    assert description["SettleMs"] == 0
    assert description["Prefix"] == "personalize/{source}/{yyyy}/{MM}/{dd}/"
    assert description["Period"] == "day"
    request = description["Request"]
    assert request["ingestionMode"] == "PUT"
    assert request["roleArn"].startswith("arn:aws:iam::111122223333:role/export-constructs/S/")
    output = request["jobOutput"]["s3DataDestination"]
    assert output["path"].startswith("s3://") and output["path"].endswith("/")
    assert output["kmsKeyArn"].startswith("arn:aws:kms:eu-west-1:111122223333:key/")
    head = description["NamePrefix"]
    assert head.startswith("ex") and head.endswith("-") and len(head) == 20, head
    (schedule,) = resources_of(template, "AWS::Scheduler::Schedule").values()
    assert schedule["Properties"]["ScheduleExpression"] == "cron(0 1 * * ? *)"


def test_the_run_role_may_export_these_datasets_as_this_exports_jobs_and_no_more(built: Built) -> None:
    _, _, template, _ = built
    head = export_of(template)["NamePrefix"]
    jobs = f"arn:aws:personalize:eu-west-1:111122223333:dataset-export-job/{head}*"
    by_action = run_actions(template)
    assert sorted(by_action.pop("personalize:CreateDatasetExportJob")) == sorted([jobs, USERS, ITEMS])
    assert by_action.pop("personalize:DescribeDatasetExportJob") == [jobs]
    (passed,) = by_action.pop("iam:PassRole")
    assert passed == export_of(template)["Request"]["roleArn"]
    for action in ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "events:PutEvents"):
        assert len(by_action.pop(action)) == 1
    for action in ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"):
        assert len(by_action.pop(action)) == 1
    # No S3: Personalize writes with its own role. What remains is the provider's log group and X-Ray.
    assert set(by_action) <= {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }, by_action


def test_the_personalize_role_is_the_one_shot_jobs_shared_role_writing_under_the_fixed_folder() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    destination = ExportDestination(stack, "Dest")
    PersonalizeDatasetExportJob(stack, "Once", dataset_arn=USERS, destination=destination, prefix="once/")
    export = PersonalizeDatasetExport(stack, "Archive", dataset_arns=[USERS], destination=destination)
    template = Template.from_stack(stack).to_json()
    roles = [k for k, r in resources_of(template, "AWS::IAM::Role").items() if "personalize" in json.dumps(r)]
    assert len(roles) == 1, roles
    (trust,) = resources_of(template, "AWS::IAM::Role")[roles[0]]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert resolved(template, trust["Condition"]) == {
        "StringEquals": {"aws:SourceAccount": "111122223333"},
        "ArnLike": {"aws:SourceArn": "arn:aws:personalize:eu-west-1:111122223333:*"},
    }
    assert export.prefix_head == "personalize/"
    puts = [
        resolved(template, r)
        for k, p in resources_of(template, "AWS::IAM::Policy").items()
        if k.startswith("Dest")
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "s3:PutObject" in s["Action"]
        for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    ]
    assert sorted(p.split("/", 1)[1] for p in puts) == ["once/*", "personalize/*"], puts


def test_a_role_of_ones_own_is_passed_and_no_shared_role_made() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    role = iam.Role(stack, "Mine", assumed_by=iam.ServicePrincipal("personalize.amazonaws.com"))
    PersonalizeDatasetExport(
        stack, "Archive", dataset_arns=[USERS], destination=ExportDestination(stack, "Dest"), role=role
    )
    template = Template.from_stack(stack).to_json()
    (passed,) = run_actions(template)["iam:PassRole"]
    cfn_role = role.node.default_child
    assert isinstance(cfn_role, cdk.CfnElement)
    assert passed == resolved(template, {"Fn::GetAtt": [stack.get_logical_id(cfn_role), "Arn"]})
    assert not [k for k in resources_of(template, "AWS::IAM::Role") if k.startswith("DestPersonalizeRole")]


def test_the_five_nag_packs_find_nothing_the_library_made(built: Built) -> None:
    app, stack, _, _ = built
    findings = nag_findings(app, stack)
    assert all(not rows for rows in findings.values()), findings


def test_cfn_lint_passes_on_the_template(built: Built) -> None:
    _, _, template, _ = built
    assert cfn_lint(template) == []


def test_a_dataset_arn_that_is_a_token_passes_through() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    arn = cdk.CfnParameter(stack, "Dataset").value_as_string
    PersonalizeDatasetExport(stack, "Archive", dataset_arns=[arn], destination=ExportDestination(stack, "Dest"))
    template = Template.from_stack(stack).to_json()
    (schedule,) = resources_of(template, "AWS::Scheduler::Schedule").values()
    assert {"Ref": "Dataset"} in schedule["Properties"]["Target"]["Input"]["Fn::Join"][1]


def refused(props: Mapping[str, Any], prop: str, *words: str) -> None:
    refused_by(build, props, prop, *words)


@pytest.mark.parametrize(
    ("props", "prop", "words"),
    [
        ({"dataset_arns": []}, "dataset_arns", ("at least one",)),
        ({"dataset_arns": [USERS, USERS]}, "dataset_arns[1]", ("twice",)),
        ({"dataset_arns": ["users"]}, "dataset_arns[0]", ("Personalize dataset ARN",)),
        (
            {"dataset_arns": ["arn:aws:personalize:eu-west-1:111122223333:dataset-group/shop"]},
            "dataset_arns[0]",
            ("dataset group",),
        ),
        (
            {"dataset_arns": ["arn:aws:personalize:us-east-1:111122223333:dataset/shop/USERS"]},
            "dataset_arns[0]",
            ("us-east-1",),
        ),
        ({"dataset_arns": [f"{USERS}{i}" for i in range(101)]}, "dataset_arns", ("at most 100",)),
        ({"ingestion_mode": "SOME"}, "ingestion_mode", ("BULK",)),
        ({"prefix": "personalize/{source}/"}, "prefix", ("unknown placeholder {source}",)),
        ({"prefix": "p/" + "x" * 200 + "/{dataset}/"}, "prefix", ("256",)),
        ({"settle": cdk.Duration.days(400)}, "settle", ()),
        ({"max_windows_per_run": 0}, "max_windows_per_run", ("1 to 500",)),
        ({"start": datetime(2026, 11, 1)}, "start", ("timezone-aware",)),
        ({"schedule": ExportSchedule.daily(hour=24)}, "schedule", ("hour must be 0-23",)),
    ],
)
def test_bad_props_are_refused_naming_the_prop(props: Mapping[str, Any], prop: str, words: tuple[str, ...]) -> None:
    refused(props, prop, *words)


def test_a_role_of_another_account_is_refused() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    role = iam.Role.from_role_arn(stack, "Other", "arn:aws:iam::444455556666:role/p")
    with pytest.raises(ValueError, match=r"S/Archive: invalid props:\n(.|\n)*  - role: "):
        PersonalizeDatasetExport(
            stack, "Archive", dataset_arns=[USERS], destination=ExportDestination(stack, "Dest"), role=role
        )


def test_a_period_too_short_for_its_datasets_jobs_is_warned_of() -> None:
    def found(**props: Any) -> list[str]:
        app, stack, _, _ = build(**props)
        return [str(m.entry.data) for m in app.synth().get_stack_by_name(stack.stack_name).messages]

    arns = [f"{USERS}{i}" for i in range(30)]
    warned = found(dataset_arns=arns, schedule=ExportSchedule.hourly())
    assert any("recurring-period-too-short" in m and "30 datasets" in m for m in warned), warned
    assert not any("recurring-settle" in m or "subscriptions" in m for m in warned), warned
    assert not any("recurring-period-too-short" in m for m in found())

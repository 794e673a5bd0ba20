"""RdsSnapshotExport on the template: the rule on RDS's snapshot events and the input it hands
the run, the events role's trust, the runner's least privilege, the shared RDS role, the nag
packs, cfn-lint, and the synth-time checks."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from aws_cdk.assertions import Template

from export_constructs import ExportDestination, RdsSnapshotExport, RdsSnapshotExportJob
from export_constructs.handler.consts import RDS_SNAPSHOT_EVENTS

from .conftest import nag_findings, refused_by, resolved, resources_of
from .test_sample_app import cfn_lint

ENV = cdk.Environment(account="111122223333", region="eu-west-1")
DB = "arn:aws:rds:eu-west-1:111122223333:db:shop-db"
CLUSTER = "arn:aws:rds:eu-west-1:111122223333:cluster:shop-aurora"
Built = tuple[cdk.App, cdk.Stack, Mapping[str, Any], RdsSnapshotExport]
#: What EventBridge would put in for the rule's input paths (a made-up event).
EVENT = {
    "<detail-SourceArn>": '"arn:aws:rds:eu-west-1:111122223333:snapshot:rds:shop-db-2026-12-01-03-05"',
    "<detail-EventID>": '"RDS-EVENT-0091"',
    "<time>": '"2026-12-01T03:10:00Z"',
}


def build(**props: Any) -> Built:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    defaults: dict[str, Any] = {"sources": [DB, CLUSTER], "destination": ExportDestination(stack, "Dest")}
    export = RdsSnapshotExport(stack, "Archive", **{**defaults, **props})
    return app, stack, Template.from_stack(stack).to_json(), export


@pytest.fixture(scope="module")
def built() -> Built:
    return build()


def rule_of(template: Mapping[str, Any]) -> dict[str, Any]:
    (rule,) = resources_of(template, "AWS::Events::Rule").values()
    return dict(rule["Properties"])


def run_input(template: Mapping[str, Any]) -> dict[str, Any]:
    """The run's input for :data:`EVENT`, as EventBridge's input transformer makes it."""
    (target,) = rule_of(template)["Targets"]
    transformer = target["InputTransformer"]
    text = resolved(template, transformer["InputTemplate"])
    assert set(transformer["InputPathsMap"]) == {k.strip("<>") for k in EVENT}
    for placeholder, value in EVENT.items():
        text = text.replace(placeholder, value)
    return dict(json.loads(text))


def test_the_rule_matches_the_snapshot_created_events_of_rds_and_starts_a_run(built: Built) -> None:
    _, _, template, _ = built
    rule = rule_of(template)
    assert rule["EventPattern"] == {
        "source": ["aws.rds"],
        "detail-type": ["RDS DB Cluster Snapshot Event", "RDS DB Snapshot Event"],
        "detail": {"EventID": ["RDS-EVENT-0042", "RDS-EVENT-0075", "RDS-EVENT-0091", "RDS-EVENT-0169"]},
    }
    (target,) = rule["Targets"]
    machines = [k for k in resources_of(template, "AWS::StepFunctions::StateMachine") if "Runner" in k]
    assert target["Arn"] == {"Ref": machines[0]} and len(machines) == 1
    # What EventBridge could not deliver after its retries waits in the runner's queue.
    (queue,) = resources_of(template, "AWS::SQS::Queue")
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}
    given = run_input(template)
    assert given["Time"] == "2026-12-01T03:10:00Z"
    export = given["Export"]
    assert export["Snapshot"] == {
        "Arn": "arn:aws:rds:eu-west-1:111122223333:snapshot:rds:shop-db-2026-12-01-03-05",
        "Event": "RDS-EVENT-0091",
    }
    assert export["Service"] == "Rds" and export["Sources"] == [DB, CLUSTER]
    assert export["Prefix"] == "rds/{source}/{yyyy}/{MM}/{dd}/{snapshot}/"
    assert export["PollSeconds"] == 300 and export["TimeoutSeconds"] == 12 * 3600
    assert export["NamePrefix"].startswith("ex") and export["NamePrefix"].endswith("-")
    request = export["Request"]
    assert request["KmsKeyId"].startswith("arn:aws:kms:eu-west-1:111122223333:key/")
    assert request["IamRoleArn"].startswith("arn:aws:iam::111122223333:role/export-constructs/S/")
    assert set(request) == {"S3BucketName", "IamRoleArn", "KmsKeyId"}
    # No schedule: the runs start on events only.
    assert not resources_of(template, "AWS::Scheduler::Schedule")
    assert not [k for k in resources_of(template, "AWS::IAM::Role") if "SchedulerRole" in k]


def test_the_events_role_is_trusted_by_eventbridge_for_this_accounts_rules_only(built: Built) -> None:
    _, _, template, _ = built
    (target,) = rule_of(template)["Targets"]
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    (trust,) = resources_of(template, "AWS::IAM::Role")[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert resolved(template, trust["Condition"]) == {
        "StringEquals": {"aws:SourceAccount": "111122223333"},
        "ArnLike": {"aws:SourceArn": "arn:aws:events:eu-west-1:111122223333:rule/*"},
    }
    statements = [
        s
        for k, p in resources_of(template, "AWS::IAM::Policy").items()
        if p["Properties"]["Roles"] == [{"Ref": role_id}]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        ("states:StartExecution", target["Arn"]),
    ]


def run_actions(template: Mapping[str, Any]) -> dict[str, list[Any]]:
    by_action: dict[str, list[Any]] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Policy" or not logical_id.startswith("ExportJobProviderRunnerRole"):
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for action in actions:
                by_action.setdefault(action, []).extend(resolved(template, r) for r in resources)
                if action == "iam:PassRole":
                    assert statement["Condition"] == {
                        "StringEquals": {"iam:PassedToService": ["export.rds.amazonaws.com", "rds.amazonaws.com"]}
                    }
    return by_action


def test_the_run_role_may_read_and_export_snapshots_and_pass_the_rds_role_only(built: Built) -> None:
    _, _, template, _ = built
    snapshots = "arn:aws:rds:eu-west-1:111122223333:snapshot:*"
    clusters = "arn:aws:rds:eu-west-1:111122223333:cluster-snapshot:*"
    by_action = run_actions(template)
    assert by_action.pop("rds:DescribeDBSnapshots") == [snapshots]
    assert by_action.pop("rds:DescribeDBClusterSnapshots") == [clusters]
    assert sorted(by_action.pop("rds:StartExportTask")) == sorted([snapshots, clusters])
    assert by_action.pop("rds:DescribeExportTasks") == ["*"]
    assert by_action.pop("rds:CancelExportTask") == ["*"]
    (passed,) = by_action.pop("iam:PassRole")
    assert passed == run_input(template)["Export"]["Request"]["IamRoleArn"]
    key = run_input(template)["Export"]["Request"]["KmsKeyId"]
    assert by_action.pop("kms:CreateGrant") == [key] and by_action.pop("kms:DescribeKey") == [key]
    for action in ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "events:PutEvents"):
        assert len(by_action.pop(action)) == 1
    for action in ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"):
        assert len(by_action.pop(action)) == 1  # the ledger's key
    assert set(by_action) <= {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }


def test_the_rds_role_is_the_one_shot_jobs_shared_role_writing_under_the_fixed_folder() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    destination = ExportDestination(stack, "Dest")
    RdsSnapshotExportJob(
        stack,
        "Once",
        source_arn="arn:aws:rds:eu-west-1:111122223333:snapshot:s1",
        destination=destination,
        prefix="once/",
    )
    export = RdsSnapshotExport(stack, "Archive", sources=[DB], destination=destination, prefix="archive/{source}/")
    template = Template.from_stack(stack).to_json()
    roles = [k for k, r in resources_of(template, "AWS::IAM::Role").items() if "export.rds" in json.dumps(r)]
    assert len(roles) == 1, roles
    assert export.prefix_head == "archive/"
    grants: dict[str, list[str]] = {}
    for k, p in resources_of(template, "AWS::IAM::Policy").items():
        if not k.startswith("DestRdsRole"):
            continue
        for s in p["Properties"]["PolicyDocument"]["Statement"]:
            for action in s["Action"] if isinstance(s["Action"], list) else [s["Action"]]:
                resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
                grants.setdefault(action, []).extend(str(resolved(template, r)).split("/", 1)[-1] for r in resources)
    assert sorted(grants["s3:PutObject"]) == ["archive/*", "once/*"]
    assert sorted(grants["s3:GetObject"]) == ["archive/*", "once/*"]


def test_constructs_as_sources_narrow_the_rule_to_their_kinds() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    db = rds.DatabaseInstance(
        stack,
        "Db",
        engine=rds.DatabaseInstanceEngine.POSTGRES,
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
    )
    RdsSnapshotExport(
        stack, "Archive", sources=[db], destination=ExportDestination(stack, "Dest"), snapshot_types=["automated"]
    )
    template = Template.from_stack(stack).to_json()
    rule = rule_of(template)
    assert rule["EventPattern"]["detail-type"] == ["RDS DB Snapshot Event"]
    assert rule["EventPattern"]["detail"] == {"EventID": ["RDS-EVENT-0091"]}
    # Nor may the run read or export cluster snapshots: the export has no cluster.
    by_action = run_actions(template)
    assert by_action["rds:DescribeDBSnapshots"] == ["arn:aws:rds:eu-west-1:111122223333:snapshot:*"]
    assert "rds:DescribeDBClusterSnapshots" not in by_action
    assert by_action["rds:StartExportTask"] == ["arn:aws:rds:eu-west-1:111122223333:snapshot:*"]
    text = json.dumps(rule["Targets"][0]["InputTransformer"]["InputTemplate"])
    assert '":rds:eu-west-1:111122223333:db:' in text and stack.get_logical_id(db.node.default_child) in text  # type: ignore[arg-type]


def test_the_event_ids_are_those_of_rds_event_reference() -> None:
    # RDS's event reference: DB snapshot events 0042 (manual), 0091 (automated); DB cluster
    # snapshot events 0075 (manual), 0169 (automated).
    assert {k: v[1] for k, v in RDS_SNAPSHOT_EVENTS.items()} == {
        "RDS-EVENT-0042": False,
        "RDS-EVENT-0091": True,
        "RDS-EVENT-0075": False,
        "RDS-EVENT-0169": True,
    }


def test_the_five_nag_packs_find_nothing_the_library_made(built: Built) -> None:
    for app, stack, _, _ in (built, build(backup_jobs=True, alarm_topic=None)):
        findings = nag_findings(app, stack)
        assert all(not rows for rows in findings.values()), findings


def test_cfn_lint_passes_on_the_template(built: Built) -> None:
    _, _, template, _ = built
    assert cfn_lint(template) == []


def refused(props: Mapping[str, Any], prop: str, *words: str) -> None:
    refused_by(build, props, prop, *words)


@pytest.mark.parametrize(
    ("props", "prop", "words"),
    [
        ({"sources": []}, "sources", ("at least one",)),
        ({"sources": [DB, DB]}, "sources[1]", ("twice",)),
        (
            {"sources": [DB, DB.upper().replace("ARN:AWS:RDS:EU-WEST-1", "arn:aws:rds:eu-west-1")]},
            "sources[1]",
            ("twice",),
        ),
        ({"sources": ["shop-db"]}, "sources[0]", ("DB instance",)),
        ({"sources": ["arn:aws:rds:eu-west-1:111122223333:snapshot:s1"]}, "sources[0]", ("DB instance",)),
        ({"sources": ["arn:aws:rds:us-east-1:111122223333:db:shop-db"]}, "sources[0]", ("us-east-1",)),
        ({"sources": [f"{DB}{i}" for i in range(101)]}, "sources", ("at most 100",)),
        ({"snapshot_types": ["daily"]}, "snapshot_types", ("automated",)),
        ({"snapshot_types": []}, "snapshot_types", ("automated",)),
        ({"export_only": ["a b"]}, "export_only[0]", ()),
        ({"prefix": "rds/{log_group}/"}, "prefix", ("unknown placeholder {log_group}",)),
        ({"prefix": "{source}/"}, "prefix", ("fixed folder",)),
        ({"task_timeout": cdk.Duration.hours(30)}, "task_timeout", ()),
        ({"poll_interval": cdk.Duration.seconds(1)}, "poll_interval", ()),
    ],
)
def test_bad_props_are_refused_naming_the_prop(props: Mapping[str, Any], prop: str, words: tuple[str, ...]) -> None:
    refused(props, prop, *words)


def test_a_destination_without_a_key_is_refused() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    from aws_cdk import aws_s3 as s3

    bucket = s3.Bucket.from_bucket_name(stack, "B", "their-bucket")
    with pytest.raises(ValueError, match=r"  - destination: must have a KMS key"):
        RdsSnapshotExport(stack, "Archive", sources=[DB], destination=ExportDestination(stack, "Dest", bucket=bucket))


def test_a_role_of_another_account_is_refused() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    role = iam.Role.from_role_arn(stack, "Other", "arn:aws:iam::444455556666:role/p")
    with pytest.raises(ValueError, match=r"S/Archive: invalid props:\n(.|\n)*  - role: "):
        RdsSnapshotExport(stack, "Archive", sources=[DB], destination=ExportDestination(stack, "Dest"), role=role)


def test_an_alarm_topic_alarms_on_failed_exports_and_on_events_not_delivered() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    from aws_cdk import aws_sns as sns

    topic = sns.Topic(stack, "Topic")
    export = RdsSnapshotExport(
        stack, "Archive", sources=[DB], destination=ExportDestination(stack, "Dest"), alarm_topic=topic
    )
    template = Template.from_stack(stack).to_json()
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in resources_of(template, "AWS::CloudWatch::Alarm").values()
    }
    assert set(alarms) == {"FailedWindows", "ApproximateNumberOfMessagesVisible"}
    (queue,) = resources_of(template, "AWS::SQS::Queue")
    assert alarms["ApproximateNumberOfMessagesVisible"]["Dimensions"][0]["Value"] == {
        "Fn::GetAtt": [queue, "QueueName"]
    }
    assert export.alarm is not None and export.undelivered_alarm is not None
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": stack.get_logical_id(topic.node.default_child)}]  # type: ignore[arg-type]


def test_backup_jobs_adds_a_rule_on_the_sources_completed_backup_jobs() -> None:
    _, _, template, export = build(backup_jobs=True)
    rules = resources_of(template, "AWS::Events::Rule")
    assert len(rules) == 2 and export.backup_rule is not None
    backup_id = next(k for k in rules if k.startswith("ArchiveBackupRule"))
    rule = rules[backup_id]["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.backup"],
        "detail-type": ["Backup Job State Change"],
        "detail": {"state": ["COMPLETED"], "resourceArn": [DB, CLUSTER]},
    }
    (target,) = rule["Targets"]
    text = resolved(template, target["InputTransformer"]["InputTemplate"])
    assert target["InputTransformer"]["InputPathsMap"] == {
        "detail-backupJobId": "$.detail.backupJobId",
        "time": "$.time",
    }
    given = json.loads(text.replace("<detail-backupJobId>", '"job-1"').replace("<time>", '"2026-12-01T03:10:00Z"'))
    assert given["Export"]["Snapshot"] == {"BackupJob": "job-1", "Event": "Backup Job State Change"}
    assert run_actions(template)["backup:DescribeBackupJob"] == ["*"]
    # Without it, no AWS Backup rule and no AWS Backup permission.
    _, _, plain, _ = build()
    assert len(resources_of(plain, "AWS::Events::Rule")) == 1
    assert "backup:DescribeBackupJob" not in run_actions(plain)


def test_sources_whose_description_would_overflow_the_rules_input_are_refused() -> None:
    # EventBridge takes an input template of at most 8,192 characters (botocore's events model).
    long_names = [f"arn:aws:rds:eu-west-1:111122223333:db:db-{i:03d}-" + "x" * 45 for i in range(100)]
    refused({"sources": long_names}, "sources", "8,192", "split the 100 sources")
    _, _, template, _ = build(sources=long_names[:60])
    (target,) = rule_of(template)["Targets"]
    assert len(resolved(template, target["InputTransformer"]["InputTemplate"])) <= 8192


def test_a_run_waits_for_a_slot_what_its_24_hours_leave() -> None:
    from export_constructs.rds import queue_seconds

    assert run_input(build()[2])["Export"]["QueueSeconds"] == 24 * 3600 - 12 * 3600 - 2 * 300 - 1800
    assert queue_seconds(cdk.Duration.hours(23), cdk.Duration.minutes(30)) == 0

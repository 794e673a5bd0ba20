"""Bad input for RdsSnapshotExportJob: every rule the construct documents, just inside passes and
just outside fails with a ValueError naming the construct path, the prop and the rule; unresolved
tokens pass; all problems are reported at once; a destination without a KMS key is refused.

Oracles: StartExportTask's API reference (SourceArn: a snapshot or cluster; ExportOnly's forms;
KmsKeyId required), the Service Authorization Reference's resource types of rds:StartExportTask
(snapshot, cluster-snapshot, cluster), and RDS's identifier rule the construct keeps to for
ExportTaskIdentifier (handler/adapters/rds.py ``IDENTIFIER``: unconfirmed for export tasks)."""

from __future__ import annotations

from itertools import count
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from export_constructs import ExportDestination, RdsSnapshotExportJob
from export_constructs.handler.adapters.rds import IDENTIFIER, MAX_IDENTIFIER

ENV = cdk.Environment(account="123456789012", region="us-east-1")
HEAD = "arn:aws:rds:us-east-1:123456789012:"
SNAPSHOT = HEAD + "snapshot:shop-db"
Scope = tuple[cdk.Stack, ExportDestination]
_counter = count()


@pytest.fixture(scope="module")
def scope() -> Scope:
    app = cdk.App()
    stack = cdk.Stack(app, "V", env=ENV)
    return stack, ExportDestination(stack, "Exports")


def make(scope: Scope, **props: Any) -> RdsSnapshotExportJob:
    stack, dest = scope
    kwargs: dict[str, Any] = {"source_arn": SNAPSHOT, "destination": dest, "timeout": cdk.Duration.minutes(30), **props}
    return RdsSnapshotExportJob(stack, f"J{next(_counter)}", **kwargs)


def fails(scope: Scope, prop: str, why: str = "", **props: Any) -> str:
    with pytest.raises(ValueError) as error:
        make(scope, **props)
    message = str(error.value)
    assert message.startswith(f"{scope[0].node.path}/J"), message  # the construct path
    assert f"- {prop}" in message, message
    assert why in message, message
    return message


def role(stack: cdk.Stack, arn: str) -> iam.IRole:
    return iam.Role.from_role_arn(stack, f"R{next(_counter)}", arn, mutable=False)


CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    # prop, what the message says, just inside, just outside
    ("source_arn", "DB snapshot, DB cluster snapshot or DB cluster", {}, {"source_arn": "shop-db"}),
    (
        "source_arn",
        "a DB instance: export one of its snapshots instead",
        {"source_arn": HEAD + "cluster:shop-aurora"},
        {"source_arn": HEAD + "db:shop-db"},
    ),
    (
        "source_arn",
        "resource type 'og'",
        {"source_arn": HEAD + "cluster-snapshot:shop-aurora-1"},
        {"source_arn": HEAD + "og:default"},
    ),
    (
        "source_arn",
        "must be an RDS ARN",
        {"source_arn": HEAD + "snapshot:rds:shop-db-2026-12-01-03-05"},  # an automated snapshot
        {"source_arn": "arn:aws:ec2:us-east-1:123456789012:snapshot:snap-1"},
    ),
    ("source_arn", "the API's pattern", {"source_arn": SNAPSHOT}, {"source_arn": HEAD + "snapshot:"}),
    (
        "source_arn",
        "Region us-east-1",
        {"source_arn": SNAPSHOT},
        {"source_arn": "arn:aws:rds:eu-west-1:123456789012:snapshot:shop-db"},
    ),
    (
        "source_arn",
        "account 123456789012",
        {"source_arn": SNAPSHOT},
        {"source_arn": "arn:aws:rds:us-east-1:210987654321:snapshot:shop-db"},
    ),
    ("job_name", f"at most {MAX_IDENTIFIER}", {"job_name": "a" * MAX_IDENTIFIER}, {"job_name": "a" * 61}),
    ("job_name", "at least 1", {"job_name": "a"}, {"job_name": ""}),
    ("job_name", "only letters, digits and hyphens", {"job_name": "Orders-2026"}, {"job_name": "orders_2026"}),
    ("job_name", "start with a letter", {"job_name": "o2026"}, {"job_name": "2026-orders"}),
    ("job_name", "end with a hyphen", {"job_name": "orders-x"}, {"job_name": "orders-"}),
    ("job_name", "two hyphens in a row", {"job_name": "orders-a-b"}, {"job_name": "orders--b"}),
    ("export_only[0]", "database.schema.table", {"export_only": ["shop.public.orders"]}, {"export_only": ["a.b.c.d"]}),
    ("export_only[0]", "database.schema.table", {"export_only": ["shop"]}, {"export_only": ["shop..orders"]}),
    ("export_only[1]", "twice", {"export_only": ["shop", "shop.orders"]}, {"export_only": ["shop", "shop"]}),
    ("export_only", "at least one", {"export_only": ["shop"]}, {"export_only": []}),
    (
        "timeout",
        "between 1 minute and 12 hours",
        {"timeout": cdk.Duration.hours(12)},
        {"timeout": cdk.Duration.seconds(43_201)},
    ),
    ("prefix", "must end with '/'", {"prefix": "exports/"}, {"prefix": "exports"}),
    ("prefix", "must not start with '/'", {"prefix": ""}, {"prefix": "/exports/"}),
]


@pytest.mark.parametrize(("prop", "why", "inside", "outside"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_each_rule_just_inside_passes_and_just_outside_fails_naming_path_prop_and_rule(
    scope: Scope, prop: str, why: str, inside: dict[str, Any], outside: dict[str, Any]
) -> None:
    make(scope, **inside)
    fails(scope, prop, why, **outside)


def test_the_job_name_rule_is_the_one_the_handler_and_the_fake_keep_to(scope: Scope) -> None:
    for name in ("b", "Rule-2026-12", "b" * MAX_IDENTIFIER):
        assert IDENTIFIER.fullmatch(name)
        make(scope, job_name=name)
    for name in ("rule_1", "1rule", "rule-", "r--b", "r.b"):
        assert not IDENTIFIER.fullmatch(name)
        fails(scope, "job_name", job_name=name)


def test_a_job_name_already_taken_in_the_stack_is_refused(scope: Scope) -> None:
    make(scope, job_name="taken-once")
    fails(scope, "job_name", "must be unique", job_name="taken-once")


def test_a_destination_without_a_key_is_refused_clearly(scope: Scope) -> None:
    stack, _ = scope
    bucket = s3.Bucket.from_bucket_name(stack, f"B{next(_counter)}", "my-exports")
    keyless = ExportDestination(stack, f"D{next(_counter)}", bucket=bucket)
    message = fails(scope, "destination", "must have a KMS key", destination=keyless)
    assert "KmsKeyId is required" in message and "encryption_key" in message and keyless.node.path in message


def test_a_role_of_another_account_or_no_role_arn_is_refused(scope: Scope) -> None:
    stack, _ = scope
    make(scope, role=role(stack, "arn:aws:iam::123456789012:role/rds-export"))
    fails(scope, "role", "account 123456789012", role=role(stack, "arn:aws:iam::210987654321:role/rds-export"))
    fails(scope, "role", "an IAM role ARN", role=role(stack, "arn:aws:iam::123456789012:user/rds-export"))


def test_every_problem_is_reported_at_once(scope: Scope) -> None:
    stack, _ = scope
    bucket = s3.Bucket.from_bucket_name(stack, f"B{next(_counter)}", "my-exports")
    keyless = ExportDestination(stack, f"D{next(_counter)}", bucket=bucket)
    message = fails(
        scope,
        "source_arn",
        source_arn=HEAD + "db:shop",
        job_name="bad_name",
        export_only=["a.b.c.d"],
        destination=keyless,
        prefix="no-slash",
        timeout=cdk.Duration.seconds(30),
    )
    for prop in ("source_arn", "job_name", "export_only[0]", "destination", "prefix", "timeout"):
        assert f"- {prop}" in message, prop


def test_tokens_pass(scope: Scope) -> None:
    stack, _ = scope
    make(scope, source_arn=cdk.Token.as_string(cdk.Fn.import_value("SnapshotArn")))
    make(scope, source_arn=f"arn:{stack.partition}:rds:{stack.region}:{stack.account}:snapshot:shop-db")
    make(scope, source_arn=f"{HEAD}cluster-snapshot:{cdk.Fn.import_value('SnapshotName')}")
    make(scope, job_name=cdk.Token.as_string(cdk.Fn.import_value("JobName")))
    make(scope, export_only=cdk.Token.as_list(cdk.Fn.import_value("Tables")))
    make(scope, export_only=["shop", cdk.Fn.import_value("Table")])
    make(scope, prefix=cdk.Fn.import_value("Prefix"))
    key = kms.Key.from_key_arn(stack, f"K{next(_counter)}", cdk.Fn.import_value("KeyArn"))
    bucket = s3.Bucket.from_bucket_name(stack, f"B{next(_counter)}", cdk.Fn.import_value("Bucket"))
    make(scope, destination=ExportDestination(stack, f"D{next(_counter)}", bucket=bucket, encryption_key=key))


def test_a_token_arn_still_has_its_known_fields_checked(scope: Scope) -> None:
    stack, _ = scope
    fails(
        scope,
        "source_arn",
        "resource type 'db'",
        source_arn=f"arn:{stack.partition}:rds:{stack.region}:{stack.account}:db:x",
    )


def test_database_cluster_and_instance_arn_tokens_pass() -> None:
    """``DatabaseCluster.cluster_arn`` (resource type ``cluster``, its partition a token) is a
    StartExportTask source and passes with its known fields checked. ``DatabaseInstance``'s
    ``instance_arn`` is a token as a whole: it passes unchecked, as every token does, though RDS
    exports no DB instance (the docstring says to export one of its snapshots; a literal ``db:``
    ARN is refused, see CASES)."""
    app = cdk.App()
    stack = cdk.Stack(app, "Db", env=ENV)
    cluster = rds.DatabaseCluster.from_database_cluster_attributes(stack, "Cluster", cluster_identifier="shop-aurora")
    instance = rds.DatabaseInstance.from_database_instance_attributes(
        stack, "Instance", instance_identifier="shop-db", instance_endpoint_address="x", port=5432, security_groups=[]
    )
    dest = ExportDestination(stack, "Exports")
    for source in (cluster.cluster_arn, instance.instance_arn):
        assert cdk.Token.is_unresolved(source)
        RdsSnapshotExportJob(stack, f"J{next(_counter)}", source_arn=source, destination=dest)
    requests = [
        r["Properties"]["Request"]["SourceArn"]
        for r in Template.from_stack(stack).to_json()["Resources"].values()
        if r["Type"] == "Custom::ExportJob-Rds" and "Request" in r["Properties"]
    ]
    assert len(requests) == 2

"""The README's Python examples run as written (a new user copies them first)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from export_constructs import ExportDestination, PersonalizeDatasetExportJob
from export_constructs.services import SERVICES

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def block(starting: str) -> str:
    (found,) = [b for b in BLOCKS if b.lstrip().startswith(starting)]
    return str(found)


def run_in_stack(*codes: str, **names: Any) -> cdk.Stack:
    """Run README snippets as the body of a Stack (``self`` is the stack), in order."""
    app = cdk.App()
    stack = cdk.Stack(app, "Readme", env=cdk.Environment(account="123456789012", region="us-east-1"))
    namespace: dict[str, Any] = {"self": stack, **names}
    for code in codes:
        exec(compile(code, str(README), "exec"), namespace)
    app.synth()
    return stack


def test_every_python_block_is_run_here() -> None:
    assert len(BLOCKS) == 9, "a new README example needs a test below"


def test_the_recurring_export_example_synthesizes() -> None:
    stack = run_in_stack(block("from datetime import UTC, datetime\nfrom aws_cdk import Duration, TimeZone"))
    from export_constructs import CloudWatchLogsExport

    (export,) = [c for c in stack.node.find_all() if isinstance(c, CloudWatchLogsExport)]
    assert export.log_group_names == ["/aws/lambda/orders", "/aws/lambda/payments"]
    assert export.export_schedule is not None
    assert export.export_schedule.zone.timezone_name == "Europe/Berlin"


def test_the_snapshot_export_example_synthesizes_a_rule_for_both_kinds() -> None:
    stack = run_in_stack(block("from aws_cdk import aws_rds as rds\nfrom export_constructs import ExportDestination,"))
    from export_constructs import RdsSnapshotExport

    (export,) = [c for c in stack.node.find_all() if isinstance(c, RdsSnapshotExport)]
    assert export.source_arns[1] == "arn:aws:rds:us-east-1:123456789012:db:orders-db"
    assert export.backup_rule is not None
    assert stack.resolve(export.source_arns[0]) == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":rds:us-east-1:123456789012:cluster:shop-aurora"]]
    }
    rule = export.rule.node.default_child
    assert isinstance(rule, cdk.aws_events.CfnRule)
    pattern = stack.resolve(rule.event_pattern)
    assert pattern["detail"]["EventID"] == ["RDS-EVENT-0042", "RDS-EVENT-0075", "RDS-EVENT-0091", "RDS-EVENT-0169"]


def test_the_two_account_archive_example_synthesizes_with_the_archive_named() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(block("import aws_cdk as cdk\nfrom aws_cdk import aws_kms"), str(README), "exec"), namespace)
    assembly = namespace["app"].synth()
    source = assembly.get_stack_by_name("Source")
    messages = [str(m.entry.data) for m in source.messages]
    assert any("is the ExportArchive Archive/Archive of account 222233334444" in m for m in messages), messages
    assert not [m for m in messages if "archive-bucket-policy" in m or "does not let" in m]
    template = source.template
    assert '"ExpectedBucketOwner\\":\\"222233334444' in json.dumps(template)


def test_usage_and_attributes() -> None:
    usage = block("from aws_cdk import Duration\nfrom export_constructs import ExportDestination,")
    run_in_stack(usage, block("from aws_cdk import CfnOutput"))


def test_one_example_per_service() -> None:
    stack = run_in_stack(block("from aws_cdk import Duration\nfrom export_constructs import ("))
    types = {v["Type"] for v in cdk.assertions.Template.from_stack(stack).to_json()["Resources"].values()}
    assert {f"Custom::ExportJob-{s.name}" for s in SERVICES} <= types


def test_bring_your_own_bucket_key_and_role() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Own", env=cdk.Environment(account="123456789012", region="us-east-1"))
    names = {
        "self": stack,
        "ExportDestination": ExportDestination,
        "PersonalizeDatasetExportJob": PersonalizeDatasetExportJob,
        "my_bucket": s3.Bucket.from_bucket_name(stack, "B", "my-exports"),
        "my_key": kms.Key.from_key_arn(
            stack, "K", "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
        ),
        "my_role": iam.Role.from_role_arn(stack, "R", "arn:aws:iam::123456789012:role/my-export-role"),
    }
    exec(compile(block("dest = ExportDestination(self"), str(README), "exec"), names)
    app.synth()


def test_the_app_from_the_deploy_section_synthesizes() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(block("import aws_cdk as cdk\nfrom export_constructs import"), str(README), "exec"), namespace)
    template = namespace["app"].synth().get_stack_by_name("Exports").template
    assert "Custom::ExportJob-Personalize" in {r["Type"] for r in template["Resources"].values()}


def test_the_simulation_example_runs() -> None:
    from sample_app.app import build_app

    namespace: dict[str, Any] = {}
    exec(compile(block("from export_constructs.testing import"), str(README), "exec"), namespace)
    _, stack = build_app(cdk.App(), nag=False)
    namespace["test_exports_succeed"](stack)
    namespace["test_exports_fail_cleanly"](stack)


def test_the_node_versions_it_names_are_jsii_s_and_the_makefile_silences_20() -> None:
    """jsii supports Node.js ^22 and ^24; on 20 it prints an end-of-life banner unless
    ``JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20``, which the Makefile exports."""
    text = " ".join(README.read_text().split())
    assert "Node.js 22 and 24 are supported" in text
    assert "Node.js 20 still works" in text and "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20" in text
    makefile = (README.parent / "Makefile").read_text()
    assert "export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20" in makefile


def test_the_per_service_example_deploys_in_the_simulation_and_each_missing_source_fails_its_job() -> None:
    """Every source the README's examples name exists in the simulated account (no stack creates
    them), with every request authorized; named missing, each fails its own job with its
    service's not-found answer."""
    from export_constructs.testing import simulate

    stack = run_in_stack(block("from aws_cdk import Duration\nfrom export_constructs import ("))
    result = simulate(stack, authorize=True)
    assert result.ok, (result.failures, result.problems)
    jobs: dict[str, Any] = {}
    for step in result.steps:  # each service's first Create: its job (a long wait's Result comes later)
        if step.request_type == "Create" and step.service != "WaitCondition":
            jobs.setdefault(step.service, step)
    assert len(jobs) == 6
    sources = {
        "Personalize": "arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS",
        "Forecast": "arn:aws:forecast:us-east-1:123456789012:forecast/shop_demand",
        "Pinpoint": "0123456789abcdef0123456789abcdef",
        "RoboMaker": "arn:aws:robomaker:us-east-1:123456789012:world/sim-1/world-1",
        "Rds": "arn:aws:rds:us-east-1:123456789012:snapshot:shop-db-2026-12-01",
        "CloudWatchLogs": "/aws/lambda/orders",
    }
    for service, source in sources.items():
        failed = simulate(stack, authorize=True, missing_sources=[source], scenario={service: "success"})
        assert failed.problems == [] and not failed.ok
        job = failed.step(jobs[service].logical_id)
        assert job.status == "FAILED" and ("not exist" in job.reason or "not found" in job.reason.lower()), (
            service,
            job.reason,
        )


def test_the_tables_name_each_service_as_users_type_it() -> None:
    """The service tables use the name ``max_concurrent`` and ``simulate(scenario=...)`` take."""
    text = README.read_text()
    names = [s.name for s in SERVICES]
    assert f"| | {' | '.join(names)} |" in text
    services = text.split("## Services and their state", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^\| `(\w+)` \| `\w+` \|", services, flags=re.M) == names

"""The sample app as `make synth` builds it: cdk-nag's five packs and cfn-lint."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from .conftest import nag_findings


def test_five_nag_packs_have_no_unacknowledged_findings(sample: tuple[cdk.App, cdk.Stack]) -> None:
    app, stack = sample
    assert nag_findings(app, stack) == {}


def test_nag_check_can_fail() -> None:
    """The check above is not vacuous: a plain unlogged bucket is reported."""
    from aws_cdk import aws_s3 as s3

    app = cdk.App()
    stack = cdk.Stack(app, "Bad")
    s3.Bucket(stack, "Plain")
    findings = nag_findings(app, stack)
    assert any("AwsSolutions-S1" in row for row in findings["AwsSolutionsChecks"])


def cfn_lint(template: Mapping[str, Any]) -> list[str]:
    """cfn-lint's findings; W3005 (redundant DependsOn) is CDK-generated noise."""
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(template), config=ManualArgs(ignore_checks=["W3005"], regions=["us-east-1"]))
    return [str(m) for m in matches]


def test_cfn_lint_passes_on_the_sample_template(sample: tuple[cdk.App, cdk.Stack]) -> None:
    _, stack = sample
    assert cfn_lint(Template.from_stack(stack).to_json()) == []


def test_cfn_lint_check_can_fail() -> None:
    assert cfn_lint({"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"Nope": 1}}}}) != []


def test_sample_outputs_expose_the_job_arn_and_output_uri(sample: tuple[cdk.App, cdk.Stack]) -> None:
    _, stack = sample
    outputs = Template.from_stack(stack).to_json()["Outputs"]
    assert outputs["UsersExportJobArn"]["Value"] == {"Fn::GetAtt": ["UsersExportB5678792", "JobArn"]}
    assert outputs["UsersExportOutputUri"]["Value"] == {"Fn::GetAtt": ["UsersExportB5678792", "OutputUri"]}


def test_cloudwatch_logs_may_use_the_provider_key_only_for_this_accounts_log_groups(
    sample: tuple[cdk.App, cdk.Stack],
) -> None:
    template = Template.from_stack(sample[1]).to_json()
    (key,) = [v for k, v in template["Resources"].items() if k.startswith("ExportJobProviderKey")]
    (logs,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if "logs." in json.dumps(s.get("Principal", {}))]
    context = logs["Condition"]["StringLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert json.dumps(context).endswith(':log-group:*"]]}')
    assert sorted(logs["Action"]) == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]

"""What a user changes after adding jobs still reaches every statement: nothing the policies
list is computed while jobs are being added (a value resolved during construction is
frozen before later changes)."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk

from export_constructs import ExportDestination, ForecastExportJob, PersonalizeDatasetExportJob

ENV = cdk.Environment(account="123456789012", region="us-east-1")


def test_a_bucket_logical_id_overridden_after_the_jobs_is_the_one_the_policies_name() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Late", env=ENV)
    destination = ExportDestination(stack, "Exports")
    PersonalizeDatasetExportJob(
        stack,
        "Users",
        destination=destination,
        dataset_arn="arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS",
    )
    ForecastExportJob(
        stack, "Demand", destination=destination, forecast_arn="arn:aws:forecast:us-east-1:123456789012:forecast/f"
    )
    bucket = destination.bucket.node.default_child
    assert isinstance(bucket, cdk.CfnResource)
    bucket.override_logical_id("AdoptedExportBucket")  # e.g. to take over an existing bucket
    template = app.synth().get_stack_by_name("Late").template
    text = json.dumps(template)
    referenced = set(re.findall(r"\$\{([A-Za-z0-9]+)\.Arn\}", text))
    referenced |= {m for m in re.findall(r'"Fn::GetAtt": \["([A-Za-z0-9]+)"', text)}
    assert referenced <= set(template["Resources"]), referenced - set(template["Resources"])
    assert "${AdoptedExportBucket.Arn}/personalize/Late/Users/*" in text

"""The library does not depend on a consumer's feature flags: the sample stack is the same
where it matters, and as clean, under the defaults and under CDK's recommended flags."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from sample_app.app import build_app

from .conftest import nag_findings, resources_of
from .flags import recommended_flags


@pytest.fixture(scope="module")
def recommended() -> tuple[cdk.App, cdk.Stack]:
    return build_app(cdk.App(context=recommended_flags()), nag=False)


def test_recommended_flags_are_read_from_the_installed_library() -> None:
    flags = recommended_flags()
    assert len(flags) > 50
    assert flags["@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"] is True


def test_nag_packs_stay_clean_under_recommended_flags(recommended: tuple[cdk.App, cdk.Stack]) -> None:
    app, stack = recommended
    assert nag_findings(app, stack) == {}


def test_security_properties_do_not_depend_on_flags(
    recommended: tuple[cdk.App, cdk.Stack], sample: tuple[cdk.App, cdk.Stack]
) -> None:
    def security_view(stack: cdk.Stack) -> dict[str, object]:
        template = Template.from_stack(stack).to_json()
        buckets = resources_of(template, "AWS::S3::Bucket").values()
        roles = resources_of(template, "AWS::IAM::Role").values()
        return {
            "buckets": sorted(
                (
                    b["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicAcls"],
                    b["Properties"]["VersioningConfiguration"]["Status"],
                    b["Properties"]["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
                    "AccessControl" in b["Properties"],
                    b["DeletionPolicy"],
                )
                for b in buckets
            ),
            "trust": sorted(str(r["Properties"]["AssumeRolePolicyDocument"]) for r in roles),
            "jobs": [
                r["Properties"]
                for kind in ("Personalize", "Forecast", "Pinpoint", "RoboMaker")
                for r in resources_of(template, f"Custom::ExportJob-{kind}").values()
            ],
        }

    assert security_view(recommended[1]) == security_view(sample[1])


def test_a_long_wait_stack_synthesizes_under_recommended_flags_with_their_template_validation() -> None:
    """The recommended flags turn CDK's CloudFormation validation findings into synth errors
    (@aws-cdk/core:validateAgainstDefaultRules): the long-wait path, the tracker and wait=False
    must pass it, with all four services, and stay nag clean."""
    from export_constructs import ExportDestination, ForecastExportJob, PersonalizeDatasetExportJob

    flags = recommended_flags()
    assert flags["@aws-cdk/core:validateAgainstDefaultRules"] is True
    app = cdk.App(context=flags)
    stack = cdk.Stack(app, "LongWaitFlags", env=cdk.Environment(account="123456789012", region="us-east-1"))
    dest = ExportDestination(stack, "Exports")
    long = ForecastExportJob(
        stack,
        "Demand",
        forecast_arn="arn:aws:forecast:us-east-1:123456789012:forecast/shop_demand",
        destination=dest,
        timeout=cdk.Duration.hours(6),
    )
    quick = PersonalizeDatasetExportJob(
        stack,
        "Users",
        dataset_arn="arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS",
        destination=dest,
        wait=False,
    )
    for name, value in {"Status": long.status, "Uri": long.output_uri, "Started": quick.status}.items():
        cdk.CfnOutput(stack, name, value=value)
    app.synth()  # raises on any validation error
    assert nag_findings(app, stack) == {}


def test_the_validation_check_can_fail() -> None:
    """Under the same flags a template CloudFormation would refuse fails synth (so the test above
    proves something)."""
    app = cdk.App(context=recommended_flags())
    stack = cdk.Stack(app, "Broken")
    wait = cdk.aws_cloudformation.CfnWaitCondition(stack, "Wait", count=1, timeout="60", handle="https://example.com")
    cdk.CfnOutput(stack, "Data", value=cdk.Fn.select(1, cdk.Fn.split("|", cdk.Token.as_string(wait.attr_data))))
    with pytest.raises(Exception, match="Data"):
        app.synth()

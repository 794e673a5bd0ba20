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
            "jobs": [r["Properties"] for r in resources_of(template, "Custom::ExportJob-Personalize").values()],
        }

    assert security_view(recommended[1]) == security_view(sample[1])

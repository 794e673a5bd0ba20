"""ExportArchive: the archive account's bucket and key grant exactly the listed sources (their
accounts, Regions, services and prefixes), shown on the template and by the IAM evaluator; bad
sources are refused at synth."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from export_constructs import ArchiveSource, ExportArchive, ExportDestination, PropTypeError
from export_constructs.testing.assembly import read_assembly
from export_constructs.testing.authorize import Access, Authorizer
from export_constructs.testing.iam import shared_simulator
from export_constructs.testing.policies import AccountPolicies, Role
from export_constructs.testing.resolver import Pseudo, Resolver

from .conftest import nag_findings, resources_of
from .test_checkov import failed_checks, run_checkov
from .test_sample_app import cfn_lint

ARCHIVE, SOURCE, OTHER, THIRD = "222233334444", "111122223333", "444455556666", "999988887777"
REGION = "us-east-1"
LOGS = f"logs.{REGION}.amazonaws.com"
ACL = {"s3:x-amz-acl": "bucket-owner-full-control"}


def _archive(
    sources: list[ArchiveSource], *, account: str | None = ARCHIVE, region: str | None = REGION
) -> tuple[cdk.App, cdk.Stack, ExportArchive]:
    app = cdk.App()
    env = cdk.Environment(account=account, region=region) if account or region else None
    stack = cdk.Stack(app, "ArchiveStack", env=env)
    return app, stack, ExportArchive(stack, "Archive", sources=sources)


SOURCES = [
    ArchiveSource(account=SOURCE, region=REGION, services=("logs", "rds"), prefix="archive/a/"),
    ArchiveSource(account=OTHER, region=REGION, services=("logs",), prefix="archive/b/"),
]


@pytest.fixture(scope="module")
def built() -> tuple[cdk.App, cdk.Stack, ExportArchive]:
    return _archive(SOURCES)


@pytest.fixture(scope="module")
def policies(built: tuple[cdk.App, cdk.Stack, ExportArchive]) -> AccountPolicies:
    """The archive account's policies, resolved as deployed (the simulation's made-up names)."""
    app, _, _ = built
    assembly = app.synth()
    (stack,) = read_assembly(Path(assembly.directory))
    resolver = Resolver(stack.template, Pseudo(stack_name=stack.name, account=ARCHIVE, region=REGION))
    result = AccountPolicies(ARCHIVE, REGION, "aws")
    result.add_template(stack.resources, resolver.resolve, stack.name)
    return result


def _bucket(policies: AccountPolicies) -> str:
    (bucket,) = policies.bucket_keys  # the archive bucket: the only one encrypted with a key
    return bucket


def _logs_deputy(account: str) -> dict[str, Any]:
    return {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": f"arn:aws:logs:{REGION}:{account}:log-group:*"},
    }


def _logs_statements(account: str, bucket_arn: str, prefix: str) -> list[dict[str, Any]]:
    deputy = _logs_deputy(account)
    return [
        {
            "Action": "s3:GetBucketAcl",
            "Condition": deputy,
            "Effect": "Allow",
            "Principal": {"Service": LOGS},
            "Resource": bucket_arn,
        },
        {
            "Action": "s3:PutObject",
            "Condition": {"StringEquals": {**deputy["StringEquals"], **ACL}, "ArnLike": deputy["ArnLike"]},
            "Effect": "Allow",
            "Principal": {"Service": LOGS},
            "Resource": f"{bucket_arn}/{prefix}*",
        },
        {
            "Action": "s3:PutObject",
            "Condition": {"StringEquals": ACL},
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Resource": f"{bucket_arn}/{prefix}*",
        },
    ]


def _rds_statements(account: str, bucket_arn: str, prefix: str) -> list[dict[str, Any]]:
    root = {"AWS": f"arn:aws:iam::{account}:root"}
    return [
        {
            "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
            "Effect": "Allow",
            "Principal": root,
            "Resource": f"{bucket_arn}/{prefix}*",
        },
        # StartExportTask's role lists the bucket with no prefix documented: unconditioned.
        {"Action": "s3:ListBucket", "Effect": "Allow", "Principal": root, "Resource": bucket_arn},
    ]


def _location(account: str, bucket_arn: str) -> dict[str, Any]:
    """Every source may ask where the bucket is: RDS's role does, and the handler's owner check."""
    root = {"AWS": f"arn:aws:iam::{account}:root"}
    return {"Action": "s3:GetBucketLocation", "Effect": "Allow", "Principal": root, "Resource": bucket_arn}


def test_the_bucket_policy_grants_exactly_the_listed_sources(policies: AccountPolicies) -> None:
    bucket = _bucket(policies)
    arn = f"arn:aws:s3:::{bucket}"
    tls_only = {
        "Action": "s3:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": [arn, f"{arn}/*"],
    }
    assert policies.bucket_policies[bucket] == [
        tls_only,
        *_logs_statements(SOURCE, arn, "archive/a/"),
        *_rds_statements(SOURCE, arn, "archive/a/"),
        _location(SOURCE, arn),
        *_logs_statements(OTHER, arn, "archive/b/"),
        _location(OTHER, arn),
    ]


def test_the_key_policy_grants_exactly_the_listed_sources(policies: AccountPolicies) -> None:
    key = policies.bucket_keys[_bucket(policies)]
    root = {"AWS": f"arn:aws:iam::{SOURCE}:root"}
    logs_key = {"Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Effect": "Allow", "Principal": {"Service": LOGS}}
    assert policies.key_policies[key]["Statement"] == [
        # The account's own administration of its key (CDK's default key policy).
        {"Action": "kms:*", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ARCHIVE}:root"}, "Resource": "*"},
        {**logs_key, "Condition": _logs_deputy(SOURCE), "Resource": "*"},
        {
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            "Effect": "Allow",
            "Principal": root,
            "Resource": "*",
        },
        {
            "Action": "kms:CreateGrant",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            "Effect": "Allow",
            "Principal": root,
            "Resource": "*",
        },
        {**logs_key, "Condition": _logs_deputy(OTHER), "Resource": "*"},
    ]


def test_the_bucket_has_the_destinations_secure_defaults(built: tuple[cdk.App, cdk.Stack, ExportArchive]) -> None:
    """The archive bucket is made as ExportDestination's own: the same properties, key and log bucket."""
    _, stack, archive = built
    other = cdk.Stack(cdk.App(), "Destination", env=cdk.Environment(account=ARCHIVE, region=REGION))
    ExportDestination(other, "Archive")

    def shape(template: Any) -> dict[str, Any]:
        kinds = ("AWS::S3::Bucket", "AWS::KMS::Key")
        resources = {k: v for kind in kinds for k, v in resources_of(template, kind).items()}
        for resource in resources.values():
            resource.get("Properties", {}).pop("KeyPolicy", None)
            resource.get("Properties", {}).pop("Description", None)
        return resources

    ours = Template.from_stack(stack).to_json()
    assert shape(ours) == shape(Template.from_stack(other).to_json())
    buckets = resources_of(ours, "AWS::S3::Bucket").values()
    (bucket,) = [v["Properties"] for v in buckets if "LoggingConfiguration" in v["Properties"]]
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (key,) = resources_of(ours, "AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == bucket_deletion(ours) == "Retain"
    assert archive.archive_account == ARCHIVE
    assert isinstance(archive.bucket, s3.Bucket)
    assert archive.encryption_key.node.path == "ArchiveStack/Archive/Key"


def bucket_deletion(template: Any) -> str:
    (policy,) = {v["DeletionPolicy"] for v in resources_of(template, "AWS::S3::Bucket").values()}
    return str(policy)


def test_cdk_nag_finds_nothing(built: tuple[cdk.App, cdk.Stack, ExportArchive]) -> None:
    app, stack, _ = built
    assert nag_findings(app, stack) == {}


def test_cfn_lint_passes(built: tuple[cdk.App, cdk.Stack, ExportArchive]) -> None:
    _, stack, _ = built
    assert cfn_lint(Template.from_stack(stack).to_json()) == []


def test_checkov_fails_only_the_log_buckets_own_logging(
    built: tuple[cdk.App, cdk.Stack, ExportArchive], tmp_path: Path
) -> None:
    """As for ExportDestination's log bucket (test_checkov's pinned CKV_AWS_18): a log bucket does
    not log into itself."""
    app, stack, _ = built
    assembly = app.synth()
    report = run_checkov(Path(assembly.directory) / assembly.get_stack_by_name(stack.stack_name).template_file)
    assert report["summary"]["parsing_errors"] == 0
    assert {(c, re.sub(r"[0-9A-F]{8}$", "", r)) for c, r in failed_checks(report)} <= {
        ("CKV_AWS_18", "ArchiveAccessLogs")
    }


def test_an_environment_agnostic_archive_grants_the_sources_regions(tmp_path: Path) -> None:
    """Without a known account or Region nothing is compared with them: the grants still name the
    source's Region's Logs principal."""
    _, stack, _ = _archive(SOURCES[:1], account=None, region=None)
    template = Template.from_stack(stack).to_json()
    assert LOGS in str(resources_of(template, "AWS::S3::BucketPolicy"))
    assert cfn_lint(template) == []


# -- bad props ---------------------------------------------------------------------------------


def _source(**changes: Any) -> ArchiveSource:
    fields: dict[str, Any] = {"account": SOURCE, "region": REGION, "services": ("logs",), "prefix": "a/"}
    return ArchiveSource(**{**fields, **changes})


@pytest.mark.parametrize(
    ("sources", "prop", "words"),
    [
        ([_source(account="12345")], "sources[0].account", "12-digit account id"),
        ([_source(account="11112222333a")], "sources[0].account", "12-digit account id"),
        ([_source(region="us-east-9")], "sources[0].region", "known Region"),
        ([_source(region="eu-west-1")], "sources[0].region", "archive bucket is in us-east-1"),
        ([_source(services=("s3",))], "sources[0].services", "got 's3'"),
        ([_source(services=())], "sources[0].services", "one or more of logs, rds"),
        ([_source(services="logs")], "sources[0].services", "must be a tuple such as ('logs',)"),
        ([_source(services=("logs", "logs"))], "sources[0].services", "lists 'logs' twice"),
        ([_source(prefix="a")], "sources[0].prefix", "must end in '/'"),
        ([_source(prefix="")], "sources[0].prefix", "must end in '/'"),
        ([_source(prefix="a*/")], "sources[0].prefix", "plain folder"),
        ([_source(), _source(prefix="b/")], "sources[1]", "duplicates sources[0]"),
        ([_source(account=ARCHIVE)], "sources[0].account", "no cross-account grant is needed"),
        ([_source(), _source(account=OTHER, prefix="a/b/")], "sources[1].prefix", "overlaps sources[0].prefix"),
        ([], "sources", "at least one"),
    ],
)
def test_a_bad_source_is_refused_naming_the_construct_and_the_prop(
    sources: list[ArchiveSource], prop: str, words: str
) -> None:
    with pytest.raises(ValueError, match=r"^ArchiveStack/Archive: invalid props:") as refused:
        _archive(sources)
    lines = [line for line in str(refused.value).splitlines() if line.startswith(f"  - {prop}: ")]
    assert any(words in line for line in lines), str(refused.value)


def test_sources_whose_grants_overflow_the_bucket_policy_are_refused() -> None:
    """S3 takes a bucket policy of up to 20 KB: ten sources writing by both services fit, twelve do
    not (counted with the longest bucket name and partition), refused at synth rather than when
    CloudFormation sets the policy."""

    def sources(count: int) -> list[ArchiveSource]:
        accounts = (f"{100000000000 + i}" for i in range(count))
        return [ArchiveSource(a, REGION, ("logs", "rds"), f"archive/{a}/") for a in accounts]

    _archive(sources(10))
    with pytest.raises(ValueError, match=r"  - sources: 12 sources need a bucket policy of up to [\d,]+ bytes, over"):
        _archive(sources(12))


def test_one_account_may_write_by_two_services_under_two_prefixes() -> None:
    _, stack, _ = _archive([_source(services=("logs",), prefix="logs/"), _source(services=("rds",), prefix="rds/")])
    assert resources_of(Template.from_stack(stack).to_json(), "AWS::S3::BucketPolicy")


def test_a_source_that_is_no_archive_source_is_a_type_error() -> None:
    with pytest.raises(PropTypeError, match=r"ArchiveStack/Archive: invalid props:\n  - sources: must be a list of"):
        _archive([{"account": SOURCE}])  # type: ignore[list-item]


# -- the IAM evaluator ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def authorizer(policies: AccountPolicies) -> Authorizer:
    result = Authorizer(shared_simulator(), policies)
    assert result.problems == []  # IAM would take every policy as written
    return result


def _logs_write(account: str, bucket: str, key: str, *, principal: str = LOGS, acl: bool = True) -> Access:
    context = {"aws:SourceAccount": account, "aws:SourceArn": f"arn:aws:logs:{REGION}:{account}:log-group:app"}
    return Access(principal, "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}", {**context, **(ACL if acl else {})})


def test_the_evaluator_allows_the_listed_logs_export_and_denies_every_other(authorizer: Authorizer) -> None:
    bucket = _bucket(authorizer.policies)
    allowed = _logs_write(SOURCE, bucket, "archive/a/exportedlogs/000000.gz")
    assert authorizer.evaluate(allowed) == "Allowed", allowed
    acl_check = Access(LOGS, "s3:GetBucketAcl", f"arn:aws:s3:::{bucket}", {k: allowed.context[k] for k in _DEPUTY})
    assert authorizer.evaluate(acl_check) == "Allowed"
    key = authorizer.policies.bucket_keys[bucket]
    assert authorizer.evaluate(Access(LOGS, "kms:GenerateDataKey", key, acl_check.context)) == "Allowed"
    denied = {
        "another source account": _logs_write(THIRD, bucket, "archive/a/exportedlogs/000000.gz"),
        "a listed account under another's prefix": _logs_write(OTHER, bucket, "archive/a/exportedlogs/000000.gz"),
        "another prefix": _logs_write(SOURCE, bucket, "archive/b/exportedlogs/000000.gz"),
        "outside every prefix": _logs_write(SOURCE, bucket, "exportedlogs/000000.gz"),
        "another Region's Logs principal": _logs_write(
            SOURCE, bucket, "archive/a/exportedlogs/000000.gz", principal="logs.eu-west-1.amazonaws.com"
        ),
        "no bucket-owner-full-control ACL": _logs_write(SOURCE, bucket, "archive/a/exportedlogs/000000.gz", acl=False),
    }
    for why, access in denied.items():
        assert not authorizer.check(access, expect=False), why
    other_key_use = Access(LOGS, "kms:GenerateDataKey", key, {"aws:SourceAccount": THIRD, "aws:SourceArn": "x"})
    assert not authorizer.check(other_key_use, expect=False)
    assert authorizer.problems == []


_DEPUTY = ("aws:SourceAccount", "aws:SourceArn")


def _source_role(policies: AccountPolicies, account: str) -> str:
    """A role of a source account whose own IAM policy allows what RDS's export role does, anywhere:
    it stands in for the source account's side (cross-account access needs both accounts to allow),
    so what the evaluator decides is the archive's bucket and key policies."""
    arn = f"arn:aws:iam::{account}:role/RdsExport"
    actions = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation"]
    statement = {"Effect": "Allow", "Action": [*actions, "kms:*"], "Resource": "*"}
    policies.roles[arn] = Role(arn, None, [("SourceSide", {"Version": "2012-10-17", "Statement": [statement]})])
    return arn


def test_the_evaluator_allows_the_listed_rds_export_role_and_denies_every_other(authorizer: Authorizer) -> None:
    p = authorizer.policies
    bucket = _bucket(p)
    key = p.bucket_keys[bucket]
    role, other, third = (_source_role(p, a) for a in (SOURCE, OTHER, THIRD))
    obj = f"arn:aws:s3:::{bucket}/archive/a/snap/db/part-0.parquet"
    for access in (
        Access(role, "s3:PutObject", obj),
        Access(role, "s3:DeleteObject", obj),
        Access(role, "s3:GetBucketLocation", f"arn:aws:s3:::{bucket}"),
        Access(role, "s3:ListBucket", f"arn:aws:s3:::{bucket}"),
        Access(role, "kms:GenerateDataKey", key),
        Access(role, "kms:CreateGrant", key, {"kms:GrantIsForAWSResource": "true"}),
    ):
        assert authorizer.evaluate(access) == "Allowed", access
    denied = {
        "another prefix": Access(role, "s3:PutObject", f"arn:aws:s3:::{bucket}/archive/b/part-0.parquet"),
        "a logs-only account listing": Access(other, "s3:ListBucket", f"arn:aws:s3:::{bucket}"),
        "a listed account without rds": Access(other, "s3:PutObject", f"arn:aws:s3:::{bucket}/archive/b/x"),
        "another account": Access(third, "s3:PutObject", obj),
        "another account's key use": Access(third, "kms:GenerateDataKey", key),
        "a logs-only account's key use": Access(other, "kms:Decrypt", key),
        "a grant for no AWS resource": Access(role, "kms:CreateGrant", key, {"kms:GrantIsForAWSResource": "false"}),
        "an object ACL": Access(role, "s3:PutObjectAcl", obj),
    }
    for why, access in denied.items():
        assert not authorizer.check(access, expect=False), why
    assert authorizer.problems == []


def test_the_evaluator_needs_the_source_accounts_own_allow_too(authorizer: Authorizer) -> None:
    """The archive grants the source account (its root), which delegates to that account's IAM: none
    of its roles may write without an allow of its own, so the stand-in role's policy above is what
    the source side must give."""
    bucket = _bucket(authorizer.policies)
    bare = f"arn:aws:iam::{SOURCE}:role/NoPolicies"
    assert not authorizer.check(Access(bare, "s3:PutObject", f"arn:aws:s3:::{bucket}/archive/a/x"), expect=False)

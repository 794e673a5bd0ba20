"""An ExportArchive's stack as another account's in a simulation: its template, resolved in its own
account and Region, gives that account's policies, against which the Authorizer evaluates the
source account's requests on the archive (the source's role under its prefix only, CloudWatch
Logs' principal for the source account only); ``simulate(others=...)`` hands them to the fakes,
and S3 knows the archive's bucket as the archive account's."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from botocore.exceptions import ClientError

from export_constructs import CloudWatchLogsExport, CloudWatchLogsExportJob, ExportDestination, ExportSchedule
from export_constructs.archive import ArchiveSource, ExportArchive
from export_constructs.rds import RdsSnapshotExport
from export_constructs.testing import FakeService, accounts, fake_class, simulate
from export_constructs.testing.accounts import other_policies, other_stacks
from export_constructs.testing.authorize import Access, Authorizer
from export_constructs.testing.fakes.s3 import Bucket
from export_constructs.testing.fakes.s3 import Fake as S3Fake
from export_constructs.testing.fakes.server import ACCESS_KEY, SECRET_KEY
from export_constructs.testing.iam import shared_simulator
from export_constructs.testing.policies import AccountPolicies
from export_constructs.testing.recurring import simulate_schedule
from export_constructs.testing.simulate import _stacks_of
from export_constructs.testing.snapshots import Snapshot, simulate_snapshots

SOURCE, ARCHIVE, STRANGER = "111122223333", "222233334444", "999988887777"
REGION = "eu-west-1"
ARCHIVE_BUCKET = "central-export-archive"
PREFIX = f"logs/{SOURCE}/"
LOGS = f"logs.{REGION}.amazonaws.com"
ROLE = f"arn:aws:iam::{SOURCE}:role/exporter"
ACL = {"s3:x-amz-acl": "bucket-owner-full-control"}


def _archive_stack(app: cdk.App) -> cdk.Stack:
    stack = cdk.Stack(app, "Archive", env=cdk.Environment(account=ARCHIVE, region=REGION))
    archive = ExportArchive(
        stack, "Archive", sources=[ArchiveSource(account=SOURCE, region=REGION, services=("logs",), prefix=PREFIX)]
    )
    # The source account's stacks name the archive bucket by its name: give it one.
    bucket = archive.bucket.node.default_child
    assert isinstance(bucket, s3.CfnBucket)
    bucket.bucket_name = ARCHIVE_BUCKET
    return stack


@pytest.fixture(scope="module")
def authorizer() -> Authorizer:
    """The source account's hand-built role, which may write anywhere in the archive bucket (its
    own account's side of the grant), and the archive account's policies from its template."""
    (template,) = _stacks_of(_archive_stack(cdk.App()))
    source = AccountPolicies(SOURCE, REGION, "aws")
    write = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{ARCHIVE_BUCKET}/*"}
    export = {"Effect": "Allow", "Action": "logs:CreateExportTask", "Resource": "*"}
    trust = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [trust]},
            "Policies": [
                {"PolicyName": "Write", "PolicyDocument": {"Version": "2012-10-17", "Statement": [write, export]}}
            ],
        },
    }
    source.add_template({"Exporter": role}, lambda node: ROLE if "Fn::GetAtt" in node else node, "Source")
    return Authorizer(shared_simulator(), source, other_policies(other_stacks([template], SOURCE, REGION)))


def _object(prefix: str) -> str:
    return f"arn:aws:s3:::{ARCHIVE_BUCKET}/{prefix}export-part-00000"


def _logs_context(account: str) -> dict[str, str | list[str]]:
    return {"aws:SourceAccount": account, "aws:SourceArn": f"arn:aws:logs:{REGION}:{account}:log-group:app", **ACL}


def test_the_archives_policies_are_its_accounts_and_lint_clean(authorizer: Authorizer) -> None:
    assert list(authorizer.others) == [ARCHIVE]
    assert authorizer.bucket_account(ARCHIVE_BUCKET) == ARCHIVE
    key = authorizer.bucket_key(ARCHIVE_BUCKET)
    assert key is not None and key.startswith(f"arn:aws:kms:{REGION}:{ARCHIVE}:key/")
    assert authorizer.problems == []


def test_the_source_accounts_role_writes_under_its_prefix_only(authorizer: Authorizer) -> None:
    assert authorizer.evaluate(Access(ROLE, "s3:PutObject", _object(PREFIX), ACL)) == "Allowed"
    assert authorizer.evaluate(Access(ROLE, "s3:PutObject", _object(f"logs/{STRANGER}/"), ACL)) != "Allowed"
    # The archive's grant asks for the bucket owner's full control of what is written.
    assert authorizer.evaluate(Access(ROLE, "s3:PutObject", _object(PREFIX))) != "Allowed"


def test_cloudwatch_logs_writes_for_the_source_account_only(authorizer: Authorizer) -> None:
    assert authorizer.evaluate(Access(LOGS, "s3:PutObject", _object(PREFIX), _logs_context(SOURCE))) == "Allowed"
    assert authorizer.evaluate(Access(LOGS, "s3:PutObject", _object(PREFIX), _logs_context(STRANGER))) != "Allowed"
    key = authorizer.bucket_key(ARCHIVE_BUCKET)
    assert key is not None
    deputy = {k: v for k, v in _logs_context(SOURCE).items() if k.startswith("aws:")}
    assert authorizer.evaluate(Access(LOGS, "kms:GenerateDataKey", key, deputy)) == "Allowed"


def test_the_logs_fake_lets_the_caller_write_into_the_archive_with_the_owners_acl(
    authorizer: Authorizer, aws_env: None
) -> None:
    """CreateExportTask into the archive: Logs checks the caller may put objects there, with the
    ACL its writes carry, which the archive's bucket policy requires of the source account."""
    authorizer.sessions["exporter-session"] = ROLE
    with fake_class("CloudWatchLogs")(region=REGION, account=SOURCE) as fake:
        fake.authorizer = authorizer
        api = boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, aws_session_token="exporter-session"
        ).client("logs", region_name=REGION, endpoint_url=fake.url)
        window = {"logGroupName": "app", "fromTime": 0, "to": 3_600_000}
        assert api.create_export_task(**window, destination=ARCHIVE_BUCKET, destinationPrefix=f"logs/{SOURCE}")[
            "taskId"
        ]
        with pytest.raises(ClientError) as refused:
            api.create_export_task(**window, destination=ARCHIVE_BUCKET, destinationPrefix=f"logs/{STRANGER}")
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
        assert fake.problems == []
    assert authorizer.problems == [
        f"IAM: {ROLE} s3:PutObject on {_object(f'logs/{STRANGER}/')} with {ACL}: denied (ImplicitlyDenied)"
    ]
    authorizer.problems.clear()


def _source_stack(app: cdk.App) -> cdk.Stack:
    stack = cdk.Stack(app, "Source", env=cdk.Environment(account=SOURCE, region=REGION))
    group = logs.LogGroup(stack, "App", removal_policy=cdk.RemovalPolicy.DESTROY)
    CloudWatchLogsExportJob(
        stack, "Export", log_group=group, destination=ExportDestination(stack, "Exports"), window=cdk.Duration.hours(1)
    )
    return stack


def test_simulate_takes_the_archive_stack_as_another_accounts() -> None:
    """The source stack exports into its own bucket (the cross-account export is the construct
    side's): the archive's stack is taken in, S3 knows both accounts' buckets, and the Logs
    fake's service-side authorization of a task into the archive finds the archive's bucket and
    key policies: allowed under the source's prefix, denied elsewhere."""
    app = cdk.App()
    source, archive = _source_stack(app), _archive_stack(app)
    seen: dict[str, Any] = {}

    def look(fakes: Mapping[str, FakeService]) -> None:
        s3_fake = fakes["S3"]
        assert isinstance(s3_fake, S3Fake)
        seen["buckets"] = dict(s3_fake.buckets)
        seen["others"] = list(s3_fake.authorizer.others)
        group = f"arn:aws:logs:{REGION}:{SOURCE}:log-group:app"
        into = fakes["CloudWatchLogs"].authorize_job
        seen["allowed"] = into(None, source_arn=group, s3_path=f"s3://{ARCHIVE_BUCKET}/{PREFIX}app/")
        seen["denied"] = into(None, source_arn=group, s3_path=f"s3://{ARCHIVE_BUCKET}/logs/{STRANGER}/app/")

    result = simulate(source, others=[archive], authorize=True, before_delete=look)
    assert seen["others"] == [ARCHIVE]
    assert seen["buckets"][ARCHIVE_BUCKET] == Bucket(ARCHIVE_BUCKET, ARCHIVE, REGION)
    owners = {b.account for name, b in seen["buckets"].items() if name != ARCHIVE_BUCKET}
    assert owners == {SOURCE, ARCHIVE}  # the source's destination and log buckets, the archive's log bucket
    assert seen["allowed"] == ""
    assert seen["denied"] == f"Access Denied: {LOGS} may not s3:PutObject {_object(f'logs/{STRANGER}/app/')}"
    # The one denial is the one asked for; everything the deployment did was allowed.
    assert [p for p in result.problems if STRANGER not in p] == []
    assert all(s.status == "SUCCESS" for s in result.steps)


def test_another_accounts_stack_needs_an_account_of_its_own() -> None:
    app = cdk.App()
    source = _source_stack(app)
    agnostic = cdk.Stack(app, "Agnostic")
    s3.Bucket(agnostic, "Bucket")
    same = cdk.Stack(app, "Same", env=cdk.Environment(account=SOURCE, region=REGION))
    s3.Bucket(same, "Bucket")
    with pytest.raises(ValueError, match="has no account"):
        simulate(source, others=[agnostic])
    with pytest.raises(ValueError, match="of the simulated account"):
        simulate(source, others=[same])


@pytest.fixture
def s3_fakes(monkeypatch: pytest.MonkeyPatch) -> list[S3Fake]:
    """The S3 fakes the runs' world starts, as they were started."""
    from export_constructs.testing import _runs

    started: list[S3Fake] = []

    def start_s3(*args: Any, **kwargs: Any) -> S3Fake:
        started.append(accounts.start_s3(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(_runs, "start_s3", start_s3)
    return started


def _assert_the_archive_is_known(s3_fakes: list[S3Fake]) -> None:
    (fake,) = s3_fakes
    assert fake.buckets[ARCHIVE_BUCKET] == Bucket(ARCHIVE_BUCKET, ARCHIVE, REGION)
    assert list(fake.authorizer.others) == [ARCHIVE]


def test_simulate_schedule_takes_the_archive_as_another_accounts(s3_fakes: list[S3Fake]) -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Recurring", env=cdk.Environment(account=SOURCE, region=REGION))
    first = datetime(2026, 11, 1, tzinfo=UTC)
    CloudWatchLogsExport(
        stack,
        "Nightly",
        log_groups=["/aws/lambda/orders"],
        destination=ExportDestination(stack, "Dest"),
        schedule=ExportSchedule.daily(hour=13),
        start=first,
    )
    (archive,) = _stacks_of(_archive_stack(cdk.App()))
    result = simulate_schedule(stack, start=first + timedelta(days=1), periods=1, authorize=True, others=[archive])
    assert result.problems == []
    _assert_the_archive_is_known(s3_fakes)


def test_simulate_snapshots_takes_the_archive_as_another_accounts(s3_fakes: list[S3Fake]) -> None:
    stack = cdk.Stack(cdk.App(), "Snapshots", env=cdk.Environment(account=SOURCE, region=REGION))
    db = f"arn:aws:rds:{REGION}:{SOURCE}:db:shop-db"
    RdsSnapshotExport(stack, "Nightly", sources=[db], destination=ExportDestination(stack, "Dest"))
    night = datetime(2026, 12, 1, 3, 5, tzinfo=UTC)
    other = Snapshot.automated_of(f"arn:aws:rds:{REGION}:{SOURCE}:db:analytics", night)
    result = simulate_snapshots(
        stack, start=night, snapshots=[other], authorize=True, others=[_archive_stack(cdk.App())]
    )
    assert result.problems == []
    _assert_the_archive_is_known(s3_fakes)

"""A central archive end to end: the archive account's stack (``ExportArchive``, 222233334444) and
a source account's stack (111122223333, same Region) whose CloudWatch Logs and RDS exports -
one-shot, scheduled and on each new snapshot - write into it through an ``ExportDestination`` of
the archive's bucket and key. Every request and every access of the services is evaluated against
both accounts' policies (the source's identity policies, the archive's bucket and key policies);
the handler confirms the bucket's owner before each start. The denials that must hold: another
source account, another prefix, a bucket of a third account, a bucket whose owner is not the one
named."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from export_constructs import (
    ArchiveSource,
    CloudWatchLogsExport,
    CloudWatchLogsExportJob,
    ExportArchive,
    ExportDestination,
    ExportSchedule,
    RdsSnapshotExport,
    RdsSnapshotExportJob,
)
from export_constructs.testing import simulate
from export_constructs.testing.accounts import other_stacks
from export_constructs.testing.assembly import StackTemplate
from export_constructs.testing.recurring import simulate_schedule
from export_constructs.testing.simulate import _stacks_of
from export_constructs.testing.snapshots import Snapshot, simulate_snapshots

SOURCE, ARCHIVE, OTHER, THIRD = "111122223333", "222233334444", "444455556666", "999988887777"
REGION = "eu-west-1"
BUCKET, THIRD_BUCKET = "org-export-archive", "third-party-archive"
DB = f"arn:aws:rds:{REGION}:{SOURCE}:db:orders"
FIRST = datetime(2026, 12, 1, tzinfo=UTC)


def _archive(account: str, bucket: str, sources: list[ArchiveSource]) -> tuple[StackTemplate, str]:
    """An archive account's stack, synthesized, and its key's ARN as the simulation names it."""
    stack = cdk.Stack(cdk.App(), f"Archive{account}", env=cdk.Environment(account=account, region=REGION))
    archive = ExportArchive(stack, "Archive", bucket_name=bucket, sources=sources)
    (template,) = _stacks_of(stack)
    (resolved,) = other_stacks([template], SOURCE, REGION)
    key = stack.get_logical_id(archive.encryption_key.node.default_child)  # type: ignore[arg-type]
    return template, str(resolved.resolver.resolve({"Fn::GetAtt": [key, "Arn"]}))


@pytest.fixture(scope="module")
def archive() -> tuple[StackTemplate, str]:
    return _archive(
        ARCHIVE,
        BUCKET,
        [
            ArchiveSource(account=SOURCE, region=REGION, services=("logs",), prefix=f"logs/{SOURCE}/"),
            ArchiveSource(account=SOURCE, region=REGION, services=("rds",), prefix=f"rds/{SOURCE}/"),
        ],
    )


def _source(
    key_arn: str, *, account: str = SOURCE, owner: str = ARCHIVE, bucket: str = BUCKET
) -> tuple[cdk.Stack, ExportDestination]:
    stack = cdk.Stack(cdk.App(), "Source", env=cdk.Environment(account=account, region=REGION))
    imported = s3.Bucket.from_bucket_attributes(
        stack, "ArchiveBucket", bucket_name=bucket, account=owner, region=REGION
    )
    key = kms.Key.from_key_arn(stack, "ArchiveKey", key_arn)
    return stack, ExportDestination(stack, "Archive", bucket=imported, encryption_key=key)


def _one_shots(stack: cdk.Stack, destination: ExportDestination, prefix: str = f"logs/{SOURCE}/once/") -> None:
    CloudWatchLogsExportJob(
        stack, "Logs", log_group="/app/orders", destination=destination, prefix=prefix, window=cdk.Duration.days(1)
    )


def _nightly(stack: cdk.Stack, destination: ExportDestination) -> None:
    """A nightly export of one log group, each day's window exported at 02:00 (an hour settled)."""
    CloudWatchLogsExport(
        stack,
        "Nightly",
        log_groups=["/app/orders"],
        destination=destination,
        schedule=ExportSchedule.daily(hour=2),
        start=FIRST,
        settle=cdk.Duration.hours(1),
        prefix=f"logs/{SOURCE}/{{log_group}}/{{yyyy}}/{{MM}}/{{dd}}/",
    )


def _denied(problems: list[str]) -> list[str]:
    return [p for p in problems if p.startswith("IAM:")]


def test_one_shot_logs_and_rds_exports_write_into_the_archive_authorized_by_both_accounts(
    archive: tuple[StackTemplate, str],
) -> None:
    template, key_arn = archive
    stack, destination = _source(key_arn)
    _one_shots(stack, destination)
    RdsSnapshotExportJob(
        stack,
        "Snapshot",
        source_arn=f"arn:aws:rds:{REGION}:{SOURCE}:snapshot:rds:orders-2026-12-01",
        destination=destination,
        prefix=f"rds/{SOURCE}/once/",
        timeout=cdk.Duration.minutes(50),
    )
    result = simulate(stack, others=[template], authorize=True)
    assert result.problems == []
    creates = [s for s in result.steps if s.request_type == "Create"]
    assert {s.service for s in creates} == {"CloudWatchLogs", "Rds"}
    assert all(s.status == "SUCCESS" for s in result.steps), result.steps
    assert {s.data["OutputUri"] for s in creates} == {
        f"s3://{BUCKET}/logs/{SOURCE}/once/",
        f"s3://{BUCKET}/rds/{SOURCE}/once/",
    }
    # The owner was asked before each start, with the archive's account.
    owners = [c.params for c in result.calls if c.operation == "GetBucketLocation"]
    assert owners == [{"Bucket": BUCKET, "ExpectedBucketOwner": ARCHIVE}] * 2
    assert "0 denied" in result.authorization


def test_nightly_logs_windows_are_exported_into_the_archive(archive: tuple[StackTemplate, str]) -> None:
    template, key_arn = archive
    stack, destination = _source(key_arn)
    _nightly(stack, destination)
    result = simulate_schedule(
        stack, start=datetime(2026, 12, 2, tzinfo=UTC), periods=2, authorize=True, others=[template]
    )
    assert result.problems == []
    exported = result.exported()
    assert [w.prefix for w in exported] == [f"logs/{SOURCE}/app/orders/2026/12/0{d}" for d in (1, 2)]
    assert all(status == "COMPLETED" for w in exported for _, status in w.tasks)


def test_each_new_snapshot_is_exported_into_the_archive(archive: tuple[StackTemplate, str]) -> None:
    template, key_arn = archive
    stack, destination = _source(key_arn)
    RdsSnapshotExport(stack, "Snapshots", sources=[DB], destination=destination, prefix=f"rds/{SOURCE}/{{source}}/")
    night = datetime(2026, 12, 1, 3, 5, tzinfo=UTC)
    snapshot = Snapshot.automated_of(DB, night)
    result = simulate_snapshots(stack, start=night, snapshots=[snapshot], authorize=True, others=[template])
    assert result.problems == []
    assert [status for _, status in result.tasks(snapshot)] == ["COMPLETE"]


# -- what must be denied ----------------------------------------------------------------------


def _failed_create(result: Any) -> str:
    (failed,) = [s for s in result.steps if s.request_type == "Create" and s.status == "FAILED"]
    return str(failed.reason)


def test_another_source_account_is_denied(archive: tuple[StackTemplate, str]) -> None:
    template, key_arn = archive
    stack, destination = _source(key_arn, account=OTHER)
    _one_shots(stack, destination, prefix=f"logs/{SOURCE}/once/")
    result = simulate(stack, others=[template], authorize=True, account=OTHER)
    # The owner check is the first request into the archive: its policy names no other account.
    assert f"S3 refused to confirm that the bucket {BUCKET} is owned by account {ARCHIVE}" in _failed_create(result)
    (denial,) = _denied(result.problems)
    assert f"arn:aws:iam::{OTHER}:role/" in denial and "s3:GetBucketLocation" in denial
    assert not [c for c in result.calls if c.operation == "CreateExportTask"]


def test_another_prefix_is_denied(archive: tuple[StackTemplate, str]) -> None:
    template, key_arn = archive
    stack, destination = _source(key_arn)
    _one_shots(stack, destination, prefix=f"logs/{OTHER}/once/")
    result = simulate(stack, others=[template], authorize=True)
    reason = _failed_create(result)
    assert "s3:PutObject" in reason and f"logs/{OTHER}/once" in reason
    assert _denied(result.problems) and all(f"{BUCKET}/logs/{OTHER}/" in p for p in _denied(result.problems))


def test_a_bucket_of_a_third_account_is_denied() -> None:
    third, key_arn = _archive(
        THIRD, THIRD_BUCKET, [ArchiveSource(account=OTHER, region=REGION, services=("logs",), prefix="logs/")]
    )
    stack, destination = _source(key_arn, owner=THIRD, bucket=THIRD_BUCKET)
    _one_shots(stack, destination)
    result = simulate(stack, others=[third], authorize=True)
    assert f"is owned by account {THIRD}" in _failed_create(result)
    assert all(THIRD_BUCKET in p for p in _denied(result.problems)) and _denied(result.problems)
    assert not [c for c in result.calls if c.operation == "CreateExportTask"]


def test_a_bucket_owned_by_another_account_than_named_is_refused_and_nothing_starts() -> None:
    """The source names the archive's account, but the bucket of that name is a third account's
    (a name taken by someone else): S3 refuses GetBucketLocation for the owner before IAM is asked."""
    third, key_arn = _archive(
        THIRD, BUCKET, [ArchiveSource(account=SOURCE, region=REGION, services=("logs",), prefix=f"logs/{SOURCE}/")]
    )
    stack, destination = _source(key_arn.replace(THIRD, ARCHIVE))
    _nightly(stack, destination)
    result = simulate_schedule(
        stack, start=datetime(2026, 12, 2, tzinfo=UTC), periods=1, authorize=True, others=[third]
    )
    assert result.problems == []  # nothing was denied by IAM: S3 refused the owner
    assert not [c for c in result.calls if c.operation == "CreateExportTask"]
    (failed,) = [e.detail for e in result.events if e.detail_type == "Export Window Failed"]
    assert f"is owned by account {ARCHIVE}" in failed["reason"] and "No export was started" in failed["reason"]


def _bare_archive(statements: list[dict[str, Any]]) -> cdk.Stack:
    """An archive bucket of another account that no ExportArchive manages (SSE-S3, TLS only), its
    owner having pasted ``statements`` into its bucket policy by hand."""
    bare = cdk.Stack(cdk.App(), "BareArchive", env=cdk.Environment(account=ARCHIVE, region=REGION))
    bucket = s3.Bucket(bare, "Bucket", bucket_name=BUCKET, encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True)
    for statement in statements:
        bucket.add_to_resource_policy(iam.PolicyStatement.from_json(statement))
    return bare


def test_the_statements_printed_for_the_archive_are_enough_once_pasted() -> None:
    """The source prints what the archive's bucket policy must hold; pasted into a bucket its owner
    manages by hand, they authorize the export, and without them it is denied."""
    stack = cdk.Stack(cdk.App(), "Source", env=cdk.Environment(account=SOURCE, region=REGION))
    imported = s3.Bucket.from_bucket_attributes(
        stack, "ArchiveBucket", bucket_name=BUCKET, account=ARCHIVE, region=REGION
    )
    _one_shots(stack, ExportDestination(stack, "Archive", bucket=imported))
    (warning,) = [w for w in _stacks_of(stack)[0].warnings if "export-constructs:archive-bucket-policy" in w]
    printed = json.loads(warning[warning.index("\n{") : warning.rindex("}") + 1])["Statement"]
    pasted = simulate(stack, others=[_bare_archive(printed)], authorize=True)
    assert pasted.problems == []
    assert all(s.status == "SUCCESS" for s in pasted.steps)
    unpasted = simulate(stack, others=[_bare_archive([])], authorize=True)
    assert "s3:GetBucketLocation" in _denied(unpasted.problems)[0]
    assert not [c for c in unpasted.calls if c.operation == "CreateExportTask"]

"""The RDS fake's snapshots: registered, described as RDS describes them (an automated one only
with SnapshotType=automated), deleted, and refused to an export once gone; a task that
``fail_when`` picks fails; the peak of running tasks is kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from export_constructs.testing import FAILURE_REASON, FakeService
from export_constructs.testing.fakes.rds import Fake as RdsFake

from .conftest import client, started

PREFIX = "arn:aws:rds:us-east-1:123456789012"
DB = f"{PREFIX}:db:shop-db"
CLUSTER = f"{PREFIX}:cluster:orders"
AUTOMATED = f"{PREFIX}:snapshot:rds:shop-db-2026-12-01-03-05"
MANUAL = f"{PREFIX}:snapshot:before-upgrade"
CLUSTER_AUTOMATED = f"{PREFIX}:cluster-snapshot:rds:orders-2026-12-01-03-05"
TAKEN = datetime(2026, 12, 1, 3, 5, tzinfo=UTC)


@pytest.fixture
def rds(aws_env: None) -> Iterator[FakeService]:
    yield from started("Rds")


def export(api: Any, source_arn: str, name: str = "export-1") -> dict[str, Any]:
    task: dict[str, Any] = api.start_export_task(
        ExportTaskIdentifier=name,
        SourceArn=source_arn,
        S3BucketName="bucket",
        S3Prefix="rds",
        IamRoleArn="arn:aws:iam::123456789012:role/export",
        KmsKeyId="arn:aws:kms:us-east-1:123456789012:key/0b7a1d3e-8c5f-4a2b-9e6d-1f2a3b4c5d6e",
    )
    return task


def error_of(refused: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    response = refused.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def test_an_automated_snapshot_is_described_by_identifier_only_with_its_type(rds: FakeService) -> None:
    assert isinstance(rds, RdsFake)
    rds.add_snapshot(AUTOMATED, DB, automated=True, created=TAKEN)
    api = client("rds", rds)
    (found,) = api.describe_db_snapshots(DBSnapshotIdentifier="rds:shop-db-2026-12-01-03-05", SnapshotType="automated")[
        "DBSnapshots"
    ]
    assert found["DBSnapshotIdentifier"] == "rds:shop-db-2026-12-01-03-05"
    assert found["DBInstanceIdentifier"] == "shop-db"
    assert found["DBSnapshotArn"] == AUTOMATED
    assert (found["Status"], found["SnapshotType"]) == ("available", "automated")
    assert found["SnapshotCreateTime"] == TAKEN
    for snapshot_type in ({}, {"SnapshotType": "manual"}):
        with pytest.raises(ClientError) as refused:
            api.describe_db_snapshots(DBSnapshotIdentifier="rds:shop-db-2026-12-01-03-05", **snapshot_type)
        assert error_of(refused) == (404, "DBSnapshotNotFound")
    assert rds.problems == []


def test_a_manual_snapshot_is_found_without_a_type_or_with_manual_only(rds: FakeService) -> None:
    assert isinstance(rds, RdsFake)
    rds.add_snapshot(MANUAL, DB, automated=False, created=TAKEN)
    api = client("rds", rds)
    for snapshot_type in ({}, {"SnapshotType": "manual"}):
        (found,) = api.describe_db_snapshots(DBSnapshotIdentifier="before-upgrade", **snapshot_type)["DBSnapshots"]
        assert found["SnapshotType"] == "manual"
    with pytest.raises(ClientError) as refused:
        api.describe_db_snapshots(DBSnapshotIdentifier="before-upgrade", SnapshotType="automated")
    assert error_of(refused) == (404, "DBSnapshotNotFound")


def test_cluster_snapshots_are_described_apart_with_their_own_error(rds: FakeService) -> None:
    assert isinstance(rds, RdsFake)
    rds.add_snapshot(CLUSTER_AUTOMATED, CLUSTER, automated=True, created=TAKEN)
    api = client("rds", rds)
    (found,) = api.describe_db_cluster_snapshots(
        DBClusterSnapshotIdentifier="rds:orders-2026-12-01-03-05", SnapshotType="automated"
    )["DBClusterSnapshots"]
    assert (found["DBClusterIdentifier"], found["DBClusterSnapshotArn"]) == ("orders", CLUSTER_AUTOMATED)
    # A cluster snapshot is no DB snapshot, and the other way round.
    with pytest.raises(ClientError) as refused:
        api.describe_db_snapshots(DBSnapshotIdentifier="rds:orders-2026-12-01-03-05", SnapshotType="automated")
    assert error_of(refused) == (404, "DBSnapshotNotFound")
    rds.delete_snapshot(CLUSTER_AUTOMATED)
    with pytest.raises(ClientError) as gone:
        api.describe_db_cluster_snapshots(
            DBClusterSnapshotIdentifier="rds:orders-2026-12-01-03-05", SnapshotType="automated"
        )
    assert error_of(gone) == (404, "DBClusterSnapshotNotFoundFault")
    assert rds.problems == []


def test_a_deleted_or_unknown_snapshot_cannot_be_exported_once_snapshots_are_registered(rds: FakeService) -> None:
    assert isinstance(rds, RdsFake)
    api = client("rds", rds)
    # Before any snapshot is registered every snapshot exists (the one-shot exports' behaviour).
    assert export(api, f"{PREFIX}:snapshot:anything", "before")["Status"] == "STARTING"
    rds.add_snapshot(AUTOMATED, DB, automated=True, created=TAKEN)
    rds.add_snapshot(CLUSTER_AUTOMATED, CLUSTER, automated=True)
    started_task = export(api, AUTOMATED, "kept")
    assert started_task["SnapshotTime"] == TAKEN
    for arn, code in (
        (f"{PREFIX}:snapshot:anything", "DBSnapshotNotFound"),
        (f"{PREFIX}:cluster-snapshot:unknown", "DBClusterSnapshotNotFoundFault"),
    ):
        with pytest.raises(ClientError) as refused:
            export(api, arn, "unknown")
        assert error_of(refused) == (404, code)
    rds.delete_snapshot(CLUSTER_AUTOMATED)
    with pytest.raises(ClientError) as deleted:
        export(api, CLUSTER_AUTOMATED, "deleted")
    assert error_of(deleted) == (404, "DBClusterSnapshotNotFoundFault")
    assert sorted(rds.jobs) == ["before", "kept"]


def test_fail_when_fails_the_task_it_picks_and_the_peak_of_running_tasks_is_kept(rds: FakeService) -> None:
    assert isinstance(rds, RdsFake)
    rds.fail_when = lambda request: request["ExportTaskIdentifier"] == "bad"
    api = client("rds", rds)
    for name in ("good", "bad", "third"):
        export(api, f"{PREFIX}:snapshot:{name}", name)
    assert rds.peak_tasks == 3
    statuses = {
        name: [api.describe_export_tasks(ExportTaskIdentifier=name)["ExportTasks"][0] for _ in range(4)][-1]
        for name in ("good", "bad")
    }
    assert statuses["good"]["Status"] == "COMPLETE"
    assert (statuses["bad"]["Status"], statuses["bad"]["FailureCause"]) == ("FAILED", FAILURE_REASON)
    export(api, f"{PREFIX}:snapshot:fourth", "fourth")
    assert rds.peak_tasks == 3  # two ended, two running with the fourth


def test_describes_name_the_snapshot_for_iam_and_a_snapshot_must_match_its_source() -> None:
    rds = RdsFake()
    described = rds.iam_request("DescribeDBSnapshots", {"DBSnapshotIdentifier": "rds:shop-db-1"})
    assert described.resources == {"snapshot": f"{PREFIX}:snapshot:rds:shop-db-1"}
    clustered = rds.iam_request("DescribeDBClusterSnapshots", {"DBClusterSnapshotIdentifier": "manual-1"})
    assert clustered.resources == {"cluster-snapshot": f"{PREFIX}:cluster-snapshot:manual-1"}
    assert rds.iam_request("DescribeDBSnapshots", {}).resources == {}
    with pytest.raises(ValueError, match="no snapshot"):
        rds.add_snapshot(CLUSTER_AUTOMATED, DB, automated=True)

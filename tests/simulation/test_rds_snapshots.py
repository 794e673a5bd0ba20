"""RdsSnapshotExport played on the virtual clock: RDS snapshots taken (and deleted), their events
matched by the export's EventBridge rule, each run of the runner's state machine through the
simulation's interpreter and the real handler, against the RDS fake (5 exports at once per
account), a DynamoDB ledger (moto) and EventBridge; every request authorized by IAM."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import aws_cdk as cdk
import pytest

from export_constructs import ExportDestination
from export_constructs.rds import RdsSnapshotExport
from export_constructs.testing.snapshots import Snapshot, SnapshotResult, simulate_snapshots

ENV = cdk.Environment(account="111122223333", region="eu-west-1")
HEAD = f"arn:aws:rds:{ENV.region}:{ENV.account}"
DB = f"{HEAD}:db:shop-db"
CLUSTER = f"{HEAD}:cluster:orders"
OTHER_DB = f"{HEAD}:db:analytics"
NIGHT = datetime(2026, 12, 1, 3, 5, tzinfo=UTC)
EXPORTED, FAILED = "Export Window Exported", "Export Window Failed"


def stack() -> cdk.Stack:
    st = cdk.Stack(cdk.App(), "Snapshots", env=ENV)
    RdsSnapshotExport(st, "Nightly", sources=[DB, CLUSTER], destination=ExportDestination(st, "Dest"))
    return st


def starts(result: SnapshotResult, snapshot: Snapshot) -> list[str | None]:
    """The answer (None: started) of each StartExportTask of ``snapshot``."""
    return [
        c.error for c in result.calls if c.operation == "StartExportTask" and c.params.get("SourceArn") == snapshot.arn
    ]


def events_of(result: SnapshotResult, detail_type: str) -> list[str]:
    """The snapshot ARN each event of ``detail_type`` names, in order."""
    return [str(e.detail.get("snapshot")) for e in result.events if e.detail_type == detail_type]


def assert_each_exported_once(result: SnapshotResult, snapshots: list[Snapshot]) -> None:
    for snapshot in snapshots:
        assert result.tasks(snapshot) == [(result.tasks(snapshot)[0][0], "COMPLETE")], snapshot.arn
        assert starts(result, snapshot).count(None) == 1, snapshot.arn
    assert sorted(events_of(result, EXPORTED)) == sorted(s.arn for s in snapshots)
    assert len(result.exported()) == len(snapshots)


@pytest.fixture(scope="module")
def week() -> tuple[SnapshotResult, list[Snapshot]]:
    snapshots = [
        Snapshot.automated_of(source, NIGHT + timedelta(days=day, minutes=minute))
        for day in range(7)
        for source, minute in ((DB, 0), (CLUSTER, 20))
    ]
    return simulate_snapshots(stack(), start=NIGHT, snapshots=snapshots, authorize=True), snapshots


def test_a_week_of_nightly_snapshots_of_an_instance_and_a_cluster_exports_each_once(
    week: tuple[SnapshotResult, list[Snapshot]],
) -> None:
    result, snapshots = week
    assert result.problems == []
    assert len(snapshots) == 14
    assert_each_exported_once(result, snapshots)
    assert events_of(result, FAILED) == []
    assert [r.status for r in result.runs] == ["SUCCEEDED"] * 14
    # Each snapshot under its source's folder of the day it was taken.
    for window in result.windows:
        source = "orders" if ":cluster-snapshot:" in window.source else "shop-db"
        day = datetime.fromtimestamp(window.start / 1000, UTC)
        assert window.prefix.startswith(f"rds/{source}/{day:%Y/%m/%d}/"), window.prefix
    summary = result.authorization.split()
    assert int(summary[0]) > 0 and result.authorization.endswith(" 0 denied"), result.authorization


def at_once(count: int = 12) -> list[Snapshot]:
    """``count`` manual snapshots taken together, of the instance and the cluster in turn."""
    return [
        Snapshot(NIGHT, DB if n % 2 == 0 else CLUSTER, f"before-migration-{n}", automated=False) for n in range(count)
    ]


def test_twelve_snapshots_at_once_run_at_most_five_exports_at_a_time_and_all_are_exported() -> None:
    snapshots = at_once()
    result = simulate_snapshots(stack(), start=NIGHT, snapshots=snapshots, authorize=True)
    assert result.problems == []
    assert result.peak_tasks == 5  # the quota is reached, never passed
    assert_each_exported_once(result, snapshots)
    # The runs past the quota waited: RDS refused none of their starts (they looked first) or
    # refused some with its quota error, and nothing else.
    assert {e for s in snapshots for e in starts(result, s)} <= {None, "ExportTaskLimitReachedFault"}


@pytest.fixture(scope="module")
def one_deleted() -> tuple[SnapshotResult, list[Snapshot]]:
    snapshots = at_once()
    deleted = snapshots[-1]  # its run waits for a slot (the first five take them)
    moment = NIGHT + timedelta(minutes=1)
    return simulate_snapshots(stack(), start=NIGHT, snapshots=snapshots, deletions=[(moment, deleted.arn)]), snapshots


def assert_deleted_reported_once(result: SnapshotResult, deleted: Snapshot) -> None:
    """Reported by one failure event, never exported, and its start not tried again once RDS
    answered that the snapshot does not exist."""
    assert events_of(result, FAILED) == [deleted.arn]
    assert result.tasks(deleted) == []
    attempts = starts(result, deleted)
    assert None not in attempts, attempts
    assert attempts.count("DBClusterSnapshotNotFoundFault") == 1 and attempts[-1] == "DBClusterSnapshotNotFoundFault"


def test_a_snapshot_deleted_before_its_turn_is_reported_once_and_the_others_are_exported(
    one_deleted: tuple[SnapshotResult, list[Snapshot]],
) -> None:
    result, snapshots = one_deleted
    assert result.problems == []
    assert_each_exported_once(result, snapshots[:-1])
    assert_deleted_reported_once(result, snapshots[-1])


def test_the_checks_fail_when_a_snapshot_is_exported_twice_or_a_deleted_one_is_started_again(
    week: tuple[SnapshotResult, list[Snapshot]], one_deleted: tuple[SnapshotResult, list[Snapshot]]
) -> None:
    """What the scenarios assert would catch the handler exporting a snapshot twice, or starting
    a deleted one again: the same results with one more start each fail the checks."""
    result, snapshots = week
    (start,) = [
        c for c in result.calls if c.operation == "StartExportTask" and c.params["SourceArn"] == snapshots[0].arn
    ]
    with pytest.raises(AssertionError):
        assert_each_exported_once(dataclasses.replace(result, calls=[*result.calls, start]), snapshots)
    deleted_result, at_the_same_time = one_deleted
    deleted = at_the_same_time[-1]
    again = dataclasses.replace(
        start, params={**start.params, "SourceArn": deleted.arn}, error="DBClusterSnapshotNotFoundFault"
    )
    with pytest.raises(AssertionError):
        assert_deleted_reported_once(dataclasses.replace(deleted_result, calls=[*deleted_result.calls, again]), deleted)


@pytest.mark.parametrize("again", [True, timedelta(hours=2)], ids=["while-running", "after-it-failed"])
def test_a_failed_export_is_reported_and_a_redelivered_event_does_not_start_it_again(again: bool | timedelta) -> None:
    good, bad = Snapshot.automated_of(DB, NIGHT), Snapshot.automated_of(CLUSTER, NIGHT)

    def fails(request: Mapping[str, Any]) -> bool:
        return bool(request["SourceArn"] == bad.arn)

    result = simulate_snapshots(stack(), start=NIGHT, snapshots=[good, bad], fail_when=fails, duplicates=again)
    assert result.problems == []
    assert len(result.deliveries) == 4
    assert events_of(result, FAILED) == [bad.arn]
    assert result.tasks(bad) == [(result.tasks(bad)[0][0], "FAILED")]
    assert starts(result, bad) == [None]
    assert_each_exported_once(result, [good])


def test_a_snapshot_of_another_instance_exports_nothing_and_reports_nothing() -> None:
    other = Snapshot.automated_of(OTHER_DB, NIGHT)
    result = simulate_snapshots(stack(), start=NIGHT, snapshots=[other], authorize=True)
    assert result.problems == []
    assert len(result.deliveries) == 1 and [r.status for r in result.runs] == ["SUCCEEDED"]
    # The run asked RDS what the snapshot is of, and stopped there.
    assert [c.operation for c in result.calls if c.service == "Rds"] == ["DescribeDBSnapshots"]
    assert result.windows == [] and result.events == []


def test_every_event_delivered_twice_still_exports_each_snapshot_once() -> None:
    snapshots = [Snapshot.automated_of(DB, NIGHT), Snapshot.automated_of(CLUSTER, NIGHT + timedelta(minutes=20))]
    result = simulate_snapshots(stack(), start=NIGHT, snapshots=snapshots, duplicates=True, authorize=True)
    assert result.problems == []
    assert [arn for _, _, arn in result.deliveries] == [snapshots[0].arn] * 2 + [snapshots[1].arn] * 2
    assert_each_exported_once(result, snapshots)
    assert events_of(result, FAILED) == []


def test_a_failed_export_runs_again_when_asked_under_a_new_task_name() -> None:
    bad = Snapshot.automated_of(CLUSTER, NIGHT)
    attempts: list[str] = []

    def first_fails(request: Mapping[str, Any]) -> bool:
        attempts.append(str(request["ExportTaskIdentifier"]))
        return len(attempts) == 1

    retried = NIGHT + timedelta(hours=3)
    result = simulate_snapshots(
        stack(), start=NIGHT, snapshots=[bad], fail_when=first_fails, retries=[(retried, bad.arn)], authorize=True
    )
    assert result.problems == []
    (failed, exported) = result.tasks(bad)
    assert (failed[1], exported[1]) == ("FAILED", "COMPLETE") and failed[0] != exported[0]
    # Both read as the cluster's, stamped with the snapshot's creation (UTC).
    for task, _ in (failed, exported):
        assert "-orders-20261201T0305-" in task, task
    assert events_of(result, FAILED) == [bad.arn] and events_of(result, EXPORTED) == [bad.arn]
    (item,) = [v for k, v in result.ledger.items() if k.endswith(f"#{bad.arn}")]
    assert item["Watermark"] == {"N": "1"} and item["Failures"] == {"N": "1"}
    assert [r.status for r in result.runs] == ["FAILED", "SUCCEEDED"]
    # The failure event tells how: the same run's input with Retry.
    (failure,) = [e for e in result.events if e.detail_type == FAILED]
    assert "jq -c '.Export.Retry = true'" in failure.detail["retry"]


def test_snapshots_aws_backup_makes_are_exported_with_backup_jobs() -> None:
    st = cdk.Stack(cdk.App(), "Snapshots", env=ENV)
    RdsSnapshotExport(st, "Nightly", sources=[DB, CLUSTER], destination=ExportDestination(st, "Dest"), backup_jobs=True)
    made = [Snapshot.backup_of(DB, NIGHT, "0001"), Snapshot.backup_of(CLUSTER, NIGHT, "0002")]
    other = Snapshot.backup_of(OTHER_DB, NIGHT, "0003")  # the rule's pattern names the sources only
    result = simulate_snapshots(st, start=NIGHT, snapshots=[*made, other], duplicates=True, authorize=True)
    assert result.problems == []
    assert sorted(arn for _, _, arn in result.deliveries) == sorted([made[0].arn, made[1].arn] * 2)
    assert made[0].arn == f"{HEAD}:snapshot:awsbackup:job-0001"
    assert made[1].arn == f"{HEAD}:cluster-snapshot:awsbackup:job-0002"
    assert_each_exported_once(result, made)
    # The run asked AWS Backup for the job's recovery point, not RDS for the snapshot.
    assert {c.operation for c in result.calls if c.service == "Backup"} == {"DescribeBackupJob"}
    assert not [c for c in result.calls if c.operation.startswith("DescribeDB")]


def test_without_backup_jobs_aws_backup_snapshots_start_nothing() -> None:
    made = Snapshot.backup_of(DB, NIGHT, "0001")
    result = simulate_snapshots(stack(), start=NIGHT, snapshots=[made])
    assert result.problems == [] and result.deliveries == [] and result.windows == []


def test_a_snapshot_that_waits_too_long_for_a_slot_fails_reported_and_a_retry_exports_it() -> None:
    # Other stacks' exports hold the account's 5 slots for 13 hours: the run waits what its 24
    # hours leave (11 h 20 min with the defaults), then fails the snapshot with an event, rather
    # than being timed out by Step Functions with nothing said.
    late = Snapshot.automated_of(DB, NIGHT)
    result = simulate_snapshots(
        stack(),
        start=NIGHT,
        snapshots=[late],
        scenario="busy",
        busy_seconds=13 * 3600,
        retries=[(NIGHT + timedelta(hours=14), late.arn)],
        authorize=True,
    )
    assert result.problems == []
    assert [r.status for r in result.runs] == ["FAILED", "SUCCEEDED"]
    (failure,) = [e.detail for e in result.events if e.detail_type == FAILED]
    assert "waited 11.4 h for one of the account's export slots" in failure["reason"], failure
    assert events_of(result, EXPORTED) == [late.arn]
    # The failed run released its lock (the item is gone): the retry took it at once.
    assert not [k for k in result.ledger if k.endswith("# run lock")]

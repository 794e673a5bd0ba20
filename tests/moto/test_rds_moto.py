"""The RDS adapter, driven by the real engine with the Provider framework's events, against moto's
server (a second, independent implementation of StartExportTask / DescribeExportTasks /
CancelExportTask, in the query protocol): Create -> polls -> Delete of a DB snapshot's export.

What moto (5.2.x, ``moto/rds/models.py`` ``ExportTask``) does not model, so these tests cannot
show it:

- time and statuses: a task is ``complete`` (lowercase) the moment it is started, so there is no
  ``STARTING``/``IN_PROGRESS`` to poll through, and CancelExportTask marks any task, even a
  complete one, ``canceled`` (no InvalidExportTaskStateFault);
- ``TaskStartTime``, ``PercentProgress``, ``TotalExtractedDataInGB``, ``FailureCause``: not
  reported (no deadline can be shown: the engine counts it from the task's start);
- the quota of 5 concurrent exports (no refusal at all), the identifier rules (any identifier is
  accepted), and that the source must be of the task's account and Region;
- IAM, the role's trust, the bucket and the KMS key: nothing is authorized or even looked up, and
  nothing is written to S3 (the simulation's fake and authorizer do those);
- DB cluster sources (``cluster:``): only snapshots and cluster snapshots are found.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from export_constructs.handler import consts
from export_constructs.handler.adapters.base import JobConflict
from export_constructs.handler.adapters.rds import task_identifier
from export_constructs.handler.engine import Engine, derive_job_name, load_adapter
from export_constructs.handler.event import ResourceEvent

from ..handler.events import after_on_event, load
from .conftest import client

INSTANCE = "shop-db"
SNAPSHOT = "shop-db-2026-12-01"


@pytest.fixture
def snapshot_arn(aws: str) -> str:
    """A DB instance and a manual snapshot of it in moto (created once per server)."""
    rds = client("rds")
    if not rds.describe_db_instances()["DBInstances"]:
        rds.create_db_instance(
            DBInstanceIdentifier=INSTANCE,
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            MasterUsername="shop",
            MasterUserPassword="not-a-real-password-1",
            AllocatedStorage=20,
        )
        rds.create_db_snapshot(DBInstanceIdentifier=INSTANCE, DBSnapshotIdentifier=SNAPSHOT)
    (snapshot,) = rds.describe_db_snapshots(DBSnapshotIdentifier=SNAPSHOT)["DBSnapshots"]
    arn: str = snapshot["DBSnapshotArn"]
    return arn


def create_event(source_arn: str, logical_id: str = "SnapshotExport4C2A566A") -> dict[str, Any]:
    event = copy.deepcopy(load("rds_create"))
    event["ResourceProperties"]["Request"]["SourceArn"] = source_arn
    event["LogicalResourceId"] = logical_id
    return event


def identifier_of(event: dict[str, Any]) -> str:
    adapter = load_adapter("rds", lambda _: None)
    return task_identifier(derive_job_name(ResourceEvent.from_dict(event), adapter, event["ResourceProperties"]))


def test_create_polls_and_delete_against_moto(snapshot_arn: str) -> None:
    engine = Engine(client)
    created = create_event(snapshot_arn)
    identifier = engine.on_event(created)["PhysicalResourceId"]
    assert identifier == identifier_of(created)
    done = engine.is_complete(after_on_event(created, {"PhysicalResourceId": identifier}))
    assert done["IsComplete"] is True
    data = done["Data"]
    assert data[consts.ATTR_JOB_ARN] == data[consts.ATTR_JOB_NAME] == identifier
    assert data[consts.ATTR_STATUS].upper() == "COMPLETE"  # moto answers "complete"
    request = created["ResourceProperties"]["Request"]
    assert data[consts.ATTR_OUTPUT_URI] == f"s3://{request['S3BucketName']}/{request['S3Prefix']}/"
    assert all(isinstance(v, str) for v in data.values())

    (task,) = client("rds").describe_export_tasks(ExportTaskIdentifier=identifier)["ExportTasks"]
    assert task["SourceArn"] == snapshot_arn
    assert (task["S3Bucket"], task["S3Prefix"]) == (request["S3BucketName"], request["S3Prefix"])
    assert task["ExportOnly"] == request["ExportOnly"]

    deleting = {**created, "RequestType": "Delete", "PhysicalResourceId": identifier}
    assert engine.on_event(deleting) == {"PhysicalResourceId": identifier}  # complete: nothing cancelled
    assert engine.is_complete(deleting) == {"IsComplete": True}
    (task,) = client("rds").describe_export_tasks(ExportTaskIdentifier=identifier)["ExportTasks"]
    assert task["Status"].upper() == "COMPLETE"


def test_a_retried_create_adopts_its_task_and_a_changed_one_conflicts(snapshot_arn: str) -> None:
    engine = Engine(client)
    created = create_event(snapshot_arn, "RetriedExport0A1B2C3D")
    first = engine.on_event(created)["PhysicalResourceId"]
    assert engine.on_event(created)["PhysicalResourceId"] == first  # ExportTaskAlreadyExists: adopted

    changed = copy.deepcopy(created)
    changed["ResourceProperties"][consts.PROP_JOB_NAME] = first  # the same identifier, another selection
    changed["ResourceProperties"]["Request"]["ExportOnly"] = ["shop.orders"]
    with pytest.raises(JobConflict, match="ExportOnly"):
        engine.on_event(changed)


def test_a_snapshot_moto_does_not_know_fails_the_create(snapshot_arn: str) -> None:
    missing = snapshot_arn.rsplit(":", 1)[0] + ":no-such-snapshot"
    with pytest.raises(Exception, match="DBSnapshotNotFound"):
        Engine(client).on_event(create_event(missing, "MissingExport0A1B2C3D"))


def test_delete_of_a_task_moto_never_had_succeeds(aws: str) -> None:
    engine = Engine(client)
    deleting = {**create_event("arn:aws:rds:us-east-1:123456789012:snapshot:x"), "RequestType": "Delete"}
    deleting["PhysicalResourceId"] = "never-started-task"
    assert engine.on_event(deleting) == {"PhysicalResourceId": "never-started-task"}
    assert engine.is_complete(deleting) == {"IsComplete": True}

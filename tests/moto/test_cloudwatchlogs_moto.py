"""The CloudWatch Logs adapter, driven by the real engine with the Provider framework's events,
against moto's server (a second, independent implementation of CreateExportTask /
DescribeExportTasks / CancelExportTask): Create -> polls -> Delete, and the exported objects in
moto's S3 under the job's prefix.

What moto (5.2.x) does not model, so these tests cannot show it:

- time: moto runs an export synchronously inside CreateExportTask (the task is ``COMPLETED`` at
  once), so there is no ``PENDING``/``RUNNING`` to poll through, no cancel of a running task
  (CancelExportTask marks even a completed task ``CANCELLED``) and no deadline;
- the one-active-task quota (no LimitExceededException) and DescribeExportTasks' pagination;
- IAM and bucket or key policies: nothing is authorized (the simulation's authorizer does that);
- ``from`` must be before ``to`` (moto accepts ``from == to``), ``logStreamNamePrefix`` (moto
  exports every stream) and ``executionInfo`` (no creation time: the engine's deadline, which
  needs one, is skipped);
- the key layout: moto writes ``<prefix>/<random uuid>/<stream>/000000.gz``, AWS
  ``<prefix>/<task id>/<stream>/000000.gz``.
"""

from __future__ import annotations

import copy
import gzip
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from export_constructs.handler import consts
from export_constructs.handler.adapters.cloudwatchlogs import WINDOW_MEMBER
from export_constructs.handler.engine import Engine

from ..handler.events import after_on_event, load
from .conftest import client

BUCKET = "exportconstructssample-exports-moto"
GROUP = "/aws/lambda/orders"
PREFIX = "logs/orders"


@pytest.fixture
def world(aws: str) -> dict[str, Any]:
    """A bucket, and a log group with two streams of events from the last hours."""
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)
    logs = client("logs")
    if not logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"]:
        logs.create_log_group(logGroupName=GROUP)
    now = datetime.now(UTC)
    messages = {}
    for stream in ("2026/12/01/[$LATEST]a", "2026/12/01/[$LATEST]b"):
        if not logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=stream)["logStreams"]:
            logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
        message = f"order shipped from {stream[-1]}"
        logs.put_log_events(
            logGroupName=GROUP,
            logStreamName=stream,
            logEvents=[{"timestamp": int((now - timedelta(hours=2)).timestamp() * 1000), "message": message}],
        )
        messages[stream] = message
    return {"s3": s3, "logs": logs, "messages": messages}


def create_event() -> dict[str, Any]:
    event = copy.deepcopy(load("cloudwatchlogs_create"))
    event["ResourceProperties"]["Request"]["destination"] = BUCKET
    return event


def test_create_polls_and_delete_against_moto_and_the_export_lands_under_the_prefix(world: dict[str, Any]) -> None:
    engine = Engine(client)
    created = create_event()
    task_id = engine.on_event(created)["PhysicalResourceId"]
    assert len(task_id) == 36  # a UUID, which the adapter owns
    done = engine.is_complete(after_on_event(created, {"PhysicalResourceId": task_id}))
    assert done["IsComplete"] is True
    data = done["Data"]
    assert data[consts.ATTR_JOB_ARN] == task_id
    assert data[consts.ATTR_STATUS] == "COMPLETED"
    assert data[consts.ATTR_OUTPUT_URI] == f"s3://{BUCKET}/{PREFIX}/"
    # The window was computed by the handler: one day, ending at the Create.
    assert int(data["To"]) - int(data["From"]) == created["ResourceProperties"]["Request"][WINDOW_MEMBER]
    (task,) = world["logs"].describe_export_tasks(taskId=task_id)["exportTasks"]
    assert (task["logGroupName"], task["destination"], task["destinationPrefix"]) == (GROUP, BUCKET, PREFIX)

    keys = [o["Key"] for o in world["s3"].list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/").get("Contents", [])]
    exported = [k for k in keys if k.endswith("/000000.gz")]
    assert len(exported) >= 2 and all(k.startswith(f"{PREFIX}/") for k in exported), keys
    bodies = [gzip.decompress(world["s3"].get_object(Bucket=BUCKET, Key=k)["Body"].read()).decode() for k in exported]
    for message in world["messages"].values():
        assert any(message in body for body in bodies), (message, bodies)

    deleting = {**created, "RequestType": "Delete", "PhysicalResourceId": task_id}
    assert engine.on_event(deleting) == {"PhysicalResourceId": task_id}
    assert engine.is_complete(deleting) == {"IsComplete": True}
    # The export output is never deleted.
    assert world["s3"].list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/")["KeyCount"] == len(keys)


def test_a_retried_create_adopts_the_task_moto_lists_by_name(world: dict[str, Any]) -> None:
    engine = Engine(client)
    created = create_event()
    created["LogicalResourceId"] = "RetriedLogs0A1B2C3D"
    first = engine.on_event(created)["PhysicalResourceId"]
    again = engine.on_event(created)["PhysicalResourceId"]
    assert again == first
    named = [t for t in world["logs"].describe_export_tasks()["exportTasks"] if t["taskId"] == first]
    assert len(named) == 1


def test_a_log_group_moto_does_not_know_fails_the_create(world: dict[str, Any]) -> None:
    created = create_event()
    created["ResourceProperties"]["Request"]["logGroupName"] = "/aws/lambda/missing"
    with pytest.raises(Exception, match="ResourceNotFoundException"):
        Engine(client).on_event(created)

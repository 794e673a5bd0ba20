"""A recurring Logs export's runs, the handler's ``plan`` / ``advance`` / ``report`` driven in the
order the run state machine calls them, against moto's server for CloudWatch Logs, S3, DynamoDB
(the ledger) and EventBridge: the exported objects land under each window's date prefix and hold
that window's events only, and the ledger's watermark moves window by window.

moto writes an export synchronously (the task is ``COMPLETED`` at once) and filters the events
by ``from`` / ``to``; it keeps no quota and authorizes nothing (the simulation does both).
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from export_constructs.handler.engine import Engine
from export_constructs.handler.runs import DONE, Runner
from export_constructs.schedule import zone_offsets

from .conftest import client

BUCKET = "exportconstructs-archive-moto"
TABLE = "ledger-moto"
GROUPS = ("/aws/lambda/archive-orders", "/aws/lambda/archive-payments")  # of this module alone
DAY = timedelta(days=1)
#: Days of the recent past: Logs (and moto) refuse events more than 14 days old.
FIRST = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - 5 * DAY
STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/Archive/0a1b2c3d-0000-4000-8000-000000000000"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.fixture
def world(aws: str) -> dict[str, Any]:
    """A bucket, a ledger table, and two log groups with one event every 6 hours for 3 days."""
    s3, logs, dynamodb = client("s3"), client("logs"), client("dynamodb")
    s3.create_bucket(Bucket=BUCKET)
    if TABLE not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "Source", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "Source", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    events: dict[str, list[tuple[int, str]]] = {}
    # The first and last millisecond of each day too: the window's edges.
    stamps = sorted(
        {_ms(FIRST + i * timedelta(hours=6)) for i in range(12)} | {_ms(FIRST + d * DAY) - 1 for d in (1, 2, 3)}
    )
    for group in GROUPS:
        events[group] = [(t, f"{group} at {t}") for t in stamps]
        if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:  # once a session
            logs.create_log_group(logGroupName=group)
            logs.create_log_stream(logGroupName=group, logStreamName="s")
            logs.put_log_events(
                logGroupName=group,
                logStreamName="s",
                logEvents=[{"timestamp": t, "message": m} for t, m in events[group]],
            )
    return {"s3": s3, "dynamodb": dynamodb, "events": events}


def export(**extra: Any) -> dict[str, Any]:
    return {
        "Id": "Archive/Nightly",
        "Service": "CloudWatchLogs",
        "Sources": list(GROUPS),
        "Request": {"destination": BUCKET},
        "Prefix": "logs/{source}/{yyyy}/{MM}/{dd}/",
        "Period": "day",
        "Zone": zone_offsets("UTC"),
        "SettleMs": 12 * 3600 * 1000,
        "MaxWindows": 100,
        "TimeoutSeconds": 6 * 3600,
        "PollSeconds": 30,
        "LockMs": 24 * 3600 * 1000,
        "Ledger": TABLE,
        "Stack": STACK,
        "StartMs": _ms(FIRST),
        **extra,
    }


def run_once(runner: Runner, description: dict[str, Any], time: datetime, name: str) -> dict[str, Any]:
    """One run, its tasks called as the run state machine calls them (Wait states skipped)."""
    run = f"arn:aws:states:us-east-1:123456789012:execution:Runner:{name}"
    base = {"Export": description, "Time": time.strftime("%Y-%m-%dT%H:%M:%SZ"), "Run": run}
    plan = runner.run({**base, "Action": "plan"})
    results = []
    for window in plan["Windows"]:
        step: dict[str, Any] = {"State": "NEW", "Reason": ""}
        for _ in range(20):
            step = runner.run({"Action": "advance", "Export": description, "Window": window, "Step": step, "Run": run})
            if step["State"] == DONE:
                break
        results.append({"Source": window["Source"], "Start": window["Start"], **step})
    return runner.run({**base, "Action": "report", "Plan": plan, "Results": results})


def test_three_nights_export_each_day_once_under_its_date(world: dict[str, Any]) -> None:
    lines: list[str] = []
    runner = Runner(Engine(client), emit=lines.append)
    description = export()
    reports = [
        run_once(runner, description, FIRST + (night + 1) * DAY + timedelta(hours=13), f"night-{night}")
        for night in range(3)
    ]
    assert [r["Exported"] for r in reports] == [2, 2, 2]
    assert all(r["Failed"] == 0 for r in reports)

    s3 = world["s3"]
    for group in GROUPS:
        for day in range(3):
            date = FIRST + day * DAY
            prefix = f"logs{group}/{date:%Y/%m/%d}/"
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]
            exported = [k for k in keys if k.endswith("/000000.gz")]
            assert len(exported) == 1, (prefix, keys)
            body = gzip.decompress(s3.get_object(Bucket=BUCKET, Key=exported[0])["Body"].read()).decode()
            expected = [m for t, m in world["events"][group] if _ms(date) <= t < _ms(date + DAY)]
            others = [m for t, m in world["events"][group] if not _ms(date) <= t < _ms(date + DAY)]
            assert all(m in body for m in expected), (prefix, body)
            # Half-open windows: the next day's first millisecond is not in this one.
            assert not any(m in body for m in others), (prefix, body)
        item = world["dynamodb"].get_item(TableName=TABLE, Key={"Source": {"S": f"Archive/Nightly#{group}"}})["Item"]
        assert int(item["Watermark"]["N"]) == _ms(FIRST + 3 * DAY)

    # A fourth run at the same time exports nothing again.
    again = run_once(runner, description, FIRST + 3 * DAY + timedelta(hours=13), "night-2-again")
    assert again["Exported"] == 0 and again["Failed"] == 0
    metrics = [json.loads(line) for line in lines]
    assert [m["ExportedWindows"] for m in metrics if "ExportedWindows" in m] == [2, 2, 2, 0]


def test_the_run_state_machine_exports_each_day_under_its_date_prefix_into_motos_s3(
    world: dict[str, Any], moto_url: str
) -> None:
    """The same nights through the run state machine's definition (the simulation's
    interpreter), with moto serving CloudWatch Logs and S3: the objects land under each window's
    date folder."""
    import aws_cdk as cdk
    from aws_cdk import aws_s3 as s3

    from export_constructs import CloudWatchLogsExport, ExportDestination, ExportSchedule
    from export_constructs.testing.recurring import simulate_schedule

    app = cdk.App()
    stack = cdk.Stack(app, "MotoArchive", env=cdk.Environment(account="123456789012", region="us-east-1"))
    bucket = s3.Bucket.from_bucket_name(stack, "Bucket", BUCKET)
    CloudWatchLogsExport(
        stack,
        "Nightly",
        log_groups=list(GROUPS),
        destination=ExportDestination(stack, "Dest", bucket=bucket),
        schedule=ExportSchedule.daily(hour=13),
        start=FIRST,
        prefix="machine/{log_group}/{yyyy}/{MM}/{dd}/",
    )
    result = simulate_schedule(stack, start=FIRST + DAY, periods=3, logs_endpoint=moto_url, authorize=False)
    assert result.problems == []
    assert [r.status for r in result.runs] == ["SUCCEEDED"] * 3
    s3_client = world["s3"]
    for group in GROUPS:
        # moto's tasks of this export (the session's moto holds other tests' too).
        mine = [w for w in result.exported(group) if w.prefix.startswith("machine")]
        assert [w.start for w in mine] == [_ms(FIRST + d * DAY) for d in range(3)]
        for day in range(3):
            date = FIRST + day * DAY
            prefix = f"machine{group}/{date:%Y/%m/%d}/"
            keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]
            (key,) = [k for k in keys if k.endswith("/000000.gz")]
            body = gzip.decompress(s3_client.get_object(Bucket=BUCKET, Key=key)["Body"].read()).decode()
            inside = [m for t, m in world["events"][group] if _ms(date) <= t < _ms(date + DAY)]
            assert inside and all(m in body for m in inside), (prefix, body)

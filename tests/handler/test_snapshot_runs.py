"""A snapshot export's run where the simulation cannot easily break it: its plan failing (an
API error after the retries). The report must count it, say so on the bus, and free the lock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from export_constructs.handler.engine import Engine
from export_constructs.handler.runs import FAILED, FAILED_WINDOWS, Runner

RUN = "arn:aws:states:eu-west-1:111122223333:execution:Runner-abc:event-1"
SNAPSHOT = "arn:aws:rds:eu-west-1:111122223333:snapshot:rds:shop-db-2026-12-01-03-05"
EXPORT = {
    "Id": "S/Nightly",
    "Service": "Rds",
    "Ledger": "ledger",
    "Snapshot": {"Arn": SNAPSHOT, "Event": "RDS-EVENT-0091"},
}


class Client:
    """What the report calls: EventBridge's PutEvents and DynamoDB's DeleteItem, recorded."""

    def __init__(self, calls: list[tuple[str, dict[str, Any]]]) -> None:
        self._calls = calls

    def put_events(self, **request: Any) -> dict[str, Any]:
        self._calls.append(("PutEvents", request))
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}

    def delete_item(self, **request: Any) -> dict[str, Any]:
        self._calls.append(("DeleteItem", request))
        return {}


def test_a_plan_that_failed_is_counted_reported_on_the_bus_and_its_lock_released() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    lines: list[str] = []
    engine = Engine(lambda service: Client(calls), clock=lambda: datetime(2026, 12, 1, 9, tzinfo=UTC))
    answer = Runner(engine, lines.append).report(
        {
            "Action": "report",
            "Export": EXPORT,
            # What the state machine's ReportPlanFailure state passes.
            "Plan": {"Windows": [], "Behind": 0, "Locked": True},
            "Results": [],
            "Failure": "AccessDenied: not authorized to perform rds:DescribeDBSnapshots",
            "Time": "2026-12-01T03:10:00Z",
            "Run": RUN,
        }
    )
    assert answer["Failed"] == 1 and "AccessDenied" in answer["Summary"]
    (metrics,) = [json.loads(line) for line in lines]
    assert metrics[FAILED_WINDOWS] == 1
    # Counted when it happened (now), not at the snapshot event's time.
    assert metrics["_aws"]["Timestamp"] == int(datetime(2026, 12, 1, 9, tzinfo=UTC).timestamp() * 1000)
    (event,) = [
        json.loads(r["Entries"][0]["Detail"]) | {"type": r["Entries"][0]["DetailType"]}
        for n, r in calls
        if n == "PutEvents"
    ]
    assert event["type"] == FAILED and event["snapshot"] == SNAPSHOT and event["status"] == "ERRORED"
    assert "AccessDenied" in event["reason"] and ".Export.Retry = true" in event["retry"]
    (unlock,) = [r for n, r in calls if n == "DeleteItem"]
    assert unlock["Key"] == {"Source": {"S": f"S/Nightly#{SNAPSHOT}# run lock"}}
    assert unlock["ExpressionAttributeValues"] == {":owner": {"S": RUN}}

"""Recurring Logs exports played on the virtual clock through the real run state machine
definition (the simulation's ASL interpreter, a distributed map of windows), the real handler, a
Logs fake with its one-task quota and a DynamoDB ledger executed by moto; every request and
service access authorized by the IAM evaluator."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import aws_cdk as cdk
import pytest

from export_constructs import CloudWatchLogsExport, ExportDestination, ExportSchedule
from export_constructs.testing import Scenario
from export_constructs.testing.recurring import ScheduleResult, simulate_schedule

ENV = cdk.Environment(account="111122223333", region="eu-west-1")
GROUPS = ["/aws/lambda/orders", "/aws/lambda/payments", "/aws/lambda/users"]
FIRST = datetime(2026, 11, 1, tzinfo=UTC)
DAY = 24 * 3600 * 1000


def stack(schedule: ExportSchedule | None = None, **props: Any) -> cdk.Stack:
    app = cdk.App()
    st = cdk.Stack(app, "Archive", env=ENV)
    CloudWatchLogsExport(
        st,
        "Nightly",
        log_groups=GROUPS,
        destination=ExportDestination(st, "Dest"),
        schedule=schedule or ExportSchedule.daily(hour=13),
        start=FIRST,
        **props,
    )
    return st


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def assert_each_window_once(result: ScheduleResult, days: int) -> None:
    for group in GROUPS:
        exported = result.exported(group)
        assert [w.start for w in exported] == [ms(FIRST) + d * DAY for d in range(days)], group
        assert all(w.end - w.start == DAY for w in exported)  # contiguous, half-open, no overlap
        assert all(sum(1 for _, s in w.tasks if s == "COMPLETED") == 1 for w in exported), exported
        item = result.ledger[f"Archive/Nightly#{group}"]
        assert int(item["Watermark"]["N"]) == ms(FIRST) + days * DAY


@pytest.fixture(scope="module")
def three_days() -> ScheduleResult:
    return simulate_schedule(stack(), start=FIRST + timedelta(days=1), periods=3, authorize=True)


def test_three_days_of_three_groups_export_nine_windows_each_once(three_days: ScheduleResult) -> None:
    assert three_days.problems == []
    assert_each_window_once(three_days, 3)
    assert len(three_days.exported()) == 9
    assert [r.status for r in three_days.runs] == ["SUCCEEDED"] * 3
    # Each window under its own date folder; one event per window.
    for window in three_days.windows:
        day = datetime.fromtimestamp(window.start / 1000, UTC)
        assert window.prefix == f"logs{window.source}/{day:%Y/%m/%d}", window.prefix
    exported = [e for e in three_days.events if e.detail_type == "Export Window Exported"]
    assert len(exported) == 9 and {e.source for e in exported} == {"export-constructs"}
    assert all(e.detail["uri"].startswith("s3://") for e in exported)


def test_a_failed_day_is_exported_by_the_next_run_in_order() -> None:
    attempts: dict[tuple[str, int], int] = {}

    def day_two_fails_once(request: Mapping[str, Any]) -> bool:
        key = (str(request["logGroupName"]), int(request["from"]))
        attempts[key] = attempts.get(key, 0) + 1
        return key[1] == ms(FIRST) + DAY and attempts[key] == 1

    result = simulate_schedule(
        stack(), start=FIRST + timedelta(days=1), periods=3, fail_when=day_two_fails_once, authorize=True
    )
    assert [r.status for r in result.runs] == ["SUCCEEDED", "FAILED", "SUCCEEDED"]
    assert result.runs[1].error == "ExportWindowsFailed"
    failures = [e for e in result.events if e.detail_type == "Export Window Failed"]
    assert len(failures) == 3 and all("retry" in e.detail and e.detail["reason"] for e in failures)
    assert [p for p in result.problems if "still running" not in p] == []
    assert_each_window_once(result, 3)
    # Day 2 before day 3, for each group.
    for group in GROUPS:
        days = [w.start for w in result.windows if w.source == group]
        assert days == sorted(days)


def test_another_stacks_task_holding_the_quota_for_two_hours_delays_but_loses_nothing() -> None:
    result = simulate_schedule(
        stack(),
        start=FIRST + timedelta(days=1),
        periods=3,
        scenario=Scenario.BUSY,
        busy_seconds=2 * 3600 + 13 * 3600,  # from midnight: two hours into the first run
        authorize=True,
    )
    assert result.problems == []
    assert_each_window_once(result, 3)
    first = result.runs[0]
    assert first.ended is not None and first.ended - first.started >= 2 * 3600


def test_a_run_started_while_the_previous_one_goes_on_exports_nothing_twice() -> None:
    result = simulate_schedule(
        stack(),
        start=FIRST + timedelta(days=1),
        periods=2,
        extra_runs=[FIRST + timedelta(days=1, hours=13, seconds=30)],
        authorize=True,
    )
    assert result.problems == []
    assert len(result.runs) == 3
    assert_each_window_once(result, 2)
    assert all(len(w.tasks) == 1 for w in result.windows)

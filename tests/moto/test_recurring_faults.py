"""What goes wrong in a recurring export's runs, against moto (Logs, S3, DynamoDB, EventBridge):
a watermark written by hand off a window boundary, a log group Logs does not know, a run that
dies between starting a task and noting it, a run lock left by a stopped run, and a plan too
large for a Step Functions state. Each must leave no window skipped or exported twice and the
export going on."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from export_constructs.handler.engine import Engine
from export_constructs.handler.ledger import Ledger, key_of, lock_key
from export_constructs.handler.runs import CLAIM, DONE, PLAN_BUDGET, Runner
from export_constructs.schedule import zone_offsets

from .conftest import client
from .test_recurring_moto import DAY, FIRST, GROUPS, TABLE, _ms, run_once, world
from .test_recurring_moto import export as nightly

__all__ = ["world"]  # the fixture, used by name


def export(**extra: Any) -> dict[str, Any]:
    """The nightly export's description, writing under a folder of this module's own."""
    return nightly(**{"Prefix": "faults/{source}/{yyyy}/{MM}/{dd}/", **extra})


def ledger() -> Ledger:
    return Ledger(client, TABLE)


def exported_tasks(group: str) -> list[dict[str, Any]]:
    tasks = client("logs").describe_export_tasks()["exportTasks"]
    return [t for t in tasks if t["logGroupName"] == group and t["status"]["code"] == "COMPLETED"]


def test_a_watermark_off_the_boundary_exports_the_rest_of_its_window_then_whole_ones(world: dict[str, Any]) -> None:
    """A backfill written by hand in UTC on an export whose days are Berlin's: not stuck."""
    runner = Runner(Engine(client), emit=lambda _: None)
    description = export(Id="Archive/Berlin", Zone=zone_offsets("Europe/Berlin"))
    description.pop("StartMs")
    group = GROUPS[0]
    key = key_of("Archive/Berlin", group)
    ledger().begin(key, _ms(FIRST), "now")  # 00:00 UTC: 01:00 in Berlin, no boundary there
    report = run_once(runner, description, FIRST + 3 * DAY + timedelta(hours=13), "berlin")
    assert report["Failed"] == 0 and report["Exported"] >= 3
    entry = ledger().entry(key)
    assert entry is not None and entry.watermark > _ms(FIRST + 2 * DAY)
    ranges = sorted((t["from"], t["to"]) for t in exported_tasks(group))
    # The rest of the first window, from 00:00 UTC to Berlin's next midnight, then whole days.
    first = [(low, high) for low, high in ranges if low == _ms(FIRST)]
    assert first and (first[0][1] + 1 - _ms(FIRST)) < 24 * 3600 * 1000, ranges


def test_a_log_group_logs_does_not_know_fails_its_window_with_an_event_and_the_ledger_notes_it(
    world: dict[str, Any],
) -> None:
    runner = Runner(Engine(client), emit=lambda _: None)
    description = export(Id="Archive/Missing", Sources=["/aws/lambda/deleted"])
    report = run_once(runner, description, FIRST + DAY + timedelta(hours=13), "missing")
    assert report["Failed"] == 1 and "could not start" in report["Summary"]
    assert "ResourceNotFoundException" in report["Summary"]
    entry = ledger().entry(key_of("Archive/Missing", "/aws/lambda/deleted"))
    assert entry is not None and entry.watermark == _ms(FIRST) and "could not start" in entry.last_error


def test_a_run_that_dies_after_starting_a_task_does_not_make_the_next_start_a_second(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = Runner(Engine(client), emit=lambda _: None)
    group = "/aws/lambda/crash"
    event = crashed_window(runner, monkeypatch, group, "Archive/Crash")
    entry = ledger().entry(key_of("Archive/Crash", group))
    assert entry is not None and entry.flight_task.startswith(CLAIM)  # the claim survived the crash
    step = run_to_done(runner, event, "r2")
    assert step["Outcome"] == "exported"
    # One task of that window: the one the crashed run started, found by its name and adopted.
    tasks = client("logs").describe_export_tasks()["exportTasks"]
    assert [t["taskId"] for t in tasks if t["logGroupName"] == group] == [step["Task"]]


def test_the_next_daily_run_takes_the_lock_a_stopped_run_left(world: dict[str, Any]) -> None:
    description = export(Id="Archive/Stopped")
    now = _ms(FIRST + DAY)
    assert ledger().lock("Archive/Stopped", "stopped-run", now, now + int(description["LockMs"])) is None
    assert ledger().lock("Archive/Stopped", "next-hour", now + 3600_000, now + 3600_000) == "stopped-run"
    next_day = now + int(description["LockMs"])
    assert ledger().lock("Archive/Stopped", "next-day", next_day, next_day + 1) is None
    assert lock_key("Archive/Stopped") != key_of("Archive/Stopped", "")


def test_a_plan_keeps_within_the_state_size_and_leaves_the_rest_to_the_next_run(world: dict[str, Any]) -> None:
    runner = Runner(Engine(client), emit=lambda _: None)
    groups = [f"/aws/lambda/{'g' * 400}{i:03d}" for i in range(60)]
    description = export(Id="Archive/Big", Sources=groups, MaxWindows=100)
    plan = runner.run(
        {"Action": "plan", "Export": description, "Time": f"{FIRST + 5 * DAY:%Y-%m-%dT%H:%M:%SZ}", "Run": "big"}
    )
    assert len(json.dumps(plan)) < PLAN_BUDGET
    assert 0 < len(plan["Windows"]) < plan["Behind"]
    starts = [w["Start"] for w in plan["Windows"]]
    assert starts == sorted(starts)  # the oldest first


def crashed_window(runner: Runner, monkeypatch: pytest.MonkeyPatch, group: str, export_id: str) -> dict[str, Any]:
    """A window whose first run claimed it, started its task and died before noting the task."""
    client("logs").create_log_group(logGroupName=group)
    description = export(Id=export_id, Sources=[group])
    ledger().begin(key_of(export_id, group), _ms(FIRST), "now")
    window = {"Source": group, "Start": _ms(FIRST), "End": _ms(FIRST + DAY)}
    event = {"Action": "advance", "Export": description, "Window": window, "Step": {"State": "NEW"}, "Run": "r1"}
    original = Ledger.started

    def dies_when_noting_a_task(self: Ledger, key: str, start: int, task: str, now: str, replaces: str = "") -> bool:
        if not task.startswith(CLAIM):
            raise RuntimeError("the invocation timed out")
        return original(self, key, start, task, now, replaces)

    with monkeypatch.context() as patched:
        patched.setattr(Ledger, "started", dies_when_noting_a_task)
        with pytest.raises(RuntimeError):
            runner.run(event)
    return event


def run_to_done(runner: Runner, event: dict[str, Any], run: str) -> dict[str, Any]:
    """The window's steps in run ``run`` until it is done (the state machine's Wait skipped)."""
    step: dict[str, Any] = {"State": "NEW"}
    for _ in range(5):
        step = runner.run({**event, "Step": step, "Run": run})
        if step["State"] == DONE:
            break
    return step


def test_a_throttled_look_for_a_claimed_task_keeps_the_claim_and_exports_the_window_once(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from export_constructs.handler.adapters.cloudwatchlogs import Adapter

    runner = Runner(Engine(client), emit=lambda _: None)
    group = "/aws/lambda/throttled"
    event = crashed_window(runner, monkeypatch, group, "Archive/Throttled")
    throttled = ClientError(
        {
            "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "DescribeExportTasks",
    )

    def find(self: Adapter, spec: Any) -> Any:
        raise throttled

    with monkeypatch.context() as patched:
        patched.setattr(Adapter, "find", find)
        with pytest.raises(ClientError):
            runner.run({**event, "Run": "r2"})
    entry = ledger().entry(key_of("Archive/Throttled", group))
    assert entry is not None and entry.flight_task.startswith(CLAIM)  # kept: the task may exist
    step = run_to_done(runner, event, "r3")
    assert step["Outcome"] == "exported"
    tasks = client("logs").describe_export_tasks()["exportTasks"]
    assert [t["taskId"] for t in tasks if t["logGroupName"] == group] == [step["Task"]]


def test_the_ledger_names_the_task_once_it_started(world: dict[str, Any]) -> None:
    runner = Runner(Engine(client), emit=lambda _: None)
    group = "/aws/lambda/noted"
    client("logs").create_log_group(logGroupName=group)
    description = export(Id="Archive/Noted", Sources=[group])
    ledger().begin(key_of("Archive/Noted", group), _ms(FIRST), "now")
    window = {"Source": group, "Start": _ms(FIRST), "End": _ms(FIRST + DAY)}
    step = runner.run({"Action": "advance", "Export": description, "Window": window, "Step": {}, "Run": "r1"})
    entry = ledger().entry(key_of("Archive/Noted", group))
    assert entry is not None and entry.flight_task == step["Task"] and entry.flight_start == _ms(FIRST)


def test_a_run_that_finds_the_window_claimed_meanwhile_waits_instead_of_starting(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = Runner(Engine(client), emit=lambda _: None)
    group = "/aws/lambda/raced"
    client("logs").create_log_group(logGroupName=group)
    description = export(Id="Archive/Raced", Sources=[group])
    key = key_of("Archive/Raced", group)
    ledger().begin(key, _ms(FIRST), "now")
    stale = ledger().entry(key)
    assert ledger().started(key, _ms(FIRST), f"{CLAIM}another-runs-task", "now")  # another run, meanwhile
    monkeypatch.setattr(Ledger, "entry", lambda self, k: stale)  # this run read the entry before
    window = {"Source": group, "Start": _ms(FIRST), "End": _ms(FIRST + DAY)}
    step = runner.run({"Action": "advance", "Export": description, "Window": window, "Step": {}, "Run": "r2"})
    assert step["State"] == "WAIT" and not step.get("Task")
    assert [t for t in client("logs").describe_export_tasks()["exportTasks"] if t["logGroupName"] == group] == []

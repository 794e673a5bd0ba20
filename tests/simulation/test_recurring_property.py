"""The ledger never skips or repeats a window, whatever fails: random sequences of failed and
cancelled tasks, another stack holding the account's task, handler errors (a Lambda that
crashes mid-window) and runs started by hand while a scheduled one goes on, each played through
the run state machine's definition, the handler and the fakes; after a quiet catch-up every
window of every group is exported exactly once, in order."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import aws_cdk as cdk
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from export_constructs import CloudWatchLogsExport, ExportDestination, ExportSchedule
from export_constructs.testing import Scenario
from export_constructs.testing.recurring import ScheduleResult, simulate_schedule

LOCAL_EXAMPLES = int(os.environ.get("EXPORT_CONSTRUCTS_FUZZ_EXAMPLES", "0"))
GROUPS = ["/aws/lambda/a", "/aws/lambda/b"]
FIRST = datetime(2026, 11, 1, tzinfo=UTC)
DAY = 24 * 3600 * 1000


def _assembly() -> str:
    app = cdk.App()
    stack = cdk.Stack(app, "Prop", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    CloudWatchLogsExport(
        stack,
        "Nightly",
        log_groups=GROUPS,
        destination=ExportDestination(stack, "Dest"),
        schedule=ExportSchedule.daily(hour=13),
        start=FIRST,
    )
    return str(app.synth().directory)


ASSEMBLY = _assembly()


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def budget() -> settings:
    return settings(
        max_examples=LOCAL_EXAMPLES or 6,
        derandomize=not LOCAL_EXAMPLES,
        database=None,
        deadline=None,
        phases=list(Phase) if LOCAL_EXAMPLES else [Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow],
    )


failure = st.tuples(st.sampled_from(GROUPS), st.integers(0, 3), st.integers(1, 2))


@budget()
@given(
    days=st.integers(2, 4),
    failures=st.frozensets(failure, max_size=4),
    busy_hours=st.sampled_from([0, 2, 30]),
    extra=st.lists(st.integers(0, 3 * 24 * 60), max_size=2),
)
def test_every_window_is_exported_once_in_order_whatever_fails(
    days: int, failures: frozenset[tuple[str, int, int]], busy_hours: int, extra: list[int]
) -> None:
    attempts: dict[tuple[str, int], int] = {}
    doomed = {(group, ms(FIRST) + day * DAY, attempt) for group, day, attempt in failures if day < days}

    def fail_when(request: Mapping[str, Any]) -> bool:
        key = (str(request["logGroupName"]), int(request["from"]))
        attempts[key] = attempts.get(key, 0) + 1
        return (key[0], key[1], attempts[key]) in doomed

    start = FIRST + timedelta(days=1)
    # Each failed attempt holds its group back one run: after the failing days, as many runs as
    # there were failures and one more, by whose end every window due must be exported.
    periods = days + len(doomed) + 1
    result: ScheduleResult = simulate_schedule(
        ASSEMBLY,
        start=start,
        periods=periods,
        scenario=Scenario.BUSY if busy_hours else Scenario.SUCCESS,
        busy_seconds=busy_hours * 3600,
        fail_when=fail_when,
        extra_runs=[start + timedelta(minutes=m) for m in extra],
        authorize=False,
    )
    assert [p for p in result.problems if "still running" not in p] == []
    exported_days = periods
    for group in GROUPS:
        windows = [w for w in result.windows if w.source == group]
        # Tasks were started in window order, and each window's tasks completed at most once.
        assert [w.start for w in windows] == sorted(w.start for w in windows)
        assert all(sum(1 for _, s in w.tasks if s == "COMPLETED") <= 1 for w in windows), windows
        exported = [w.start for w in result.exported(group)]
        assert exported == [ms(FIRST) + d * DAY for d in range(exported_days)], (group, exported)
        watermark = int(result.ledger[f"Prop/Nightly#{group}"]["Watermark"]["N"])
        assert watermark == ms(FIRST) + exported_days * DAY
        # No task was started for a window after one of its tasks completed.
        for window in windows:
            statuses = [s for _, s in window.tasks]
            assert "COMPLETED" not in statuses[:-1], (group, window.start_iso, statuses)
    exported_events = [e for e in result.events if e.detail_type == "Export Window Exported"]
    assert len(exported_events) == len(GROUPS) * exported_days

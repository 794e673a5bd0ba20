"""The recurring-export table of ``make bench``: ``CloudWatchLogsExport``'s runs played on the
simulation's virtual clock (:func:`~export_constructs.testing.recurring.simulate_schedule`: the
run state machine's definition, the real handler, the Logs fake with its one task per account,
the DynamoDB ledger on moto), nothing timed but the simulation's own wall time.

Four cases, each a daily export that fires at 13:00 UTC, the simulation starting at its first run:

- daily: 3 log groups, 3 days; what a window costs (Lambda invocations, state transitions, API
  calls by service);
- 100 groups, one run: the makespan (first task created -> last task ended) against the period
  and against the sum of the tasks' durations (the quota runs one task at a time, so that sum is
  the least possible);
- catch-up: 10 groups whose ``start`` is 7 days before the first run: 70 windows, each once,
  oldest first per group; the runs it took and the makespan;
- busy: 3 groups while another stack's task holds the account's slot for 2 hours: what the
  waiting window costs per poll interval, and what one look at the quota is made of.

``python -m bench.recurring`` prints the table alone. Requests are authorized by the IAM
evaluator when ``EXPORT_CONSTRUCTS_AUTHORIZE=1`` (the simulation's default; the test suite sets
it), which needs the project's ``node_modules``.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from export_constructs.testing.fakes.base import Call
    from export_constructs.testing.recurring import ScheduleResult

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

#: The first window of every case (its ``start`` prop).
FIRST = datetime(2026, 11, 1, tzinfo=UTC)
RUN_HOUR = 13
PERIOD_SECONDS = 86_400
POLL_SECONDS = 30  # CloudWatchLogsExport's default poll_interval
BUSY_SECONDS = 2 * 3600
#: The makespan may exceed the sum of the tasks' durations by this much: what is lost between one
#: task's end and the next one's start.
MAX_MAKESPAN_OVER_WORK = 1.05
#: Statuses a task ends in (the Logs fake's, the RDS fake's).
ENDED = frozenset({"COMPLETED", "FAILED", "CANCELLED", "COMPLETE", "CANCELED"})
SERVICES = ("CloudWatchLogs", "DynamoDB", "EventBridge")


@dataclass(frozen=True)
class Task:
    """One Logs export task, in virtual seconds from the simulation's start."""

    created: float
    ended: float


@dataclass(frozen=True)
class Invocation:
    """One Lambda invocation: when, which action of the handler, and the API calls it made
    (their indexes in :attr:`Stamps.calls`)."""

    at: float
    action: str
    calls: range


@dataclass
class Stamps:
    """What a :class:`ScheduleResult` leaves out: the virtual second of every API call and
    Lambda invocation, and when each Logs task was created and ended."""

    calls: list[tuple[float, Call]] = field(default_factory=list)
    invocations: list[Invocation] = field(default_factory=list)
    tasks: dict[str, Task] = field(default_factory=dict)


@contextlib.contextmanager
def stamping() -> Iterator[Stamps]:
    """Record :class:`Stamps` while simulations run in this block.

    The fakes record calls without times and the Logs fake does not keep when a task ended: the
    bench wraps the methods every fake and the interpreter go through instead of changing them.
    """
    from export_constructs.testing.asl import Interpreter
    from export_constructs.testing.fakes.base import FakeService, ServiceError
    from export_constructs.testing.fakes.jobs import Job

    stamps = Stamps()
    record, advance, invoke = FakeService.record, FakeService.advance, Interpreter.invoke

    def stamped_record(self: FakeService, operation: str, params: Any, error: ServiceError | None = None) -> None:
        record(self, operation, params, error)
        stamps.calls.append((self.clock.stamp(), self.calls[-1]))

    def stamped_advance(self: FakeService, job: Job) -> None:
        advance(self, job)
        # A task ends at the describe that moves it to its last status (or when time passes for
        # one nothing describes, in the quota check): the first such moment is its end.
        if self.name in ("CloudWatchLogs", "Rds") and job.status in ENDED and job.id not in stamps.tasks:
            stamps.tasks[job.id] = Task(job.created, self.clock.stamp())

    def stamped_invoke(self: Interpreter, function: str, payload: Any) -> Any:
        first = len(stamps.calls)
        try:
            return invoke(self, function, payload)
        finally:
            action = str(payload.get("Action", "")) if isinstance(payload, Mapping) else ""
            stamps.invocations.append(Invocation(self.clock.stamp(), action, range(first, len(stamps.calls))))

    FakeService.record = stamped_record  # type: ignore[method-assign]
    FakeService.advance = stamped_advance  # type: ignore[method-assign]
    Interpreter.invoke = stamped_invoke  # type: ignore[method-assign]
    try:
        yield stamps
    finally:
        FakeService.record = record  # type: ignore[method-assign]
        FakeService.advance = advance  # type: ignore[method-assign]
        Interpreter.invoke = invoke  # type: ignore[method-assign]


# -- the cases -----------------------------------------------------------------------------------


@dataclass
class Case:
    label: str
    groups: int
    result: ScheduleResult
    stamps: Stamps
    wall: float
    """Seconds of real time the simulation took (synthesizing the stack included)."""

    @property
    def windows(self) -> int:
        return len(self.result.exported())

    def per_window(self, count: float) -> float:
        return count / self.windows if self.windows else math.nan

    def calls_of(self, service: str) -> int:
        return sum(1 for c in self.result.calls if c.service == service)


def group_names(groups: int) -> list[str]:
    return [f"/aws/lambda/fn{n:03d}" for n in range(groups)]


def play(
    label: str,
    groups: int,
    *,
    backlog_days: int = 1,
    periods: int = 1,
    busy_seconds: float = 0.0,
    authorize: bool | None = None,
) -> Case:
    """A stack with one daily ``CloudWatchLogsExport`` of ``groups`` groups whose first window is
    :data:`FIRST`, played from its first run, ``backlog_days`` after :data:`FIRST`, for
    ``periods`` runs; with ``busy_seconds``, another stack's task holds the account's slot for
    that long from the first run."""
    import aws_cdk as cdk

    from export_constructs import CloudWatchLogsExport, ExportDestination, ExportSchedule
    from export_constructs.testing import Scenario
    from export_constructs.testing.recurring import simulate_schedule

    stack = cdk.Stack(cdk.App(), "RecurringBench", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    CloudWatchLogsExport(
        stack,
        "Nightly",
        log_groups=group_names(groups),
        destination=ExportDestination(stack, "Exports"),
        schedule=ExportSchedule.daily(hour=RUN_HOUR),
        start=FIRST,
    )
    started = time.perf_counter()
    # The handler prints its metrics (embedded metric format) on stdout, where the report goes.
    with stamping() as stamps, contextlib.redirect_stdout(io.StringIO()):
        result = simulate_schedule(
            stack,
            start=FIRST + timedelta(days=backlog_days, hours=RUN_HOUR),
            periods=periods,
            scenario=Scenario.BUSY if busy_seconds else Scenario.SUCCESS,
            busy_seconds=busy_seconds,
            authorize=authorize,
        )
    wall = time.perf_counter() - started
    if result.problems:
        raise RuntimeError(f"{label}: {len(result.problems)} problem(s), the first: {result.problems[0]}")
    return Case(label, groups, result, stamps, wall)


# -- the arithmetic ------------------------------------------------------------------------------


def makespan(tasks: Sequence[Task]) -> tuple[float, float]:
    """(first task created -> last task ended, the sum of the tasks' durations)."""
    if not tasks:
        return 0.0, 0.0
    return max(t.ended for t in tasks) - min(t.created for t in tasks), sum(t.ended - t.created for t in tasks)


def makespan_met(span: float, work: float, period: float = PERIOD_SECONDS) -> bool:
    """Within the period, and within :data:`MAX_MAKESPAN_OVER_WORK` of the tasks' own time."""
    return span <= period and span <= MAX_MAKESPAN_OVER_WORK * work


def longest_run(case: Case) -> tuple[float, float]:
    """:func:`makespan` of the tasks of each run (those created while it went on); the run whose
    makespan is longest."""
    spans = [
        makespan([t for t in case.stamps.tasks.values() if r.started <= t.created <= (r.ended or math.inf)])
        for r in case.result.runs
    ]
    return max(spans, default=(0.0, 0.0))


def exported_once_oldest_first(case: Case, days: int) -> bool:
    """Every group's ``days`` windows from :data:`FIRST` exported by one task each, and each
    group's tasks started in the windows' order."""
    day_ms = PERIOD_SECONDS * 1000
    first_ms = int(FIRST.timestamp() * 1000)
    for group in group_names(case.groups):
        windows = [w for w in case.result.windows if w.source == group]
        if [w.start for w in windows] != [first_ms + d * day_ms for d in range(days)]:
            return False
        if any(w.tasks != [(w.tasks[0][0], "COMPLETED")] for w in windows):
            return False
        created = [case.stamps.tasks[w.tasks[0][0]].created for w in windows]
        if created != sorted(created):
            return False
    return True


def runs_needed(case: Case) -> int:
    """How many runs started a task."""
    created = [t.created for t in case.stamps.tasks.values()]
    return sum(1 for r in case.result.runs if any(r.started <= c <= (r.ended or math.inf) for c in created))


@dataclass(frozen=True)
class Wait:
    """A window waiting for the account's task: from its first look to the look that started
    its task (excluded)."""

    seconds: float
    looks: int
    """Lambda invocations while it waited (each an ``advance``)."""
    others: int
    """Invocations while it waited that were not a look at this window."""
    calls: Counter[str]
    """The API calls made while it waited, by ``Service Operation(statusCode)``."""
    outside_looks: int
    """API calls made while it waited by no look."""
    poll: float = POLL_SECONDS

    @property
    def intervals(self) -> float:
        return self.seconds / self.poll

    @property
    def per_interval(self) -> float:
        return self.looks / self.intervals if self.intervals else math.nan

    @property
    def met(self) -> bool:
        """At most one invocation per poll interval, every call made by a look."""
        return self.looks <= math.ceil(self.intervals) and self.others == 0 and self.outside_looks == 0


def call_name(call: Call) -> str:
    status = call.params.get("statusCode") if isinstance(call.params, Mapping) else None
    task = isinstance(call.params, Mapping) and "taskId" in call.params
    return f"{call.service} {call.operation}" + (f"({status})" if status else "(taskId)" if task else "")


def waiting(stamps: Stamps, poll: float = POLL_SECONDS) -> Wait:
    """The first window's wait for the account's task: from its first look (the first
    ``advance``) to the look whose ``CreateExportTask`` succeeded, that one excluded."""
    first = next((i for i in stamps.invocations if i.action == "advance"), None)
    created = next(
        (n for n, (_, c) in enumerate(stamps.calls) if c.operation == "CreateExportTask" and c.error is None), None
    )
    starting = next((i for i in stamps.invocations if created is not None and created in i.calls), None)
    if first is None or starting is None:
        return Wait(0.0, 0, 0, Counter(), 0, poll)
    span = range(first.calls.start, starting.calls.start)
    # In the order they ended: the plan, at the first look's instant, is before it.
    order = stamps.invocations
    during = order[order.index(first) : order.index(starting)]
    looks = [i for i in during if i.action == "advance"]
    owned = {n for i in looks for n in i.calls}
    return Wait(
        seconds=starting.at - first.at,
        looks=len(looks),
        others=len(during) - len(looks),
        calls=Counter(call_name(stamps.calls[n][1]) for n in span),
        outside_looks=sum(1 for n in span if n not in owned),
        poll=poll,
    )


# -- the table -----------------------------------------------------------------------------------


def hours(seconds: float) -> str:
    return f"{seconds:,.0f} s ({seconds / 3600:.2f} h)"


def table(
    log: Callable[[str], None] = lambda _: None, authorize: bool | None = None
) -> tuple[list[str], list[tuple[str, bool]]]:
    """The section's Markdown lines and its targets (text, met)."""
    started = time.perf_counter()
    cases: list[Case] = []
    for label, groups, kwargs in (
        ("daily, 3 groups x 3 days", 3, {"periods": 3}),
        ("100 groups, 1 day", 100, {}),
        ("catch-up: 10 groups, 7 days missed", 10, {"backlog_days": 7}),
        (f"busy: 3 groups, slot held {BUSY_SECONDS // 3600} h", 3, {"busy_seconds": float(BUSY_SECONDS)}),
    ):
        log(f"recurring: simulating {label}")
        cases.append(play(label, groups, authorize=authorize, **kwargs))
        log(f"  {cases[-1].wall:.1f} s")
    daily, hundred, catch_up, busy = cases

    rows = []
    for case in cases:
        span, work = longest_run(case)
        calls = " | ".join(f"{case.per_window(case.calls_of(s)):.2f}" for s in SERVICES)
        rows.append(
            f"| {case.label} | {case.windows} | {len(case.result.runs)} "
            f"| {case.per_window(case.result.invocations):.2f} | {case.per_window(case.result.transitions):.2f} "
            f"| {calls} | {span:,.0f} s | {work:,.0f} s | {span / work if work else math.nan:.3f} "
            f"| {case.wall:.0f} s |"
        )

    checks: list[tuple[str, bool]] = []
    checks.append(
        ("recurring daily: 9 windows, each exported once, oldest first", exported_once_oldest_first(daily, 3))
    )
    span, work = longest_run(hundred)
    checks.append((f"recurring 100 groups: makespan <= the period, 1 day ({hours(span)})", span <= PERIOD_SECONDS))
    checks.append(
        (
            f"recurring 100 groups: makespan <= {MAX_MAKESPAN_OVER_WORK:.2f}x the sum of task durations "
            f"({span:,.0f} s / {work:,.0f} s = {span / work:.3f})",
            makespan_met(span, work),
        )
    )
    catch_span, _ = longest_run(catch_up)
    needed = runs_needed(catch_up)
    checks.append(
        (
            f"recurring catch-up: 70 missed windows each exported once, oldest first per group "
            f"({catch_up.windows} in {needed} run(s), makespan {hours(catch_span)})",
            catch_up.windows == 70 and exported_once_oldest_first(catch_up, 7),
        )
    )
    wait = waiting(busy.stamps)
    checks.append(
        (
            f"recurring busy: while a window waits for the account's task, <= 1 Lambda invocation per poll "
            f"interval and no API call but its looks ({wait.looks} looks in {wait.intervals:.0f} intervals "
            f"of {POLL_SECONDS} s = {wait.per_interval:.2f}; {wait.others} other invocations, "
            f"{wait.outside_looks} other calls)",
            wait.met,
        )
    )
    # What waiting adds to a run: the busy run against one run of the daily case (same groups).
    per_run = daily.result.transitions / len(daily.result.runs)
    transitions_per_look = (busy.result.transitions - per_run) / wait.looks if wait.looks else math.nan
    look = ", ".join(f"{name} {count / wait.looks:.2f}" for name, count in sorted(wait.calls.items()))

    lines = [
        "Recurring exports on the simulation's virtual clock: CloudWatchLogsExport, daily at "
        f"{RUN_HOUR}:00 UTC, poll interval {POLL_SECONDS} s, Logs' quota of one active task per account "
        "(the fake's task is PENDING when created and moves one status per DescribeExportTasks by id: "
        f"RUNNING, RUNNING, COMPLETED, so {3 * POLL_SECONDS} s a task):",
        "",
        "| case | windows | runs | Lambda invocations / window | state transitions / window "
        "| Logs calls / window | DynamoDB calls / window | EventBridge calls / window "
        "| makespan | sum of task durations | makespan / sum | simulation wall |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "makespan: first task created -> last task ended in one run (the longest run), virtual seconds; "
        "per window: the runs' totals (plan and report included) / the windows exported.",
        "",
        f"Catch-up: {catch_up.windows} windows in {needed} run(s), makespan {hours(catch_span)}.",
        f"Busy: the first window waited {hours(wait.seconds)}: {wait.looks} looks, "
        f"{wait.per_interval:.2f} per poll interval. One look = 1 Lambda invocation (advance), "
        f"{transitions_per_look:.2f} state transitions (the busy run's over a daily run's, per look), "
        f"calls per look: {look}.",
        *targets(checks, "Recurring", started, bool(cases[0].result.authorization)),
    ]
    return lines, checks


def targets(checks: Sequence[tuple[str, bool]], section: str, started: float, authorized: bool) -> list[str]:
    """A section's closing lines: its targets, each PASS or FAIL, and its wall time."""
    return [
        "",
        "| target | result |",
        "|---|---|",
        *(f"| {text} | {'PASS' if ok else 'FAIL'} |" for text, ok in checks),
        "",
        f"{section} section: {time.perf_counter() - started:.0f} s of wall time; requests "
        f"{'authorized by iam-simulate' if authorized else 'not authorized'}.",
    ]


def run(make: Callable[[Callable[[str], None]], tuple[list[str], list[tuple[str, bool]]]]) -> int:
    """Print the table ``make`` builds (its progress on stderr); 1 when a target is missed."""
    lines, checks = make(lambda message: print(message, file=sys.stderr, flush=True))
    print("\n".join(lines))
    return 0 if all(ok for _, ok in checks) else 1


def main() -> int:
    return run(table)


if __name__ == "__main__":
    sys.exit(main())

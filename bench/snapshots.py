"""The snapshot-export table of ``make bench``: ``RdsSnapshotExport``'s runs played on the
simulation's virtual clock (:func:`~export_constructs.testing.snapshots.simulate_snapshots`: the
rule's events, the run state machine's definition, the real handler, the RDS fake with its 5
concurrent exports per account, the DynamoDB ledger on moto), nothing timed but the simulation's
own wall time.

Three cases, each an export of one DB instance and one Aurora cluster, default poll interval:

- one snapshot: what a snapshot costs (Lambda invocations, state transitions, API calls by
  service) and how long its task takes, D;
- another database's snapshot: what every other snapshot of the account costs the export;
- 12 snapshots at once: at most 5 tasks at a time, each exported once, and the makespan (first
  task created -> last task ended) against ceil(12 / 5) x D, the least the quota allows.

``python -m bench.snapshots`` prints the table alone.
"""

from __future__ import annotations

import contextlib
import io
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .recurring import Stamps, Task, makespan, run, stamping, targets

if TYPE_CHECKING:
    from export_constructs.testing.snapshots import SnapshotResult

NIGHT = datetime(2026, 12, 1, 3, 5, tzinfo=UTC)
HEAD = "arn:aws:rds:eu-west-1:111122223333"
DB, CLUSTER, OTHER = f"{HEAD}:db:shop-db", f"{HEAD}:cluster:orders", f"{HEAD}:db:analytics"
QUOTA = 5
AT_ONCE = 12
SERVICES = ("Rds", "DynamoDB", "EventBridge")


@dataclass
class Case:
    label: str
    result: SnapshotResult
    stamps: Stamps
    wall: float

    @property
    def snapshots(self) -> int:
        return len(self.result.snapshots)

    def per_snapshot(self, count: float) -> float:
        return count / self.snapshots if self.snapshots else math.nan

    def calls_of(self, service: str) -> int:
        return sum(1 for c in self.result.calls if c.service == service)

    @property
    def tasks(self) -> list[Task]:
        return list(self.stamps.tasks.values())


def play(label: str, snapshots: list[tuple[str, datetime]], authorize: bool | None = None) -> Case:
    import aws_cdk as cdk

    from export_constructs import ExportDestination, RdsSnapshotExport
    from export_constructs.testing.snapshots import Snapshot, simulate_snapshots

    stack = cdk.Stack(cdk.App(), "SnapshotBench", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    RdsSnapshotExport(stack, "Nightly", sources=[DB, CLUSTER], destination=ExportDestination(stack, "Exports"))
    taken = [
        Snapshot(at, source, f"rds:{source.rsplit(':', 1)[1]}-{n:02d}-{at:%Y-%m-%d-%H-%M}")
        for n, (source, at) in enumerate(snapshots)
    ]
    started = time.perf_counter()
    with stamping() as stamps, contextlib.redirect_stdout(io.StringIO()):
        result = simulate_snapshots(stack, start=NIGHT, snapshots=taken, authorize=authorize)
    wall = time.perf_counter() - started
    if result.problems:
        raise RuntimeError(f"{label}: {len(result.problems)} problem(s), the first: {result.problems[0]}")
    return Case(label, result, stamps, wall)


def table(
    log: Callable[[str], None] = lambda _: None, authorize: bool | None = None
) -> tuple[list[str], list[tuple[str, bool]]]:
    """The section's Markdown lines and its targets (text, met)."""
    started = time.perf_counter()
    cases = []
    for label, snapshots in (
        ("one snapshot", [(DB, NIGHT)]),
        ("another database's snapshot", [(OTHER, NIGHT)]),
        (f"{AT_ONCE} snapshots at once", [((DB, CLUSTER)[n % 2], NIGHT) for n in range(AT_ONCE)]),
    ):
        log(f"snapshots: simulating {label}")
        cases.append(play(label, snapshots, authorize))
        log(f"  {cases[-1].wall:.1f} s")
    one, other, burst = cases
    (task,) = one.tasks
    duration = task.ended - task.created
    from export_constructs.rds import DEFAULT_SNAPSHOT_POLL_INTERVAL

    poll = float(DEFAULT_SNAPSHOT_POLL_INTERVAL.to_seconds())
    span, work = makespan(burst.tasks)
    least = math.ceil(AT_ONCE / QUOTA) * duration
    bound = math.ceil(AT_ONCE / QUOTA) * (duration + poll)
    exported_once = sorted(w.source for w in burst.result.exported()) == sorted(
        s.arn for s in burst.result.snapshots
    ) and all(len(w.tasks) == 1 for w in burst.result.windows)

    rows = []
    for case in cases:
        calls = " | ".join(f"{case.per_snapshot(case.calls_of(s)):.2f}" for s in SERVICES)
        rows.append(
            f"| {case.label} | {case.snapshots} | {len(case.result.exported())} "
            f"| {case.per_snapshot(case.result.invocations):.2f} | {case.per_snapshot(case.result.transitions):.2f} "
            f"| {calls} | {case.result.peak_tasks} | {case.wall:.0f} s |"
        )
    checks = [
        (f"snapshots: one snapshot exported once ({duration:,.0f} s a task, D)", len(one.result.exported()) == 1),
        (
            "snapshots: another database's snapshot exports nothing and costs one RDS call "
            f"({other.calls_of('Rds')} RDS calls, {other.result.invocations} invocations)",
            not other.result.windows and other.calls_of("Rds") == 1,
        ),
        (
            f"snapshots: {AT_ONCE} at once: at most {QUOTA} tasks running (peak {burst.result.peak_tasks}), "
            "each snapshot exported once",
            burst.result.peak_tasks <= QUOTA and exported_once,
        ),
        (
            f"snapshots: {AT_ONCE} at once: makespan <= ceil({AT_ONCE}/{QUOTA}) x (D + one poll interval) "
            f"({span:,.0f} s <= {bound:,.0f} s; ceil({AT_ONCE}/{QUOTA}) x D = {least:,.0f} s, "
            f"ratio {span / least:.2f})",
            span <= bound,
        ),
    ]
    lines = [
        "Snapshot exports on the simulation's virtual clock: RdsSnapshotExport of one DB instance and one "
        f"Aurora cluster, poll interval {poll:.0f} s, RDS's quota of {QUOTA} concurrent exports per account (the "
        "fake's task is STARTING when created and moves one status per DescribeExportTasks: IN_PROGRESS, "
        f"IN_PROGRESS, COMPLETE, so D = {duration:,.0f} s a task):",
        "",
        "| case | snapshots | exported | Lambda invocations / snapshot | state transitions / snapshot "
        "| RDS calls / snapshot | DynamoDB calls / snapshot | EventBridge calls / snapshot | peak tasks "
        "| simulation wall |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"{AT_ONCE} at once: makespan {span:,.0f} s (first task created -> last ended), sum of task durations "
        f"{work:,.0f} s; ceil({AT_ONCE}/{QUOTA}) x D = {least:,.0f} s. A run refused at the quota asks again "
        "after a poll interval, so each wave may lose up to one.",
        *targets(checks, "Snapshot", started, bool(cases[0].result.authorization)),
    ]
    return lines, checks


def main() -> int:
    return run(table)


if __name__ == "__main__":
    sys.exit(main())

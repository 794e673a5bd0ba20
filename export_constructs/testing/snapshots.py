"""Snapshot exports, offline: :func:`simulate_snapshots` plays RDS snapshots being taken (and
deleted) over a stretch of virtual time. At each snapshot it registers the snapshot in the RDS
fake and sends the event RDS sends to EventBridge's default bus; every enabled rule whose pattern
matches it (:mod:`.eventbridge`) starts an execution of its state machine target with the input
its ``InputTransformer`` makes, after IAM has let EventBridge assume the target's role (with the
rule's ARN as ``aws:SourceArn``) and that role start the execution. The executions run as
:func:`~.recurring.simulate_schedule`'s do: the simulation's interpreter of the States Language,
the real handler, the RDS fake (its quota of 5 concurrent exports), DynamoDB (moto) and
EventBridge fakes, every request authorized when ``authorize`` is on::

    night = datetime(2026, 12, 1, 3, 5, tzinfo=UTC)
    result = simulate_snapshots(stack, start=night, snapshots=[Snapshot.automated_of(db_arn, night)])
    assert result.problems == [] and [w.source for w in result.exported()] == [...]
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..handler.consts import BACKUP_JOB_EVENT
from ..services import RDS
from ._runs import ScheduleResult, Task, Window, ledger_of, open_world, outcome, tasks_of
from .assembly import simulated_environment
from .eventbridge import matches, target_input
from .fakes.arns import partition_of
from .fakes.backup import BackupJob
from .fakes.backup import Fake as BackupFake
from .fakes.base import Log
from .fakes.events import Event
from .fakes.jobs import Scenario
from .fakes.rds import Fake as RdsFake
from .player import StackPlayer
from .simulate import _others_of, _stacks_of

RULE = "AWS::Events::Rule"
EVENTS = "events.amazonaws.com"
#: How long after the first delivery EventBridge delivers an event again with ``duplicates``
#: (it delivers "at least once": https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
REDELIVERY = timedelta(seconds=3)
#: What RDS sends for a snapshot created, by (cluster, automated): detail-type, SourceType, event
#: category, EventID and message (DB snapshot events,
#: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Messages.html#USER_Events.Messages.snapshot;
#: DB cluster snapshot events,
#: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_Events.Messages.html#USER_Events.Messages.cluster-snapshot).
CREATED = {
    (False, True): ("RDS DB Snapshot Event", "SNAPSHOT", "creation", "RDS-EVENT-0091", "Automated snapshot created"),
    (False, False): ("RDS DB Snapshot Event", "SNAPSHOT", "creation", "RDS-EVENT-0042", "Manual snapshot created"),
    (True, True): (
        "RDS DB Cluster Snapshot Event",
        "CLUSTER_SNAPSHOT",
        "backup",
        "RDS-EVENT-0169",
        "Automated cluster snapshot created.",
    ),
    (True, False): (
        "RDS DB Cluster Snapshot Event",
        "CLUSTER_SNAPSHOT",
        "backup",
        "RDS-EVENT-0075",
        "Manual cluster snapshot created.",
    ),
}


@dataclass(frozen=True)
class Snapshot:
    """A snapshot RDS takes at ``at`` of ``source_arn`` (a DB instance's ``...:db:<id>`` or a DB
    cluster's ``...:cluster:<id>``), named ``identifier`` (``rds:<id>-<yyyy-mm-dd-hh-mm>`` for
    an automated one)."""

    at: datetime
    source_arn: str
    identifier: str
    automated: bool = True
    backup_job: str = ""
    """The AWS Backup job that made it (its identifier is then ``awsbackup:<job>``): AWS Backup
    sends the event (``Backup Job State Change``), not RDS."""

    def __post_init__(self) -> None:
        kind = self.source_arn.split(":", 6)[5] if self.source_arn.count(":") >= 6 else ""
        if not self.source_arn.startswith("arn:") or kind not in ("db", "cluster"):
            raise ValueError(f"a snapshot is of a DB instance or cluster ARN, not {self.source_arn!r}")
        if self.at.tzinfo is None:
            raise ValueError("a snapshot's time must be timezone-aware")

    @property
    def cluster(self) -> bool:
        return self.source_arn.split(":", 6)[5] == "cluster"

    @property
    def arn(self) -> str:
        head = ":".join(self.source_arn.split(":", 5)[:5])
        return f"{head}:{'cluster-snapshot' if self.cluster else 'snapshot'}:{self.identifier}"

    @classmethod
    def backup_of(cls, source_arn: str, at: datetime, job_id: str) -> Snapshot:
        """The snapshot the AWS Backup job ``job_id`` makes of ``source_arn`` at ``at`` (AWS Backup
        names its RDS recovery points ``awsbackup:job-<id>``)."""
        return cls(at, source_arn, f"awsbackup:job-{job_id}", automated=False, backup_job=job_id)

    @classmethod
    def automated_of(cls, source_arn: str, at: datetime) -> Snapshot:
        """The automated snapshot RDS takes of ``source_arn`` at ``at`` (its name: ``rds:``, the
        instance's or cluster's identifier and the time, to the minute, in UTC)."""
        name = source_arn.split(":", 6)[6]
        return cls(at, source_arn, f"rds:{name}-{at.astimezone(UTC):%Y-%m-%d-%H-%M}")


@dataclass
class SnapshotResult(ScheduleResult):
    """What :func:`simulate_snapshots` saw: a window per snapshot exported (``source``: the
    snapshot's ARN, ``start``: when it was taken), and the runs, events, ledger, calls..."""

    snapshots: list[Snapshot] = field(default_factory=list)
    peak_tasks: int = 0
    """The most RDS export tasks running at once over the simulation."""
    deliveries: list[tuple[datetime, str, str]] = field(default_factory=list)
    """``(instant, rule name, snapshot ARN)`` of each event EventBridge delivered to a target."""

    def tasks(self, snapshot: Snapshot | str) -> list[tuple[str, str]]:
        """``(task id, final status)`` of every export task of ``snapshot``, oldest first."""
        arn = snapshot.arn if isinstance(snapshot, Snapshot) else snapshot
        return [t for w in self.windows if w.source == arn for t in w.tasks]


def backup_event(snapshot: Snapshot, region: str, account: str, *, number: int = 0) -> dict[str, Any]:
    """The event AWS Backup sends EventBridge when the job that made ``snapshot`` completed (its
    example events: https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html)."""
    at = snapshot.at.astimezone(UTC)
    detail = {
        "backupJobId": snapshot.backup_job,
        "backupVaultName": "Default",
        "resourceArn": snapshot.source_arn,
        "resourceType": "Aurora" if snapshot.cluster else "RDS",
        "state": "COMPLETED",
        "percentDone": "100.0",
        "creationDate": f"{at:%Y-%m-%dT%H:%M:%S.000Z}",
    }
    return _event(snapshot, region, account, number, "aws.backup", BACKUP_JOB_EVENT, snapshot.source_arn, detail)


def snapshot_event(snapshot: Snapshot, region: str, account: str, *, number: int = 0) -> dict[str, Any]:
    """The event RDS sends EventBridge when ``snapshot`` has been created (``number`` tells one
    event's id from another's); AWS Backup's job event for one it made."""
    if snapshot.backup_job:
        return backup_event(snapshot, region, account, number=number)
    detail_type, source_type, category, event_id, message = CREATED[(snapshot.cluster, snapshot.automated)]
    at = snapshot.at.astimezone(UTC)
    detail = {
        "EventCategories": [category],
        "SourceType": source_type,
        "SourceArn": snapshot.arn,
        "Date": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
        "SourceIdentifier": snapshot.identifier,
        "Message": message,
        "EventID": event_id,
    }
    return _event(snapshot, region, account, number, "aws.rds", detail_type, snapshot.arn, detail)


def _event(
    snapshot: Snapshot,
    region: str,
    account: str,
    number: int,
    source: str,
    detail_type: str,
    resource: str,
    detail: dict[str, Any],
) -> dict[str, Any]:
    """An AWS service's event on the default bus, about ``snapshot``, at its time."""
    return {
        "version": "0",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{snapshot.arn}#{number}")),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": f"{snapshot.at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
        "region": region,
        "resources": [resource],
        "detail": detail,
    }


def simulate_snapshots(
    source: Any,
    *,
    start: datetime,
    snapshots: Sequence[Snapshot],
    deletions: Sequence[tuple[datetime, str]] = (),
    scenario: Scenario | str = Scenario.SUCCESS,
    busy_seconds: float = 600.0,
    fail_when: Callable[[Mapping[str, Any]], bool] | None = None,
    duplicates: bool | timedelta = False,
    retries: Sequence[tuple[datetime, str]] = (),
    authorize: bool | None = None,
    drain: timedelta = timedelta(days=2),
    log: Log | None = None,
    others: Sequence[Any] = (),
) -> SnapshotResult:
    """Play ``snapshots`` being taken (and ``deletions``: ``(instant, snapshot ARN)``) from
    ``start``, then let the runs still going end (at most ``drain`` more).

    Args:
        source: a Stack (synthesized here) or a cloud assembly folder, with EventBridge rules.
        start: when virtual time begins (timezone-aware), at or before the first snapshot.
        snapshots: the snapshots RDS takes, each at its ``at``.
        deletions: when a snapshot is deleted: from then on RDS answers it is not found.
        scenario: how RDS behaves (:class:`Scenario`); ``BUSY``: other stacks' exports hold the
            account's 5 slots for ``busy_seconds`` from ``start``.
        busy_seconds: see ``scenario``.
        fail_when: asked of each StartExportTask request; True makes that task fail.
        duplicates: EventBridge delivers every event twice, :data:`REDELIVERY` apart (True) or
            this long apart (a timedelta: a redelivery after the first run has ended).
        retries: ``(instant, snapshot ARN)``: an operator runs the snapshot's retry command then
            (its failure event's ``retry``: the snapshot's last run again, with ``Export.Retry``);
            the operator's own permission to start it is not the library's, so not evaluated.
        authorize: evaluate every request and access with the IAM evaluator. Default: on when
            ``EXPORT_CONSTRUCTS_AUTHORIZE`` is ``1``.
        drain: how long the runs may go on after the last event.
        log: called with a line per event of note. Default: silent.
        others: stacks of other accounts whose resources the runs use (an ``ExportArchive``'s
            stack), each a ``Stack`` or ``StackTemplate`` with a concrete account: not deployed,
            their policies authorize the requests on their resources and S3 knows their buckets,
            as ``simulate``'s ``others``. Default: none.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    emit: Log = log or (lambda _: None)
    templates = [t for t in _stacks_of(source) if any(r["Type"] == RULE for r in t.resources.values())]
    if not templates:
        raise ValueError("no stack with an EventBridge rule (an AWS::Events::Rule) to simulate")
    account, region = simulated_environment(templates, None, None)
    accounts = _others_of(others, account, region)
    timeline: list[tuple[datetime, int, str, Any]] = []
    for number, snapshot in enumerate(snapshots):
        if snapshot.at < start:
            raise ValueError(f"the snapshot {snapshot.identifier} is taken before start")
        timeline.append((snapshot.at.astimezone(UTC), len(timeline), "taken", (number, snapshot)))
        if duplicates is not False:
            again = REDELIVERY if duplicates is True else duplicates
            timeline.append((snapshot.at.astimezone(UTC) + again, len(timeline), "again", (number, snapshot)))
    timeline += [
        (moment.astimezone(UTC), len(timeline) + i, "deleted", arn) for i, (moment, arn) in enumerate(deletions)
    ]
    timeline += [(moment.astimezone(UTC), len(timeline) + i, "retry", arn) for i, (moment, arn) in enumerate(retries)]
    timeline.sort(key=lambda item: (item[0], item[1]))
    runs: list[tuple[Any, datetime]] = []
    deliveries: list[tuple[datetime, str, str]] = []
    with contextlib.ExitStack() as cleanup:
        world = open_world(
            cleanup,
            templates,
            account=account,
            region=region,
            partition=partition_of(region),
            start=start,
            services=lambda _: [RDS.name],
            scenario=scenario,
            busy_seconds=busy_seconds,
            authorize=authorize,
            log=emit,
            other_accounts=accounts,
            others=[BackupFake],
        )
        backup = world.fakes[BackupFake.name]
        assert isinstance(backup, BackupFake)
        rds = world.exports[RDS.name]
        assert isinstance(rds, RdsFake)
        rds.fail_when = fail_when
        rules = [r for player in world.players for r in _rules(player)]
        machines = world.machines
        last: dict[str, tuple[str, Any]] = {}  # snapshot ARN -> (machine, input) of its last run
        for moment, _, kind, payload in timeline:
            machines.interpreter.advance(max(0.0, (moment - world.clock.origin).total_seconds() - world.clock.elapsed))
            if kind == "deleted":
                rds.delete_snapshot(payload)
                continue
            if kind == "retry":
                if payload not in last:
                    raise ValueError(f"no run of {payload} to retry at {moment}")
                machine, given = last[payload]
                name = f"retry-{len(runs) + 1}-{moment:%Y%m%dT%H%M%S}"
                execution = machines.start_by_hand(
                    machine, {**given, "Export": {**given["Export"], "Retry": True}}, name
                )
                runs.append((execution, moment))
                continue
            number, snapshot = payload
            if kind == "taken":
                rds.add_snapshot(snapshot.arn, snapshot.source_arn, automated=snapshot.automated, created=snapshot.at)
                if snapshot.backup_job:
                    backup.add_job(BackupJob(snapshot.backup_job, snapshot.source_arn, snapshot.arn, snapshot.at))
            event = snapshot_event(snapshot, region, account, number=number)
            for rule in rules:
                if not matches(rule.pattern, event):
                    continue
                for target in rule.targets:
                    if not target.get("RoleArn"):
                        # A state machine target needs a role EventBridge assumes to start it.
                        machines.problems.append(f"the rule {rule.name}'s target {target.get('Id')} has no RoleArn")
                        continue
                    name = f"{kind}-{len(deliveries) + 1}-{moment:%Y%m%dT%H%M%S}"
                    run_input = target_input(target, event, rule_arn=rule.arn, rule_name=rule.name)
                    deliveries.append((moment, rule.name, snapshot.arn))
                    last[snapshot.arn] = (str(target["Arn"]), run_input)
                    what = event["detail"].get("EventID") or event["detail-type"]
                    emit(f"{moment:%Y-%m-%dT%H:%M:%SZ} {rule.name}: {what} {snapshot.arn}")
                    execution = machines.start(
                        EVENTS, rule.arn, str(target.get("RoleArn", "")), str(target["Arn"]), run_input, name
                    )
                    if execution is not None:
                        runs.append((execution, moment))
        machines.interpreter.run(limit=drain.total_seconds())
        ledger = ledger_of(world)
        tasks = tasks_of(rds)
    records, problems = outcome(world, runs)
    authorizer = world.authorizer
    return SnapshotResult(
        windows=_windows(tasks, world.events.events, rds),
        runs=records,
        events=list(world.events.events),
        ledger=ledger,
        calls=[c for fake in world.fakes.values() for c in fake.calls],
        problems=problems,
        invocations=machines.invocations,
        transitions=sum(e.total_transitions for e, _ in runs),
        authorization=authorizer.summary() if authorizer is not None else "",
        snapshots=list(snapshots),
        peak_tasks=rds.peak_tasks,
        deliveries=deliveries,
    )


@dataclass(frozen=True)
class _Rule:
    name: str
    arn: str
    pattern: Mapping[str, Any]
    targets: list[Mapping[str, Any]]


def _rules(player: StackPlayer) -> list[_Rule]:
    """The stack's enabled rules with a pattern on the default bus (where RDS sends its events)."""
    found = []
    for logical_id, resource in player.template.resources.items():
        if resource["Type"] != RULE:
            continue
        props = player.resolver.resolve(resource.get("Properties", {}))
        if props.get("State", "ENABLED") != "ENABLED" or "EventPattern" not in props:
            continue
        if props.get("EventBusName", "default") not in ("default", "") and not str(props["EventBusName"]).endswith(
            "event-bus/default"
        ):
            continue
        pattern = props["EventPattern"]
        found.append(
            _Rule(
                player.resolver.ref(logical_id),
                player.resolver.get_att(logical_id, "Arn"),
                json.loads(pattern) if isinstance(pattern, str) else pattern,
                list(props.get("Targets", [])),
            )
        )
    return found


def _windows(tasks: Sequence[Task], events: Sequence[Event], rds: RdsFake) -> list[Window]:
    """A window per snapshot (and prefix) a task was started for, in the order they were taken."""
    windows: dict[tuple[str, str], Window] = {}
    for task in tasks:
        arn, prefix = str(task.request["SourceArn"]), str(task.request.get("S3Prefix", ""))
        window = windows.get((arn, prefix))
        if window is None:
            event = next((e.detail for e in events if e.detail.get("task") == task.id), {})
            known = rds.snapshots.get(arn)
            taken = int(known.created.timestamp() * 1000) if known is not None else 0
            window = windows[(arn, prefix)] = Window(str(event.get("export", "")), arn, taken, taken + 1, prefix)
        window.tasks.append((task.id, task.status))
    return sorted(windows.values(), key=lambda w: (w.start, w.source))


__all__ = ["REDELIVERY", "Snapshot", "SnapshotResult", "backup_event", "simulate_snapshots", "snapshot_event"]

"""Recurring exports, offline: :func:`simulate_schedule` plays a stack's EventBridge Scheduler
schedules over a stretch of virtual time. At each time a schedule fires it authorizes Scheduler
(its role's trust and ``states:StartExecution``) and starts an execution of the run state
machine with the schedule's own input, resolved from the template; the state machine's
definition runs in the simulation's interpreter of the States Language (:mod:`.asl`), each
Lambda task through the real handler (its role authorized to invoke it), against fakes of
the recurring exports' services (CloudWatch Logs, Personalize), DynamoDB (the ledger, executed
by moto) and EventBridge on loopback, each request authorized by the IAM evaluator when
``authorize`` is on. The result lists every window's tasks and outcome, the runs, the events
sent and the ledger as it ends::

    result = simulate_schedule(stack, start=datetime(2026, 11, 1, tzinfo=UTC), periods=3)
    assert result.problems == []
    assert [(w.source, w.start_iso) for w in result.exported()] == [...]
"""

from __future__ import annotations

import contextlib
import json
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..services import CLOUDWATCH_LOGS
from ._runs import (
    Machines,
    RunRecord,
    ScheduleResult,
    Task,
    Window,
    ledger_of,
    open_world,
    outcome,
    tasks_of,
)
from .assembly import simulated_environment
from .fakes.arns import partition_of
from .fakes.base import Log
from .fakes.cloudwatchlogs import Fake as LogsFake
from .fakes.events import Event
from .fakes.jobs import Scenario
from .player import StackPlayer
from .sandbox import set_environment
from .simulate import _others_of, _stacks_of

SCHEDULE = "AWS::Scheduler::Schedule"
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
_WEEK_DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def fire_times(expression: str, zone: str, start: datetime, end: datetime) -> list[datetime]:
    """The instants in ``[start, end)`` a Scheduler ``cron(min hour * * ? *)`` or
    ``cron(min hour ? * DAY *)`` (or hourly ``cron(min * * * ? *)``) expression fires in
    ``zone``: the library's schedules have these forms only."""
    fields = expression.removeprefix("cron(").removesuffix(")").split()
    if len(fields) != 6 or fields[2] not in ("*", "?") or fields[3] != "*" or fields[5] != "*":
        raise ValueError(f"a schedule expression the simulation does not play: {expression}")
    minute, hour, week_day = int(fields[0]), fields[1], fields[4]
    local_zone = zoneinfo.ZoneInfo(zone)
    times: list[datetime] = []
    moment = start.astimezone(UTC).replace(second=0, microsecond=0)
    while moment < end:
        local = moment.astimezone(local_zone)
        if (
            local.minute == minute
            and (hour == "*" or local.hour == int(hour))
            and (week_day in ("*", "?") or _WEEK_DAYS[local.weekday()] == week_day)
            and moment >= start
        ):
            times.append(moment)
        moment += timedelta(minutes=15 if minute % 15 == 0 else 1)
    return times


def simulate_schedule(
    source: Any,
    *,
    start: datetime,
    periods: int | None = None,
    until: datetime | None = None,
    scenario: Scenario | str = Scenario.SUCCESS,
    busy_seconds: float = 600.0,
    fail_when: Callable[[Mapping[str, Any]], bool] | None = None,
    extra_runs: Sequence[datetime] = (),
    authorize: bool | None = None,
    drain: timedelta = timedelta(days=2),
    log: Log | None = None,
    logs_endpoint: str | None = None,
    others: Sequence[Any] = (),
) -> ScheduleResult:
    """Play a stack's recurring exports from ``start`` for ``periods`` of its schedules (or until
    ``until``), then let the runs still going end (at most ``drain`` more).

    Args:
        source: a Stack (synthesized here) or a cloud assembly folder.
        start: when virtual time begins (timezone-aware).
        periods: how many periods of the (first) schedule to play. Default: until ``until``.
        until: when the schedules stop firing. Default: ``periods`` periods after ``start``.
        scenario: how the exports' services behave (:class:`Scenario`); ``BUSY``: another
            stack's task holds the account's slots (CloudWatch Logs' one) for ``busy_seconds``.
        busy_seconds: see ``scenario``.
        fail_when: asked of each CreateExportTask request (CloudWatch Logs'); True makes that
            task fail.
        extra_runs: further instants at which an execution is started with a schedule's input
            (a run started by hand, e.g. while a scheduled one is still going).
        authorize: evaluate every request and access with the IAM evaluator. Default: on when
            ``EXPORT_CONSTRUCTS_AUTHORIZE`` is ``1``.
        drain: how long the runs may go on after the last scheduled one.
        log: called with a line per event of note. Default: silent.
        logs_endpoint: an endpoint that serves CloudWatch Logs instead of the Logs fake (moto's
            server, whose exports write objects to its S3): its requests are not authorized, and
            ``scenario``, ``busy_seconds`` and ``fail_when`` do not apply. Default: the fake.
        others: stacks of other accounts whose resources the runs use (an ``ExportArchive``'s
            stack), each a ``Stack`` or ``StackTemplate`` with a concrete account: not deployed,
            their policies authorize the requests on their resources and S3 knows their buckets,
            as ``simulate``'s ``others``. Default: none.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    emit: Log = log or (lambda _: None)
    templates = [t for t in _stacks_of(source) if any(r["Type"] == SCHEDULE for r in t.resources.values())]
    if not templates:
        raise ValueError("no stack with a recurring export (an AWS::Scheduler::Schedule) to simulate")
    account, region = simulated_environment(templates, None, None)
    accounts = _others_of(others, account, region)
    partition = partition_of(region)
    schedules: list[_Schedule] = []

    def services(players: Sequence[StackPlayer]) -> list[str]:
        schedules.extend(s for p in players for s in _schedules(p))
        return sorted({s.service for s in schedules} | {CLOUDWATCH_LOGS.name})

    with contextlib.ExitStack() as cleanup:
        world = open_world(
            cleanup,
            templates,
            account=account,
            region=region,
            partition=partition,
            start=start,
            services=services,
            scenario=scenario,
            busy_seconds=busy_seconds,
            authorize=authorize,
            log=emit,
            other_accounts=accounts,
            external=[CLOUDWATCH_LOGS.name] if logs_endpoint is not None else [],
        )
        logs = world.exports[CLOUDWATCH_LOGS.name]
        assert isinstance(logs, LogsFake)
        logs.fail_when = fail_when
        if logs_endpoint is not None:
            cleanup.enter_context(set_environment({logs.endpoint_env: logs_endpoint}))
        machine = world.machines
        first = schedules[0]
        end = until or (start + first.period * (periods if periods is not None else 1))
        starts = sorted(
            [(t, s) for s in schedules for t in fire_times(s.expression, s.zone, start, end)]
            + [(t.astimezone(UTC), first) for t in extra_runs],
            key=lambda item: item[0],
        )
        runs: list[tuple[Any, datetime]] = []
        for number, (moment, schedule) in enumerate(starts, 1):
            machine.interpreter.advance(max(0.0, (moment - world.clock.origin).total_seconds() - world.clock.elapsed))
            execution = _start(machine, schedule, moment, f"run-{number}-{moment:%Y%m%dT%H%M}")
            if execution is not None:
                runs.append((execution, moment))
        machine.interpreter.run(limit=drain.total_seconds())
        ledger = ledger_of(world)
        tasks = [t for name, fake in world.exports.items() if name in world.fakes for t in tasks_of(fake)]
        if logs_endpoint is not None:
            tasks += _tasks_at(logs_endpoint, region)
    records, problems = outcome(world, runs)
    authorizer = world.authorizer
    events = world.events
    fakes = world.fakes
    return ScheduleResult(
        windows=_windows(tasks, events.events),
        runs=records,
        events=list(events.events),
        ledger=ledger,
        calls=[c for fake in fakes.values() for c in fake.calls],
        problems=problems,
        invocations=machine.invocations,
        transitions=sum(e.total_transitions for e, _ in runs),
        authorization=authorizer.summary() if authorizer is not None else "",
    )


@dataclass(frozen=True)
class _Schedule:
    player: StackPlayer
    service: str
    expression: str
    zone: str
    machine_arn: str
    role_arn: str
    input: str
    period: timedelta


def _schedules(player: StackPlayer) -> list[_Schedule]:
    found = []
    for resource in player.template.resources.values():
        if resource["Type"] != SCHEDULE:
            continue
        props = player.resolver.resolve(resource["Properties"])
        if props.get("State", "ENABLED") != "ENABLED":
            continue
        target = props["Target"]
        description = json.loads(target["Input"])["Export"]
        period = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}[
            description["Period"]
        ]
        found.append(
            _Schedule(
                player,
                str(description["Service"]),
                props["ScheduleExpression"],
                props.get("ScheduleExpressionTimezone", "UTC"),
                target["Arn"],
                target["RoleArn"],
                target["Input"],
                period,
            )
        )
    return found


def _start(machines: Machines, schedule: _Schedule, moment: datetime, name: str) -> Any:
    """Scheduler's part: it assumes the schedule's role as ``scheduler.amazonaws.com`` from the
    default schedule group, and starts the execution with the schedule's input, its scheduled
    time substituted."""
    fields = schedule.role_arn.split(":")
    group = f"arn:{fields[1]}:scheduler:{machines.interpreter_region}:{fields[4]}:schedule-group/default"
    run_input = json.loads(schedule.input.replace(SCHEDULED_TIME, moment.strftime("%Y-%m-%dT%H:%M:%SZ")))
    return machines.start("scheduler.amazonaws.com", group, schedule.role_arn, schedule.machine_arn, run_input, name)


def _tasks_at(endpoint: str, region: str) -> list[Task]:
    """The tasks another implementation of Logs holds, oldest first."""
    import boto3

    client = boto3.client(
        "logs", endpoint_url=endpoint, region_name=region, aws_access_key_id="x", aws_secret_access_key="x"
    )
    found = [t for page in client.get_paginator("describe_export_tasks").paginate() for t in page["exportTasks"]]
    found.sort(key=lambda t: t.get("executionInfo", {}).get("creationTime", 0))
    return [Task(str(t["taskId"]), t, str(t["status"]["code"])) for t in found]


def _window_of(request: Mapping[str, Any]) -> tuple[str, int | None, int | None, str]:
    """``(source, start, end, prefix)`` of a task's request; start and end are None where the
    request has no time range (Personalize exports a whole dataset: its run's event says which
    ledger range the task stands for)."""
    if "logGroupName" in request:
        return (
            str(request["logGroupName"]),
            int(request["from"]),
            int(request["to"]) + 1,
            str(request.get("destinationPrefix", "")),
        )
    return str(request["datasetArn"]), None, None, str(request["jobOutput"]["s3DataDestination"]["path"])


def _windows(tasks: Sequence[Task], events: Sequence[Event]) -> list[Window]:
    # A window is a source's range under one prefix: the same range of another export (another
    # prefix) is another window. A task without a range is one of its prefix's window.
    windows: dict[tuple[str, int | None, str], Window] = {}
    for task in tasks:
        source, start, end, prefix = _window_of(task.request)
        key = (source, start, prefix)
        window = windows.get(key)
        if window is None:
            event = next((e.detail for e in events if e.detail.get("task") == task.id), {})
            export = str(event.get("export", ""))
            if start is None or end is None:
                start = int(event.get("window", {}).get("startMillis", 0))
                end = int(event.get("window", {}).get("endMillis", 0))
            window = windows[key] = Window(export, source, start, end, prefix)
        window.tasks.append((task.id, task.status))
    return sorted(windows.values(), key=lambda w: (w.start, w.source))


__all__ = ["RunRecord", "ScheduleResult", "Window", "fire_times", "simulate_schedule"]

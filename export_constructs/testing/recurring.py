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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..services import CLOUDWATCH_LOGS
from .asl import Interpreter, TaskFailure
from .assembly import Pseudo, simulated_environment
from .authorize import Access, Authorizer
from .fakes.arns import dns_suffix_of, partition_of
from .fakes.base import Call, FakeService, Log
from .fakes.cloudwatchlogs import Fake as LogsFake
from .fakes.dynamodb import Fake as DynamoDbFake
from .fakes.events import Event
from .fakes.events import Fake as EventsFake
from .fakes.jobs import Scenario, VirtualClock
from .fakes.stepfunctions import Fake as StepFunctionsFake
from .player import StackPlayer
from .sandbox import aws_environment, set_environment
from .simulate import _authorizer, _stacks_of, fake_class
from .waits import SignalReceiver, Waits

SCHEDULE = "AWS::Scheduler::Schedule"
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
#: A task's final status when it succeeded: CloudWatch Logs', Personalize's.
_SUCCEEDED = ("COMPLETED", "ACTIVE")
_WEEK_DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


@dataclass
class Window:
    """One window of one source, as the simulation saw it."""

    export: str
    source: str
    start: int
    """Epoch milliseconds, inclusive (for a task without a time range, Personalize's: the start
    of the ledger range its event names)."""
    end: int
    """Epoch milliseconds, exclusive (the task's ``to`` is ``end - 1``)."""
    prefix: str = ""
    """The ``destinationPrefix`` (Personalize: the ``s3://`` path) its tasks wrote under."""
    tasks: list[tuple[str, str]] = field(default_factory=list)
    """``(task id, final status)`` of each task started for it, in order."""

    @property
    def exported(self) -> bool:
        return any(status in _SUCCEEDED for _, status in self.tasks)

    @property
    def start_iso(self) -> str:
        return datetime.fromtimestamp(self.start / 1000, UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass
class RunRecord:
    """One execution of the run state machine."""

    arn: str
    scheduled: datetime
    status: str
    error: str | None
    cause: str | None
    started: float
    ended: float | None


@dataclass
class ScheduleResult:
    """What :func:`simulate_schedule` saw."""

    windows: list[Window]
    """Every window a task was started for, oldest first (by start, then source)."""
    runs: list[RunRecord]
    events: list[Event]
    """The events the runs put on EventBridge, in order."""
    ledger: dict[str, dict[str, Any]]
    """The ledger's items as the simulation ends (DynamoDB JSON), by ``Source`` key."""
    calls: list[Call]
    problems: list[str]
    """Everything wrong: the fakes' findings, authorization denials, runs that did not succeed
    (unless ``expect_failed_runs``), executions still running at the end."""
    invocations: int = 0
    """Lambda invocations of the runs (every task state's)."""
    transitions: int = 0
    """State transitions of the runs and their child executions (what Step Functions bills)."""
    authorization: str = ""

    def exported(self, source: str | None = None) -> list[Window]:
        """The exported windows (of ``source``), oldest first."""
        return [w for w in self.windows if w.exported and (source is None or w.source == source)]


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
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    emit: Log = log or (lambda _: None)
    templates = [t for t in _stacks_of(source) if any(r["Type"] == SCHEDULE for r in t.resources.values())]
    if not templates:
        raise ValueError("no stack with a recurring export (an AWS::Scheduler::Schedule) to simulate")
    account, region = simulated_environment(templates, None, None)
    partition = partition_of(region)
    clock = VirtualClock()
    clock.origin = start.astimezone(UTC)
    services: list[str] = []
    with contextlib.ExitStack() as cleanup:
        stepfunctions = StepFunctionsFake(clock=clock, region=region, account=account)
        cleanup.enter_context(stepfunctions)
        waits = Waits(stepfunctions, cleanup.enter_context(SignalReceiver()))
        players = [
            StackPlayer(
                t,
                Pseudo(t.name, account=account, region=region, partition=partition, url_suffix=dns_suffix_of(region)),
                clock,
                emit,
                waits,
            )
            for t in templates
        ]
        schedules = [s for p in players for s in _schedules(p)]
        # A fake of each recurring export's service (``fake_class``), as the one-shot simulation starts them.
        services = sorted({s.service for s in schedules} | {CLOUDWATCH_LOGS.name})
        exports: dict[str, FakeService] = {}
        for name in services:
            exports[name] = fake_class(name)(scenario=scenario, clock=clock, region=region, account=account, log=emit)
            exports[name].busy_seconds = busy_seconds
        logs = exports[CLOUDWATCH_LOGS.name]
        assert isinstance(logs, LogsFake)
        logs.fail_when = fail_when
        dynamodb = DynamoDbFake(clock=clock, region=region, account=account, log=emit)
        events = EventsFake(clock=clock, region=region, account=account, log=emit)
        fakes: dict[str, FakeService] = {
            "DynamoDB": cleanup.enter_context(dynamodb),
            "EventBridge": cleanup.enter_context(events),
        }
        for name, fake in exports.items():
            if name != CLOUDWATCH_LOGS.name or logs_endpoint is None:
                fakes[name] = cleanup.enter_context(fake)
        authorizer = _authorizer(authorize, players)
        for fake in fakes.values():
            fake.authorizer = authorizer
        for player in players:
            player.authorizer = authorizer
            for logical_id, resource in player.template.resources.items():
                if resource["Type"] == "AWS::DynamoDB::Table":
                    key = resource["Properties"]["KeySchema"][0]["AttributeName"]
                    dynamodb.create_table(player.resolver.ref(logical_id), key)
        cleanup.enter_context(aws_environment(fakes, region))
        if logs_endpoint is not None:
            cleanup.enter_context(set_environment({logs.endpoint_env: logs_endpoint}))
        machine = _Machines(players, authorizer, clock, region, account, partition)
        first = schedules[0]
        end = until or (start + first.period * (periods if periods is not None else 1))
        starts = sorted(
            [(t, s) for s in schedules for t in fire_times(s.expression, s.zone, start, end)]
            + [(t.astimezone(UTC), first) for t in extra_runs],
            key=lambda item: item[0],
        )
        runs: list[tuple[Any, datetime]] = []
        for number, (moment, schedule) in enumerate(starts, 1):
            machine.interpreter.advance(max(0.0, (moment - clock.origin).total_seconds() - clock.elapsed))
            execution = machine.start(schedule, moment, f"run-{number}-{moment:%Y%m%dT%H%M}")
            if execution is not None:
                runs.append((execution, moment))
        machine.interpreter.run(limit=drain.total_seconds())
        ledger = {
            str(item["Source"]["S"]): item
            for player in players
            for logical_id, resource in player.template.resources.items()
            if resource["Type"] == "AWS::DynamoDB::Table"
            for item in dynamodb.items(player.resolver.ref(logical_id))
        }
        tasks = [t for name, fake in exports.items() if name in fakes for t in _tasks_of(fake)]
        if logs_endpoint is not None:
            tasks += _tasks_at(logs_endpoint, region)
    problems = [p for fake in fakes.values() for p in fake.problems] + machine.problems
    records = []
    for execution, moment in runs:
        records.append(
            RunRecord(
                execution.arn,
                moment,
                str(execution.status),
                execution.error,
                execution.cause,
                execution.start_time,
                execution.stop_time,
            )
        )
        if records[-1].status == "RUNNING":
            problems.append(f"the run {execution.arn} was still running when the simulation ended")
    if authorizer is not None:
        problems += authorizer.problems
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


class _Machines:
    """Starts runs as Scheduler does and invokes their functions as Step Functions does."""

    def __init__(
        self,
        players: Sequence[StackPlayer],
        authorizer: Authorizer | None,
        clock: VirtualClock,
        region: str,
        account: str,
        partition: str,
    ) -> None:
        self._players = players
        self._authorizer = authorizer
        self.problems: list[str] = []
        self.invocations = 0
        self.interpreter = Interpreter(clock, self._invoke, region=region, account=account, partition=partition)
        self._roles: dict[str, str] = {}
        self._definitions: dict[str, Mapping[str, Any]] = {}
        for player in players:
            for logical_id, resource in player.template.resources.items():
                if resource["Type"] == "AWS::StepFunctions::StateMachine":
                    arn = player.resolver.ref(logical_id)
                    self._roles[arn] = str(player.resolver.resolve(resource["Properties"]["RoleArn"]))
                    self._definitions[arn] = player.template.definition(logical_id, player.resolver)

    def start(self, schedule: _Schedule, moment: datetime, name: str) -> Any:
        """Scheduler's part: assume the schedule's role, start the execution."""
        if self._authorizer is not None:
            group = f"arn:{schedule.role_arn.split(':')[1]}:scheduler:{self.interpreter_region}:"
            group += f"{schedule.role_arn.split(':')[4]}:schedule-group/default"
            trusted = self._authorizer.check(
                Access(
                    "scheduler.amazonaws.com",
                    "sts:AssumeRole",
                    schedule.role_arn,
                    {"aws:SourceAccount": schedule.role_arn.split(":")[4], "aws:SourceArn": group},
                )
            )
            allowed = self._authorizer.check(Access(schedule.role_arn, "states:StartExecution", schedule.machine_arn))
            if not (trusted and allowed):
                return None
        run_input = json.loads(schedule.input.replace(SCHEDULED_TIME, moment.strftime("%Y-%m-%dT%H:%M:%SZ")))
        return self.interpreter.start(
            self._definitions[schedule.machine_arn], run_input, name=name, state_machine=schedule.machine_arn
        )

    @property
    def interpreter_region(self) -> str:
        return self._players[0].pseudo.region

    def _invoke(self, function_arn: str, payload: Any) -> Any:
        """Step Functions' Lambda task: the state machine's role may invoke the function."""
        # The role of the state machine whose definition calls the function (the run's).
        role = next((r for arn, r in self._roles.items() if function_arn in json.dumps(self._definitions[arn])), "")
        if self._authorizer is not None and not self._authorizer.check(
            Access(role, "lambda:InvokeFunction", function_arn)
        ):
            raise TaskFailure("Lambda.AccessDeniedException", f"{role} may not invoke {function_arn}")
        self.invocations += 1
        for player in self._players:
            if any(
                r["Type"] == "AWS::Lambda::Function" and player.resolver.get_att(k, "Arn") == function_arn
                for k, r in player.template.resources.items()
            ):
                return player._invoke_arn(function_arn, payload)
        raise TaskFailure("Lambda.ResourceNotFoundException", f"no function {function_arn}")


@dataclass(frozen=True)
class _Task:
    id: str
    request: Mapping[str, Any]
    status: str


def _tasks_of(fake: FakeService) -> list[_Task]:
    """The fake's tasks, oldest first."""
    jobs = sorted(fake.jobs.values(), key=lambda j: j.created)
    return [_Task(j.id, j.fields["request"], j.status) for j in jobs]


def _tasks_at(endpoint: str, region: str) -> list[_Task]:
    """The tasks another implementation of Logs holds, oldest first."""
    import boto3

    client = boto3.client(
        "logs", endpoint_url=endpoint, region_name=region, aws_access_key_id="x", aws_secret_access_key="x"
    )
    found = [t for page in client.get_paginator("describe_export_tasks").paginate() for t in page["exportTasks"]]
    found.sort(key=lambda t: t.get("executionInfo", {}).get("creationTime", 0))
    return [_Task(str(t["taskId"]), t, str(t["status"]["code"])) for t in found]


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


def _windows(tasks: Sequence[_Task], events: Sequence[Event]) -> list[Window]:
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

"""What the simulations of recurring and event-driven exports share (:mod:`.recurring`'s
schedules, :mod:`.snapshots`' RDS events): the world the runs play in (the stacks' players on one
virtual clock, the export services' fakes, DynamoDB and EventBridge, the authorizer), the
:class:`Machines` that start executions of a run state machine as the triggering service does and
invoke its functions as Step Functions does, and the results (:class:`ScheduleResult`, its
:class:`Window` and :class:`RunRecord` items)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .accounts import OtherStack, start_s3
from .asl import Interpreter, TaskFailure
from .assembly import StackTemplate
from .authorize import Access, Authorizer
from .fakes.arns import account_of, dns_suffix_of
from .fakes.base import Call, FakeService, Log
from .fakes.dynamodb import Fake as DynamoDbFake
from .fakes.events import Event
from .fakes.events import Fake as EventsFake
from .fakes.jobs import Scenario, VirtualClock
from .fakes.stepfunctions import Fake as StepFunctionsFake
from .player import StackPlayer
from .resolver import Pseudo
from .sandbox import aws_environment
from .simulate import _authorizer, fake_class
from .waits import SignalReceiver, Waits

#: A task's final status when it succeeded: CloudWatch Logs', Personalize's, RDS's.
SUCCEEDED = ("COMPLETED", "ACTIVE", "COMPLETE")


@dataclass
class Window:
    """One window of one source, as the simulation saw it."""

    export: str
    source: str
    start: int
    """Epoch milliseconds, inclusive (for a task without a time range, Personalize's: the start
    of the ledger range its event names; an RDS snapshot's: when it was taken)."""
    end: int
    """Epoch milliseconds, exclusive (the task's ``to`` is ``end - 1``)."""
    prefix: str = ""
    """The ``destinationPrefix`` (Personalize: the ``s3://`` path) its tasks wrote under."""
    tasks: list[tuple[str, str]] = field(default_factory=list)
    """``(task id, final status)`` of each task started for it, in order."""

    @property
    def exported(self) -> bool:
        return any(status in SUCCEEDED for _, status in self.tasks)

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
    """What :func:`~.recurring.simulate_schedule` saw."""

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


@dataclass(frozen=True)
class Task:
    id: str
    request: Mapping[str, Any]
    status: str


def tasks_of(fake: FakeService) -> list[Task]:
    """The fake's tasks, oldest first."""
    jobs = sorted(fake.jobs.values(), key=lambda j: j.created)
    return [Task(j.id, j.fields["request"], j.status) for j in jobs]


@dataclass
class World:
    """The stacks' players and the fakes the runs call, on one virtual clock."""

    players: list[StackPlayer]
    clock: VirtualClock
    region: str
    account: str
    partition: str
    exports: dict[str, FakeService]
    """The export services' fakes by service name (``Rds``, ``CloudWatchLogs``...)."""
    fakes: dict[str, FakeService]
    """Every fake serving the handler: the served export fakes, ``DynamoDB``, ``EventBridge``."""
    dynamodb: DynamoDbFake
    events: EventsFake
    authorizer: Authorizer | None
    machines: Machines


def open_world(
    cleanup: contextlib.ExitStack,
    templates: Sequence[StackTemplate],
    *,
    account: str,
    region: str,
    partition: str,
    start: datetime,
    services: Callable[[Sequence[StackPlayer]], Sequence[str]],
    scenario: Scenario | str,
    busy_seconds: float,
    authorize: bool | None,
    log: Log,
    external: Sequence[str] = (),
    others: Sequence[type[FakeService]] = (),
    other_accounts: Sequence[OtherStack] = (),
) -> World:
    """Start the fakes of the services ``services`` names for the stacks' players (those in
    ``external`` are made but not served: another implementation answers), DynamoDB with each
    stack's tables, EventBridge, S3 with every bucket of the stacks and of ``other_accounts``
    (stacks of other accounts, whose policies the authorizer evaluates too), the fakes of
    ``others`` (e.g. AWS Backup), and the players of ``templates``, the clock starting at
    ``start``; point the handler's clients at the fakes. ``cleanup`` stops them all."""
    clock = VirtualClock()
    clock.origin = start.astimezone(UTC)
    stepfunctions = StepFunctionsFake(clock=clock, region=region, account=account)
    cleanup.enter_context(stepfunctions)
    waits = Waits(stepfunctions, cleanup.enter_context(SignalReceiver()))
    players = [
        StackPlayer(
            t,
            Pseudo(t.name, account=account, region=region, partition=partition, url_suffix=dns_suffix_of(region)),
            clock,
            log,
            waits,
        )
        for t in templates
    ]
    # A fake of each export's service (``fake_class``), as the one-shot simulation starts them.
    exports: dict[str, FakeService] = {}
    for name in services(players):
        exports[name] = fake_class(name)(scenario=scenario, clock=clock, region=region, account=account, log=log)
        exports[name].busy_seconds = busy_seconds
    dynamodb = DynamoDbFake(clock=clock, region=region, account=account, log=log)
    events = EventsFake(clock=clock, region=region, account=account, log=log)
    fakes: dict[str, FakeService] = {
        "DynamoDB": cleanup.enter_context(dynamodb),
        "EventBridge": cleanup.enter_context(events),
    }
    for name, fake in exports.items():
        if name not in external:
            fakes[name] = cleanup.enter_context(fake)
    for other in others:
        fakes[other.name] = cleanup.enter_context(other(clock=clock, region=region, account=account, log=log))
    buckets = [(p.template, p.resolver) for p in players] + [(o.template, o.resolver) for o in other_accounts]
    fakes["S3"] = start_s3(cleanup, buckets, clock=clock, region=region, account=account, log=log)
    authorizer = _authorizer(authorize, players, other_accounts)
    for fake in fakes.values():
        fake.authorizer = authorizer
    for player in players:
        player.authorizer = authorizer
        for logical_id, resource in player.template.resources.items():
            if resource["Type"] == "AWS::DynamoDB::Table":
                key = resource["Properties"]["KeySchema"][0]["AttributeName"]
                dynamodb.create_table(player.resolver.ref(logical_id), key)
    cleanup.enter_context(aws_environment(fakes, region))
    machines = Machines(players, authorizer, clock, region, account, partition)
    return World(players, clock, region, account, partition, exports, fakes, dynamodb, events, authorizer, machines)


def ledger_of(world: World) -> dict[str, dict[str, Any]]:
    """Every ledger table's items (DynamoDB JSON), by ``Source`` key."""
    return {
        str(item["Source"]["S"]): item
        for player in world.players
        for logical_id, resource in player.template.resources.items()
        if resource["Type"] == "AWS::DynamoDB::Table"
        for item in world.dynamodb.items(player.resolver.ref(logical_id))
    }


def outcome(world: World, runs: Sequence[tuple[Any, datetime]]) -> tuple[list[RunRecord], list[str]]:
    """The runs' records, and every problem: the fakes', the machines', a run still running, the
    authorizer's."""
    problems = [p for fake in world.fakes.values() for p in fake.problems] + world.machines.problems
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
    if world.authorizer is not None:
        problems += world.authorizer.problems
    return records, problems


class Machines:
    """Starts runs as the triggering service does (Scheduler, an EventBridge rule) and invokes
    their functions as Step Functions does."""

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

    def start(self, service: str, source_arn: str, role_arn: str, machine_arn: str, run_input: Any, name: str) -> Any:
        """The triggering ``service``'s part (``scheduler.amazonaws.com``, ``events.amazonaws.com``):
        assume the target's role, with the confused-deputy keys it sends (``aws:SourceAccount``,
        ``aws:SourceArn``: the schedule group's or rule's ARN), then start the execution as that
        role. None when IAM denies either (the service's invocation fails)."""
        if machine_arn not in self._definitions:
            self.problems.append(f"{service} targets {machine_arn}, which is no state machine of the stacks")
            return None
        if self._authorizer is not None:
            trusted = self._authorizer.check(
                Access(
                    service,
                    "sts:AssumeRole",
                    role_arn,
                    {"aws:SourceAccount": account_of(role_arn), "aws:SourceArn": source_arn},
                )
            )
            allowed = self._authorizer.check(Access(role_arn, "states:StartExecution", machine_arn))
            if not (trusted and allowed):
                return None
        return self.interpreter.start(self._definitions[machine_arn], run_input, name=name, state_machine=machine_arn)

    def start_by_hand(self, machine_arn: str, run_input: Any, name: str) -> Any:
        """An operator's start of an execution (a retry): their own permission to start it is not
        the library's, so it is not evaluated."""
        return self.interpreter.start(self._definitions[machine_arn], run_input, name=name, state_machine=machine_arn)

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

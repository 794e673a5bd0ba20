"""What an execution of the simulation's Step Functions interpreter is made of: the
:class:`Execution` a caller reads (status, output, error, history, counters), its history
:class:`Event`, and the strands the interpreter runs it as (its main path, each Map iteration
and Parallel branch) with what a strand waits for (:class:`Sleep`, :data:`JOIN`)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .asl_paths import StatesError

Invoke = Callable[[str, Any], Any]
"""Invoke a Lambda function (by the ARN or name the Task gives) with a payload; return its
answer, or raise: see :class:`TaskFailure`."""

HISTORY_LIMIT = 25_000
"""Events an execution's history may hold: "If the execution history reaches this quota, the
execution will fail" (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html)."""


class TaskFailure(StatesError):
    """Raise from ``invoke`` to fail a Lambda task with exactly this error name and cause, as
    the Lambda service reports its own errors (``Lambda.ServiceException``,
    ``Lambda.TooManyRequestsException``, ``Lambda.Unknown`` for a function that timed out...).
    Any other exception is the function's unhandled error: its ``errorType`` attribute, else its
    class name, and a cause with ``errorMessage`` and ``errorType`` as Lambda answers it."""


class Status(enum.StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"


@dataclass(frozen=True)
class Event:
    """One history event: Step Functions' event type (e.g. ``TaskStateEntered``), the virtual
    instant it happened at, and details (``name``, ``input``, ``output``, ``error``, ``cause``,
    ``resource``, ``index``... as the event type has them)."""

    id: int
    type: str
    timestamp: float
    details: Mapping[str, Any]


@dataclass(eq=False)
class Execution:
    """One execution: what DescribeExecution and GetExecutionHistory would tell of it."""

    arn: str
    name: str
    state_machine_arn: str
    definition: Mapping[str, Any]
    input: Any
    start_time: float
    """The virtual instant it started."""
    status: Status = Status.RUNNING
    output: Any = None
    error: str | None = None
    cause: str | None = None
    stop_time: float | None = None
    history: list[Event] = field(default_factory=list)
    transitions: int = 0
    """State transitions, what a Standard workflow is billed by: each state entered, and each
    retry of a state (https://aws.amazon.com/step-functions/pricing/)."""
    invocations: int = 0
    """Lambda invocations, retries included."""
    deadline: float | None = None
    """The virtual instant the definition's ``TimeoutSeconds`` ends it, if it has one."""
    parent: Execution | None = field(default=None, repr=False)
    """The execution whose Distributed Map started this one as a child execution, else None."""
    map_run_arn: str | None = None
    """A child execution's map run."""
    children: list[Execution] = field(default_factory=list, repr=False)
    """The child executions its Distributed Map states started, in the order they started."""
    map_runs: list[str] = field(default_factory=list)
    """The ARNs of the map runs its Distributed Map states started (one per attempt)."""

    @property
    def event_types(self) -> list[str]:
        return [event.type for event in self.history]

    def tree(self) -> Iterator[Execution]:
        """This execution, then its child executions' trees in the order they started."""
        yield self
        for child in self.children:
            yield from child.tree()

    @property
    def total_transitions(self) -> int:
        """State transitions of this execution and every child execution under it."""
        return sum(execution.transitions for execution in self.tree())

    @property
    def total_invocations(self) -> int:
        """Lambda invocations of this execution and every child execution under it."""
        return sum(execution.invocations for execution in self.tree())

    def events(self, kind: str) -> list[Event]:
        return [event for event in self.history if event.type == kind]


class ExecutionEnd(Exception):
    """Raised inside a strand to end its whole execution at once (no Catch sees it): the
    history limit, for one."""

    def __init__(self, status: Status, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.status, self.error, self.cause = status, error, cause


@dataclass(frozen=True)
class Sleep:
    """A strand waits until the virtual instant ``until`` (a Wait state, a retry's interval)."""

    until: float


class _Join:
    """A strand waits until one of its child strands or child executions ends (a Map or
    Parallel state)."""


JOIN = _Join()
Command = Sleep | _Join
Body = Generator[Command, None, Any]


@dataclass(eq=False)
class Strand:
    """One line of control of an execution: its main path, a Map iteration or a Parallel
    branch. Its body is a generator of :data:`Command`; the interpreter resumes it when what
    it waits for has come."""

    execution: Execution
    parent: Strand | None
    body: Body | None = None
    children: list[Strand] = field(default_factory=list)
    executions: list[Execution] = field(default_factory=list)
    """The child executions it started (a Distributed Map), stopped when it is cancelled."""
    done: bool = False
    output: Any = None
    error: StatesError | None = None
    joining: bool = False

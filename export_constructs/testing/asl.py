"""An interpreter of the Amazon States Language that CDK's Step Functions L2s write (JSONPath:
Pass, Task on Lambda, Choice, Wait, Succeed, Fail, Parallel, inline and Distributed Map; Retry
and Catch; input and output processing; the context object; a few intrinsic functions), so the
simulation runs a synthesized state machine as Step Functions would, on the simulation's
:class:`.VirtualClock`.

Many executions run at once on the one clock, each as strands (its main path, Map iterations,
Parallel branches) interleaved in virtual time. A Distributed Map's items run as child
executions, each with its own history, found in the parent's :attr:`Execution.children`.
Nothing here sleeps: a driver lets executions run until each waits
(:meth:`Interpreter.run_until_idle`), asks when the next one wakes
(:meth:`~Interpreter.next_wake`), and moves the clock on (:meth:`~Interpreter.advance`), with
other simulated events (fake services on the same clock) in between; or runs everything to the
end (:meth:`~Interpreter.run`)::

    interpreter = Interpreter(VirtualClock(), invoke=lambda arn, payload: {...})
    execution = interpreter.start(definition, {"Plan": {...}}, name="nightly")
    interpreter.run()
    assert execution.status == "SUCCEEDED" and execution.invocations == 3

A definition it cannot run as Step Functions would is refused at :meth:`~Interpreter.start` with
a :class:`ValueError` naming the state and the field."""

from __future__ import annotations

import heapq
import itertools
import json
import uuid
from collections import deque
from collections.abc import Mapping
from typing import Any

from . import asl_definition
from .asl_execution import (
    HISTORY_LIMIT,
    JOIN,
    Event,
    Execution,
    ExecutionEnd,
    Invoke,
    Sleep,
    Status,
    Strand,
    TaskFailure,
)
from .asl_paths import RUNTIME, TIMEOUT, StatesError
from .asl_states import States
from .fakes.jobs import VirtualClock

__all__ = ["Event", "Execution", "Interpreter", "Invoke", "StatesError", "Status", "TaskFailure"]

_DUE = 1e-9
"""Slack when comparing virtual instants: a clock moved by ``wake - elapsed`` may land a
rounding error short of ``wake``."""
_TERMINAL = {"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}


class Interpreter:
    """Runs executions of state machine definitions on ``clock``; Lambda tasks call ``invoke``.

    ``region``, ``account`` and ``partition`` make the ARNs of state machines given by name."""

    def __init__(
        self,
        clock: VirtualClock,
        invoke: Invoke | None = None,
        *,
        region: str = "us-east-1",
        account: str = "123456789012",
        partition: str = "aws",
    ) -> None:
        self.clock = clock
        self._invoke = invoke
        self._where = f"arn:{partition}:states:{region}:{account}"
        self.executions: list[Execution] = []
        self._states = States(self)
        self._roots: dict[Execution, Strand] = {}
        self._ready: deque[Strand] = deque()
        self._timers: list[tuple[float, int, Strand]] = []
        self._order = itertools.count()
        self._current: Strand | None = None
        self._waiters: dict[Execution, Strand] = {}
        """The strand (a Distributed Map's) each running child execution's end wakes."""

    # -- executions ---------------------------------------------------------------------------

    def start(
        self,
        definition: Mapping[str, Any] | str,
        input: Any = None,
        *,
        name: str | None = None,
        state_machine: str = "Simulated",
    ) -> Execution:
        """Start an execution of ``definition`` (an object or its JSON) with ``input`` (a JSON
        value; default ``{}``); it runs at the next :meth:`run_until_idle`. ``state_machine`` is
        the machine's ARN or name; the execution's ARN is made from it and ``name`` as
        StartExecution makes it."""
        parsed: Mapping[str, Any] = json.loads(definition) if isinstance(definition, str) else definition
        asl_definition.check(parsed, can_invoke=self._invoke is not None)
        machine_arn = (
            state_machine if state_machine.startswith("arn:") else f"{self._where}:stateMachine:{state_machine}"
        )
        name = name or f"execution-{len(self.executions) + 1}"
        head, _, machine_name = machine_arn.rpartition(":stateMachine:")
        arn = f"{head}:execution:{machine_name}:{name}"
        if any(other.arn == arn for other in self.executions):
            raise ValueError(f"ExecutionAlreadyExists: an execution {arn} was started before")
        data = {} if input is None else json.loads(json.dumps(input))
        execution = Execution(arn, name, machine_arn, parsed, data, self.clock.elapsed)
        if "TimeoutSeconds" in parsed:
            execution.deadline = self.clock.elapsed + parsed["TimeoutSeconds"]
        self.executions.append(execution)
        self.record(execution, "ExecutionStarted", input=data)
        root = Strand(execution, None)
        root.body = self._states.machine(root, parsed, data)
        self._roots[execution] = root
        self._ready.append(root)
        return execution

    def stop(self, execution: Execution, error: str | None = None, cause: str | None = None) -> None:
        """StopExecution: a running execution ends ``ABORTED`` (nothing happens to an ended one);
        so do the child executions its Distributed Map states run."""
        if execution.status == Status.RUNNING:
            self._end(execution, Status.ABORTED, error=error, cause=cause)

    @property
    def running(self) -> list[Execution]:
        """The executions :meth:`start` started that still run (child executions are each
        parent's :attr:`Execution.children`)."""
        return [execution for execution in self.executions if execution.status == Status.RUNNING]

    def new_map_run(self, execution: Execution, label: str) -> str:
        """The ARN of a new map run of ``execution``'s Distributed Map state ``label``:
        ``arn:<partition>:states:<region>:<account>:mapRun:<machine name>/<label>:<id>``
        (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-examine-map-run.html);
        the id is derived from the execution and the run's number, so runs are reproducible."""
        head, _, machine_name = execution.state_machine_arn.rpartition(":stateMachine:")
        run_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{execution.arn}#{len(execution.map_runs)}")
        arn = f"{head}:mapRun:{machine_name}/{label}:{run_id}"
        execution.map_runs.append(arn)
        return arn

    def start_child(
        self, parent: Strand, machine: Mapping[str, Any], data: Any, *, map_run_arn: str, index: int
    ) -> Execution:
        """A child execution of a Distributed Map (https://docs.aws.amazon.com/step-functions/
        latest/dg/state-map-distributed.html): an execution of its own, with its own history
        (and history limit) and context object, on ``data`` (the item as ItemSelector made it).
        Its ARN is ``arn:<partition>:states:<region>:<account>:execution:<machine name>/<label>:<id>``;
        it runs from the next :meth:`run_until_idle`, and its end wakes ``parent``."""
        owner = parent.execution
        head, _, rest = map_run_arn.rpartition(":mapRun:")
        path, _, run_id = rest.rpartition(":")
        name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run_id}#{index}"))
        data = json.loads(json.dumps(data))
        child = Execution(
            f"{head}:execution:{path}:{name}",
            name,
            f"{head}:stateMachine:{path}",
            machine,
            data,
            self.clock.elapsed,
            parent=owner,
            map_run_arn=map_run_arn,
        )
        owner.children.append(child)
        parent.executions.append(child)
        self._waiters[child] = parent
        self.record(child, "ExecutionStarted", input=data)
        root = Strand(child, None)
        root.body = self._states.machine(root, machine, data)
        self._roots[child] = root
        self._ready.append(root)
        return child

    # -- time -----------------------------------------------------------------------------------

    def run_until_idle(self) -> None:
        """Run every strand that can run at the current instant (overdue ones too, in the order
        they were due) until each waits for a later instant, or its execution has ended."""
        while True:
            now = self.clock.elapsed
            for execution in self.running:
                if execution.deadline is not None and execution.deadline <= now + _DUE:
                    # The machine's TimeoutSeconds: the execution fails with States.Timeout
                    # (https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html).
                    self._end(
                        execution, Status.TIMED_OUT, error=TIMEOUT, cause="The execution ran past its TimeoutSeconds"
                    )
            while self._timers and self._timers[0][0] <= now + _DUE:
                strand = heapq.heappop(self._timers)[2]
                if not strand.done:
                    self._ready.append(strand)
            if not self._ready:
                return
            while self._ready:
                strand = self._ready.popleft()
                if not strand.done:
                    self._step(strand)

    def next_wake(self) -> float | None:
        """The virtual instant the next waiting strand wakes or an execution times out; None
        when nothing waits (every execution has ended)."""
        while self._timers and self._timers[0][2].done:
            heapq.heappop(self._timers)
        instants = [self._timers[0][0]] if self._timers else []
        instants += [e.deadline for e in self.running if e.deadline is not None]
        if any(not strand.done for strand in self._ready):  # (one woken, then cancelled, will not run)
            instants.append(self.clock.elapsed)
        return min(instants, default=None)

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass, running each strand at the instant it wakes."""
        target = self.clock.elapsed + seconds
        self.run_until_idle()
        while (wake := self.next_wake()) is not None and wake <= target + _DUE:
            if wake > self.clock.elapsed:
                self.clock.advance(wake - self.clock.elapsed)
            self.run_until_idle()
        if target > self.clock.elapsed:
            self.clock.advance(target - self.clock.elapsed)
        self.run_until_idle()

    def run(self, limit: float | None = None) -> None:
        """Run until every execution has ended, moving the clock from wake to wake; stop after
        ``limit`` virtual seconds if given (executions still running then stay running)."""
        end = None if limit is None else self.clock.elapsed + limit
        self.run_until_idle()
        while (wake := self.next_wake()) is not None:
            if end is not None and wake > end:
                self.advance(end - self.clock.elapsed)
                return
            self.advance(max(wake - self.clock.elapsed, 0.0))

    # -- what the states call -----------------------------------------------------------------

    def spawn(self, parent: Strand, machine: Mapping[str, Any], data: Any) -> Strand:
        """A child strand running ``machine`` on ``data`` (a Map iteration, a Parallel branch)."""
        child = Strand(parent.execution, parent)
        child.body = self._states.machine(child, machine, data)
        parent.children.append(child)
        self._ready.append(child)
        return child

    def cancel(self, strand: Strand) -> None:
        """End ``strand`` and everything it started, wherever they wait."""
        for child in strand.children:
            self.cancel(child)
        for execution in strand.executions:
            self.stop(execution)
        if strand.done:
            return
        strand.done = True
        if strand is not self._current and strand.body is not None:
            strand.body.close()

    def record(self, execution: Execution, kind: str, **details: Any) -> None:
        """Add an event to the history; past the history limit the execution fails. A strand
        of an execution that has ended (stopped from inside a task) ends here too."""
        if execution.status != Status.RUNNING and kind not in _TERMINAL:
            raise ExecutionEnd(execution.status, execution.error or "", execution.cause or "")
        if len(execution.history) >= HISTORY_LIMIT - 1 and kind not in _TERMINAL:
            raise ExecutionEnd(Status.FAILED, RUNTIME, f"The execution history reached {HISTORY_LIMIT} events")
        event = Event(len(execution.history) + 1, kind, self.clock.elapsed, details)
        execution.history.append(event)

    def invoke(self, function: str, payload: Any) -> Any:
        assert self._invoke is not None  # a definition with tasks needs it to start
        return self._invoke(function, payload)

    # -- the strands ----------------------------------------------------------------------------

    def _step(self, strand: Strand) -> None:
        """Resume ``strand`` until it waits or ends."""
        assert strand.body is not None
        self._current = strand
        try:
            command = strand.body.send(None)
        except StopIteration as finished:
            self._finish(strand, output=finished.value)
            return
        except StatesError as error:
            self._finish(strand, error=error)
            return
        except ExecutionEnd as end:
            self._end(strand.execution, end.status, error=end.error, cause=end.cause)
            return
        finally:
            self._current = None
        if strand.done:  # cancelled while it ran (its execution stopped from inside a task)
            strand.body.close()
        elif isinstance(command, Sleep):
            heapq.heappush(self._timers, (command.until, next(self._order), strand))
        else:
            assert command is JOIN
            strand.joining = True

    def _finish(self, strand: Strand, *, output: Any = None, error: StatesError | None = None) -> None:
        strand.done, strand.output, strand.error = True, output, error
        parent = strand.parent
        if parent is None:
            if error is None:
                self._end(strand.execution, Status.SUCCEEDED, output=output)
            else:
                self._end(strand.execution, Status.FAILED, error=error.error, cause=error.cause)
        elif parent.joining and not parent.done:
            parent.joining = False
            self._ready.append(parent)

    def _end(
        self,
        execution: Execution,
        status: Status,
        *,
        output: Any = None,
        error: str | None = None,
        cause: str | None = None,
    ) -> None:
        if execution.status != Status.RUNNING:
            return
        self.cancel(self._roots[execution])
        execution.status, execution.output, execution.error, execution.cause = status, output, error, cause
        execution.stop_time = self.clock.elapsed
        kind = {
            Status.SUCCEEDED: "ExecutionSucceeded",
            Status.FAILED: "ExecutionFailed",
            Status.TIMED_OUT: "ExecutionTimedOut",
            Status.ABORTED: "ExecutionAborted",
        }[status]
        details = {"output": output} if status == Status.SUCCEEDED else {"error": error, "cause": cause}
        self.record(execution, kind, **details)
        waiter = self._waiters.pop(execution, None)
        if waiter is not None and waiter.joining and not waiter.done:
            waiter.joining = False
            self._ready.append(waiter)

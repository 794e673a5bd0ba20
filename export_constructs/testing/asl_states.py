"""How each state type runs, as generators the interpreter resumes: a strand's body yields a
:class:`.Sleep` (Wait, a retry's interval) or :data:`.JOIN` (a Map or Parallel state waiting
for its iterations or branches, which run as child strands, or a Distributed Map waiting for
its child executions), and returns its output.

Task ``TimeoutSeconds`` and ``HeartbeatSeconds`` are accepted and ignored: ``invoke`` answers
at once on the virtual clock, so a task never runs long enough to time out."""

from __future__ import annotations

import json
import traceback
from collections import deque
from collections.abc import Callable, Generator, Mapping
from typing import Any, Protocol

from . import asl_choice, asl_io, asl_paths
from .asl_definition import LAMBDA_INVOKE
from .asl_execution import JOIN, Body, Command, Execution, Sleep, Status, Strand, TaskFailure
from .asl_paths import RUNTIME, StatesError
from .fakes.jobs import VirtualClock, iso

INLINE_MAP_CONCURRENCY = 40
"""An inline Map runs at most 40 iterations at once, whatever its MaxConcurrency
(https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html)."""

DISTRIBUTED_MAP_CONCURRENCY = 10_000
"""A Distributed Map runs at most 10,000 child executions at once, its MaxConcurrency's
default (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html)."""
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"

Step = Generator[Command, None, tuple[Any, str | None]]
"""A state's run: yields what it waits for, returns its output and the next state (or None)."""


class Host(Protocol):
    """What the states need of the interpreter."""

    clock: VirtualClock

    def spawn(self, parent: Strand, machine: Mapping[str, Any], data: Any) -> Strand: ...

    def new_map_run(self, execution: Execution, label: str) -> str: ...

    def start_child(
        self, parent: Strand, machine: Mapping[str, Any], data: Any, *, map_run_arn: str, index: int
    ) -> Execution: ...

    def stop(self, execution: Execution, error: str | None = None, cause: str | None = None) -> None: ...

    def cancel(self, strand: Strand) -> None: ...

    def record(self, execution: Execution, kind: str, **details: Any) -> None: ...

    def invoke(self, function: str, payload: Any) -> Any: ...


class States:
    """Runs states for a :class:`Host`."""

    def __init__(self, host: Host) -> None:
        self.host = host

    def machine(self, strand: Strand, machine: Mapping[str, Any], data: Any) -> Body:
        """A (sub-)state machine from its StartAt to an end; returns the last state's output."""
        name = machine["StartAt"]
        while True:
            output, following = yield from self.state(strand, name, machine["States"][name], data)
            if following is None:
                return output
            name, data = following, output

    def state(self, strand: Strand, name: str, spec: Mapping[str, Any], raw: Any) -> Step:
        execution, kind = strand.execution, spec["Type"]
        entered = self.host.clock.elapsed
        self.host.record(execution, f"{kind}StateEntered", name=name, input=raw)
        execution.transitions += 1

        def context(retries: int = 0, item: tuple[int, Any] | None = None) -> dict[str, Any]:
            return self._context(execution, name, entered, retries, item)

        following: str | None = None if spec.get("End") else spec.get("Next")
        if kind == "Fail":
            raise self._fail(spec, raw, context())
        if kind in ("Task", "Parallel", "Map"):
            output, following = yield from self._with_errors(strand, spec, raw, context)
        elif kind == "Pass":
            effective = asl_io.effective_input(spec, raw, context())
            result = spec["Result"] if "Result" in spec else effective
            combined = asl_io.with_result(raw, spec.get("ResultPath", "$"), result)
            output = asl_io.select(spec, "OutputPath", combined, context())
        elif kind == "Wait":
            output = yield from self._wait(spec, raw, context())
        elif kind == "Choice":
            output, following = self._choice(spec, raw, context())
        else:  # Succeed
            output = asl_io.select(spec, "OutputPath", asl_io.select(spec, "InputPath", raw, context()), context())
        self.host.record(execution, f"{kind}StateExited", name=name, output=output)
        return output, following

    def _context(
        self, execution: Execution, name: str, entered: float, retries: int, item: tuple[int, Any] | None
    ) -> dict[str, Any]:
        """The context object ``$$`` (https://docs.aws.amazon.com/step-functions/latest/dg/
        input-output-contextobject.html); ``Map.Item`` only where an ItemSelector reads it."""
        clock = self.host.clock
        context: dict[str, Any] = {
            "Execution": {
                "Id": execution.arn,
                "Input": execution.input,
                "Name": execution.name,
                "StartTime": iso(clock.as_real(execution.start_time)),
                "RedriveCount": 0,
            },
            "State": {"EnteredTime": iso(clock.as_real(entered)), "Name": name, "RetryCount": retries},
            "StateMachine": {
                "Id": execution.state_machine_arn,
                "Name": execution.state_machine_arn.rpartition(":")[2],
            },
        }
        if item is not None:
            context["Map"] = {"Item": {"Index": item[0], "Value": item[1]}}
        return context

    def _with_errors(
        self, strand: Strand, spec: Mapping[str, Any], raw: Any, context: Callable[..., dict[str, Any]]
    ) -> Step:
        """A Task, Parallel or Map state's attempts under its Retry, then its Catch
        (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html):
        the first retrier whose ErrorEquals matches decides, and once its MaxAttempts are
        spent the catchers are looked at; each retry is a state transition."""
        retriers = spec.get("Retry", [])
        used = [0] * len(retriers)
        while True:
            try:
                if spec["Type"] == "Task":
                    output = self._task(strand, spec, raw, context(sum(used)))
                elif spec["Type"] == "Parallel":
                    output = yield from self._parallel(strand, spec, raw, context(sum(used)))
                elif _distributed(spec):
                    output = yield from self._distributed_map(strand, spec, raw, context(sum(used)))
                else:
                    output = yield from self._map(strand, spec, raw, context(sum(used)))
                return output, None if spec.get("End") else spec["Next"]
            except StatesError as failure:
                index = next(
                    (i for i, r in enumerate(retriers) if asl_paths.matches(r["ErrorEquals"], failure.error)), -1
                )
                if index >= 0 and used[index] < retriers[index].get("MaxAttempts", 3):
                    delay = _delay(retriers[index], used[index])
                    used[index] += 1
                    strand.execution.transitions += 1
                    yield Sleep(self.host.clock.elapsed + delay)
                    continue
                catcher = next(
                    (c for c in spec.get("Catch", []) if asl_paths.matches(c["ErrorEquals"], failure.error)), None
                )
                if catcher is None:
                    raise
                return asl_io.with_result(raw, catcher.get("ResultPath", "$"), failure.output()), catcher["Next"]

    def _task(self, strand: Strand, spec: Mapping[str, Any], raw: Any, context: dict[str, Any]) -> Any:
        """A Lambda task: a function ARN as Resource, the effective input its payload; or
        ``lambda:invoke`` with ``Parameters.FunctionName`` and ``Parameters.Payload``, its
        result the Invoke API's answer around the payload
        (https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html)."""
        execution, resource = strand.execution, spec["Resource"]
        parameters = asl_io.effective_input(spec, raw, context)
        optimized = LAMBDA_INVOKE.fullmatch(resource) is not None
        kind = "Task" if optimized else "LambdaFunction"  # the history's names for each form
        if optimized:
            function, payload = str(parameters["FunctionName"]), parameters.get("Payload", {})
        else:
            function, payload = resource, parameters
        self.host.record(execution, f"{kind}Scheduled", resource=resource, input=parameters)
        self.host.record(execution, f"{kind}Started")
        execution.invocations += 1
        try:
            result = self._invoke(function, payload)
        except StatesError as failure:
            self.host.record(execution, f"{kind}Failed", error=failure.error, cause=failure.cause)
            raise
        if optimized:
            metadata = {"HttpStatusCode": 200}
            result = {"ExecutedVersion": "$LATEST", "Payload": result, "SdkHttpMetadata": metadata, "StatusCode": 200}
        self.host.record(execution, f"{kind}Succeeded", output=result)
        return asl_io.effective_output(spec, raw, result, context)

    def _invoke(self, function: str, payload: Any) -> Any:
        """``invoke`` with Lambda's JSON round trip both ways; its exceptions as task errors."""
        try:
            answer = self.host.invoke(function, json.loads(json.dumps(payload)))
        except StatesError:
            raise
        except Exception as error:
            name = str(getattr(error, "errorType", "") or type(error).__name__)
            trace = traceback.format_list(traceback.extract_tb(error.__traceback__))
            cause = json.dumps({"errorMessage": str(error), "errorType": name, "stackTrace": trace})
            raise TaskFailure(name, cause) from error
        return json.loads(json.dumps(answer))

    def _wait(self, spec: Mapping[str, Any], raw: Any, context: dict[str, Any]) -> Body:
        """Until an instant of the virtual clock; a Timestamp already past waits not at all
        (https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html)."""
        data = asl_io.select(spec, "InputPath", raw, context)
        clock = self.host.clock
        if "Seconds" in spec or "SecondsPath" in spec:
            seconds = spec["Seconds"] if "Seconds" in spec else asl_paths.get(spec["SecondsPath"], data, context)
            if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
                raise StatesError(RUNTIME, f"SecondsPath '{spec.get('SecondsPath')}' gives {seconds!r}, not seconds")
            until = clock.elapsed + seconds
        else:
            text = spec["Timestamp"] if "Timestamp" in spec else asl_paths.get(spec["TimestampPath"], data, context)
            moment = asl_choice.timestamp(text)
            if moment is None:
                raise StatesError(RUNTIME, f"TimestampPath '{spec['TimestampPath']}' gives {text!r}, not a timestamp")
            until = (moment - clock.origin).total_seconds()
        if until > clock.elapsed:
            yield Sleep(until)
        return asl_io.select(spec, "OutputPath", data, context)

    def _choice(self, spec: Mapping[str, Any], raw: Any, context: dict[str, Any]) -> tuple[Any, str]:
        data = asl_io.select(spec, "InputPath", raw, context)
        following = next((r["Next"] for r in spec["Choices"] if asl_choice.evaluate(r, data, context)), None)
        following = following or spec.get("Default")
        if following is None:
            # States.NoChoiceMatched is "reserved for future use": no match is reported as
            # States.Runtime (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
            raise StatesError(RUNTIME, "No Choice rule matched and the Choice state has no Default")
        return asl_io.select(spec, "OutputPath", data, context), following

    def _fail(self, spec: Mapping[str, Any], raw: Any, context: dict[str, Any]) -> StatesError:
        found: dict[str, str | None] = {}
        for field in ("Error", "Cause"):
            found[field] = spec.get(field)
            if f"{field}Path" in spec:
                value = asl_io.expression(spec[f"{field}Path"], raw, context)
                if not isinstance(value, str):
                    raise StatesError(RUNTIME, f"{field}Path '{spec[f'{field}Path']}' gives {value!r}, not a string")
                found[field] = value
        return StatesError(found["Error"], found["Cause"])

    def _parallel(self, strand: Strand, spec: Mapping[str, Any], raw: Any, context: dict[str, Any]) -> Body:
        """Every branch at once on the effective input; the output is their outputs in order. A
        branch's failure stops the others and fails the state with that branch's error
        (https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html)."""
        execution = strand.execution
        effective = asl_io.effective_input(spec, raw, context)
        self.host.record(execution, "ParallelStateStarted")
        branches = [self.host.spawn(strand, branch, effective) for branch in spec["Branches"]]
        while True:
            error = next((branch.error for branch in branches if branch.error is not None), None)
            if error is not None:
                for branch in branches:
                    self.host.cancel(branch)
                self.host.record(execution, "ParallelStateFailed", error=error.error, cause=error.cause)
                raise error
            if all(branch.done for branch in branches):
                break
            yield JOIN
        self.host.record(execution, "ParallelStateSucceeded")
        return asl_io.effective_output(spec, raw, [branch.output for branch in branches], context)

    def _items(self, spec: Mapping[str, Any], data: Any, context: dict[str, Any], most: int) -> tuple[list[Any], int]:
        """A Map's items (ItemsPath on its input) and how many may run at once: MaxConcurrency
        (or MaxConcurrencyPath), 0 meaning the Map's own limit ``most``."""
        items = asl_paths.get(spec.get("ItemsPath", "$"), data, context)
        if not isinstance(items, list):
            raise StatesError(RUNTIME, f"ItemsPath '{spec.get('ItemsPath', '$')}' selects {type(items).__name__}")
        limit = spec.get("MaxConcurrency", 0)
        if "MaxConcurrencyPath" in spec:
            limit = asl_paths.get(spec["MaxConcurrencyPath"], data, context)
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
                raise StatesError(RUNTIME, f"MaxConcurrencyPath gives {limit!r}, not a count")
        return items, min(limit or most, most)

    def _distributed_map(self, strand: Strand, spec: Mapping[str, Any], raw: Any, context: dict[str, Any]) -> Body:
        """A Distributed Map: each item (ItemsPath, through ItemSelector) runs as a child
        execution of the ItemProcessor, at most MaxConcurrency at once, in a map run the
        parent's history records as a whole (MapRunStarted, MapRunSucceeded or MapRunFailed),
        not state by state; the result is the children's outputs in item order. A child that
        does not succeed exceeds the tolerated failure threshold (0 failures unless the state
        says otherwise): the map run fails, the children still running are stopped, and the
        state fails with States.ExceedToleratedFailureThreshold
        (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html)."""
        execution = strand.execution
        data = asl_io.select(spec, "InputPath", raw, context)
        items, limit = self._items(spec, data, context, DISTRIBUTED_MAP_CONCURRENCY)
        selector = spec.get("ItemSelector", spec.get("Parameters"))
        processor = {key: value for key, value in spec["ItemProcessor"].items() if key != "ProcessorConfig"}
        run = self.host.new_map_run(execution, spec.get("Label", context["State"]["Name"]))
        self.host.record(execution, "MapStateStarted", length=len(items))
        self.host.record(execution, "MapRunStarted", mapRunArn=run)
        outputs: list[Any] = [None] * len(items)
        waiting = deque(enumerate(items))
        running: dict[Execution, int] = {}
        while waiting or running:
            while waiting and len(running) < limit:
                index, item = waiting.popleft()
                if selector is not None:
                    item = asl_io.render(selector, data, {**context, "Map": {"Item": {"Index": index, "Value": item}}})
                running[self.host.start_child(strand, processor, item, map_run_arn=run, index=index)] = index
            if all(child.status == Status.RUNNING for child in running):
                yield JOIN
            for child in [child for child in running if child.status != Status.RUNNING]:
                index = running.pop(child)
                if child.status != Status.SUCCEEDED:
                    for other in running:
                        self.host.stop(other)
                    cause = "The specified tolerated failure threshold was exceeded"
                    self.host.record(execution, "MapRunFailed", error=EXCEED_TOLERATED_FAILURE_THRESHOLD, cause=cause)
                    self.host.record(execution, "MapStateFailed", error=EXCEED_TOLERATED_FAILURE_THRESHOLD, cause=cause)
                    raise StatesError(EXCEED_TOLERATED_FAILURE_THRESHOLD, cause)
                outputs[index] = child.output
        self.host.record(execution, "MapRunSucceeded")
        self.host.record(execution, "MapStateSucceeded")
        return asl_io.effective_output(spec, raw, outputs, context)

    def _map(self, strand: Strand, spec: Mapping[str, Any], raw: Any, context: dict[str, Any]) -> Body:
        """An inline Map: each item of ItemsPath through ItemSelector (or Parameters) and the
        ItemProcessor (or Iterator), at most MaxConcurrency at once (0: no limit but inline
        Map's own); the result is the iterations' outputs in item order, and a failing iteration
        stops the others and fails the state
        (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html)."""
        execution = strand.execution
        data = asl_io.select(spec, "InputPath", raw, context)
        items, limit = self._items(spec, data, context, INLINE_MAP_CONCURRENCY)
        selector = spec.get("ItemSelector", spec.get("Parameters"))
        processor = spec.get("ItemProcessor") or spec["Iterator"]
        self.host.record(execution, "MapStateStarted", length=len(items))
        outputs: list[Any] = [None] * len(items)
        waiting = deque(enumerate(items))
        running: dict[Strand, int] = {}
        while waiting or running:
            while waiting and len(running) < limit:
                index, item = waiting.popleft()
                if selector is not None:
                    item = asl_io.render(selector, data, {**context, "Map": {"Item": {"Index": index, "Value": item}}})
                self.host.record(execution, "MapIterationStarted", name=processor["StartAt"], index=index)
                running[self.host.spawn(strand, processor, item)] = index
            if not any(iteration.done for iteration in running):
                yield JOIN
            for iteration in [iteration for iteration in running if iteration.done]:
                index = running.pop(iteration)
                error = iteration.error
                if error is not None:
                    self.host.record(execution, "MapIterationFailed", index=index)
                    for other, other_index in running.items():
                        self.host.cancel(other)
                        self.host.record(execution, "MapIterationAborted", index=other_index)
                    self.host.record(execution, "MapStateFailed", error=error.error, cause=error.cause)
                    raise error
                outputs[index] = iteration.output
                self.host.record(execution, "MapIterationSucceeded", index=index)
        self.host.record(execution, "MapStateSucceeded")
        return asl_io.effective_output(spec, raw, outputs, context)


def _distributed(spec: Mapping[str, Any]) -> bool:
    processor = spec.get("ItemProcessor", {})
    return bool(processor.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED")


def _delay(retrier: Mapping[str, Any], retried: int) -> float:
    """IntervalSeconds (default 1) times BackoffRate (default 2.0) per retry already made, at
    most MaxDelaySeconds. With ``JitterStrategy: FULL`` Step Functions picks at random below
    that: the simulation, to stay deterministic, waits the whole of it."""
    delay = float(retrier.get("IntervalSeconds", 1)) * float(retrier.get("BackoffRate", 2.0)) ** retried
    if "MaxDelaySeconds" in retrier:
        delay = min(delay, float(retrier["MaxDelaySeconds"]))
    return delay

"""The Provider framework and CloudFormation's view of one stack's custom resources: a
:class:`StackPlayer` sends a job resource one event (Create, Update or Delete) as CloudFormation
does, through the framework's rules (custom-resources provider-framework/runtime/framework.js
and cfn-response.js) to the user functions found in the template, polls ``is_complete`` as the
waiter state machine does on the virtual clock, and records the outcome as a :class:`.Step`;
it sends independent resources' events together, cancelling the others once one fails, and
awaits a wait condition's signal while the long-wait path's tracker executions run. Which events
a deployment, update or deletion sends is :mod:`.lifecycle`'s business."""

from __future__ import annotations

import copy
import inspect
import json
import uuid
from collections.abc import Collection, Generator, Mapping, Sequence
from typing import Any

from .._text import plural
from ..handler import consts
from . import asl
from .assembly import JobResource, StackTemplate, UserFunction
from .authorize import Authorizer
from .fakes.base import Log
from .fakes.jobs import VirtualClock
from .resolver import Pseudo, Resolver, stringify
from .responses import CREATE_FAILED_MARKER, TIMED_OUT, body, framework_failure, too_large, user_function_failure
from .results import Step
from .sandbox import Function
from .waits import Waits

RESPONSE_URL = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/simulated"


class _FrameworkError(Exception):
    """An error framework.js raises itself (not a user function's)."""


class StackPlayer:
    """One stack as CloudFormation and the Provider framework play it: its jobs, their
    functions, and the attributes and physical ids CloudFormation holds."""

    def __init__(
        self,
        template: StackTemplate,
        pseudo: Pseudo,
        clock: VirtualClock,
        log: Log,
        waits: Waits,
        *,
        retry_create: bool = False,
        created: dict[str, tuple[str, Mapping[str, Any]]] | None = None,
    ) -> None:
        self.template = template
        self.pseudo = pseudo
        self.clock = clock
        self.log = log
        self.waits = waits
        self.resolver = Resolver(template.template, pseudo, handle_url=waits.signals.url)
        if created is not None:  # an update: CloudFormation keeps what every resource returned
            self.resolver.created = created
        self.jobs = template.jobs(self.resolver)
        self._functions: dict[str, Function] = {}
        self.authorizer: Authorizer | None = None
        #: The tracker's executions, run from the template's definition on the virtual clock.
        self._interpreter = asl.Interpreter(clock, self._invoke_arn)
        self._trackers: dict[str, asl.Execution] = {}
        """The interpreter's execution of each execution the fake Step Functions recorded."""
        self.retry_create = retry_create
        #: The step of each resource's latest event, while it runs (for a cancellation).
        self.in_flight: dict[str, Step] = {}
        #: What CloudFormation would refuse in the responses (a body over 4,096 bytes).
        self.problems: list[str] = []

    # -- the long-wait path ------------------------------------------------------------------

    def waits_after(self, logical_id: str) -> list[str]:
        """The wait conditions CloudFormation creates once ``logical_id`` is created."""
        found = []
        for wait_id, resource in self.template.resources.items():
            depends = resource.get("DependsOn", [])
            depends = [depends] if isinstance(depends, str) else depends
            if resource["Type"] == "AWS::CloudFormation::WaitCondition" and logical_id in depends:
                found.append(wait_id)
        return found

    def reported_job(self, logical_id: str) -> str | None:
        """The job resource whose attributes the result resource ``logical_id`` reads (its
        ``JobId`` is the job's ``Fn::GetAtt``), or None for any other resource."""
        job_id = self.template.resources.get(logical_id, {}).get("Properties", {}).get(consts.PROP_JOB_ID)
        if isinstance(job_id, Mapping) and isinstance(job_id.get("Fn::GetAtt"), list):
            return str(job_id["Fn::GetAtt"][0])
        return None

    def await_condition(self, wait_id: str, phase: str) -> Step:
        """Wait for the condition's signal as CloudFormation does, running the tracker
        executions meanwhile on the virtual clock, until the signal or the Timeout."""
        properties = self.template.resources[wait_id]["Properties"]
        handle = properties["Handle"]["Ref"]
        timeout = float(self.resolver.resolve(properties.get("Timeout", "43200")))
        step = Step(wait_id, wait_id, "WaitCondition", "Create", phase, "FAILED", wait_id)
        self.log(f"{wait_id} (AWS::CloudFormation::WaitCondition, Timeout {int(timeout)} s) waits for a signal")
        started = self.clock.elapsed
        while not self.waits.signals.signals.get(handle):
            self._run_trackers()
            if self.waits.signals.signals.get(handle):
                break
            if self.clock.elapsed - started >= timeout:
                step.reason = "WaitCondition timed out. Received 0 conditions when expecting 1"
                break
            wake = self._interpreter.next_wake()
            if wake is None and not self.waits.stepfunctions.running():
                self.clock.advance(timeout - (self.clock.elapsed - started))
                step.reason = "WaitCondition timed out. Received 0 conditions when expecting 1 (no tracker ran)"
                break
            step.polls += 1
            wait = 60.0 if wake is None else max(wake - self.clock.elapsed, 0.0)
            self._interpreter.advance(min(wait, timeout - (self.clock.elapsed - started)))
        step.simulated_seconds = self.clock.elapsed - started
        for signal in self.waits.signals.signals.get(handle, [])[:1]:
            step.data = {"Data": json.dumps({signal["UniqueId"]: signal["Data"]})}
            if signal["Status"] == "SUCCESS":
                step.status = "SUCCESS"
            else:
                step.reason = (
                    f"WaitCondition received failed message: '{signal['Reason']}' for uniqueId: {signal['UniqueId']}"
                )
        return self._finish(step)

    def _run_trackers(self) -> None:
        """Start the executions the fake Step Functions recorded, stop those it was asked to
        stop, run them all until each waits, and tell the fake (and the log) how they ended."""
        fake = self.waits.stepfunctions
        for execution in fake.executions.values():
            run = self._trackers.get(execution.arn)
            if run is None and execution.status == "RUNNING":
                definition = self._state_machine(execution.state_machine)
                self._trackers[execution.arn] = self._interpreter.start(
                    definition, json.loads(execution.input), name=execution.name, state_machine=execution.state_machine
                )
            elif run is not None and execution.status == "ABORTED":
                self._interpreter.stop(run)
        self._interpreter.run_until_idle()
        for arn, run in self._trackers.items():
            execution = fake.executions[arn]
            if execution.status == "RUNNING" and run.status != asl.Status.RUNNING:
                execution.status = str(run.status)
                if run.status != asl.Status.SUCCEEDED:
                    execution.cause = _failure(run)
        for execution in fake.executions.values():
            if execution.status in ("FAILED", "TIMED_OUT") and execution.cause:
                ended = "failed" if execution.status == "FAILED" else "timed out"
                self.log(f"  StepFunctions: tracker execution {execution.name} {ended}: {execution.cause}")
                execution.cause = ""  # logged once

    def _state_machine(self, arn: str) -> Mapping[str, Any]:
        for logical_id, resource in self.template.resources.items():
            if resource["Type"] == "AWS::StepFunctions::StateMachine" and self.resolver.ref(logical_id) == arn:
                return self.template.definition(logical_id, self.resolver)
        raise ValueError(f"no state machine {arn} in the template")

    def _invoke_arn(self, arn: str, payload: Any) -> Any:
        for logical_id, resource in self.template.resources.items():
            if resource["Type"] == "AWS::Lambda::Function" and self.resolver.get_att(logical_id, "Arn") == arn:
                return self.function(self.template.function(logical_id))(payload)
        raise ValueError(f"no function {arn} in the template")

    def function(self, spec: UserFunction) -> Function:
        if spec.logical_id not in self._functions:
            environment = {k: str(v) for k, v in self.resolver.resolve(dict(spec.environment)).items()}
            environment["AWS_LAMBDA_FUNCTION_NAME"] = self.resolver.ref(spec.logical_id)
            if self.authorizer is not None:
                # Lambda hands each function its role's session: the fakes tell callers by it.
                token = f"simulated-session/{self.template.name}/{spec.logical_id}"
                role = self.resolver.resolve(self.template.resources[spec.logical_id]["Properties"]["Role"])
                self.authorizer.sessions[token] = str(role)
                environment["AWS_SESSION_TOKEN"] = token
            self._functions[spec.logical_id] = Function(spec, environment)
            self._functions[spec.logical_id].use_clock(self.clock.now)
        return self._functions[spec.logical_id]

    def properties(self, job: JobResource) -> dict[str, Any]:
        resolved: dict[str, Any] = stringify(self.resolver.resolve(dict(job.properties)))
        return resolved

    def send(
        self,
        job: JobResource,
        request_type: str,
        phase: str,
        *,
        properties: dict[str, Any],
        physical_id: str | None = None,
        old_properties: dict[str, Any] | None = None,
    ) -> Step:
        """One event through the framework: onEvent, then isComplete polls on the waiter."""
        events = self.sending(
            job, request_type, phase, properties=properties, physical_id=physical_id, old_properties=old_properties
        )
        while True:
            try:
                wait = next(events)
            except StopIteration as done:
                step: Step = done.value
                return step
            self.clock.advance(wait)

    def job_dependencies(self, job: JobResource) -> set[str]:
        """The other job resources and wait conditions ``job`` depends on (``DependsOn``) or
        refers to."""
        depends = self.template.resources.get(job.logical_id, {}).get("DependsOn", [])
        depends = {depends} if isinstance(depends, str) else set(depends)
        others = {other.logical_id for other in self.jobs if other is not job}
        waits = {k for k, r in self.template.resources.items() if r["Type"] == "AWS::CloudFormation::WaitCondition"}
        text = json.dumps(job.properties)
        return (depends & (others | waits)) | {other for other in others if f'"{other}"' in text}

    def independent(self, job: JobResource, earlier: Collection[str] = ()) -> bool:
        """Whether CloudFormation would create ``job`` alongside its neighbours: a job resource
        that waits in its custom resource (no long wait, no result resource) and depends on no
        other job resource or wait condition than those in ``earlier`` (created alongside it,
        before it: it starts once they have)."""
        if job.properties.get("Mode", "wait") not in ("wait", "start"):
            return False
        return self.job_dependencies(job) <= set(earlier)

    def send_together(
        self, jobs: Sequence[tuple[JobResource, dict[str, Any]]], request_type: str, phase: str
    ) -> list[Step]:
        """The events of independent resources in parallel, as CloudFormation sends them: each
        resource's polls at its own waiter's interval, on the one virtual clock; the resources
        due at the same instant are polled in template order. Once one fails, the others still in
        progress are cancelled, as CloudFormation cancels them (their steps are ``CANCELLED``;
        the physical id onEvent gave, if it ran, is kept so that the rollback deletes its job: an
        assumption, as CloudFormation never received it). Returns the steps in template order."""
        in_progress = [self.sending(job, request_type, phase, properties=props) for job, props in jobs]
        due = [self.clock.elapsed] * len(in_progress)
        steps: list[Step | None] = [None] * len(in_progress)
        position = {job.logical_id: index for index, (job, _) in enumerate(jobs)}
        after = [[position[d] for d in self.job_dependencies(job) if d in position] for job, _ in jobs]

        def ready(index: int) -> bool:  # every resource it depends on has been created
            return all(steps[d] is not None for d in after[index])

        while any(step is None for step in steps):
            earliest = min(d for i, (d, step) in enumerate(zip(due, steps, strict=True)) if step is None and ready(i))
            if earliest > self.clock.elapsed:
                self.clock.advance(earliest - self.clock.elapsed)
            for index, events in enumerate(in_progress):
                if steps[index] is not None:
                    continue
                if any(step is not None and step.status != "SUCCESS" for step in steps):
                    steps[index] = self._cancel(jobs[index][0], events, request_type, phase)
                elif not ready(index):
                    continue
                elif (
                    inspect.getgeneratorstate(events) == inspect.GEN_CREATED or due[index] <= self.clock.elapsed + 1e-9
                ):
                    try:
                        due[index] = self.clock.elapsed + next(events)
                    except StopIteration as done:
                        steps[index] = done.value
        return [step for step in steps if step is not None]

    def _cancel(self, job: JobResource, events: Generator[float, None, Step], request_type: str, phase: str) -> Step:
        """Cancel a resource's event in progress (or not yet begun): its step, ``CANCELLED``."""
        begun = inspect.getgeneratorstate(events) != inspect.GEN_CREATED
        events.close()
        step = self.in_flight[job.logical_id] if begun else None
        if step is None:
            self.log(f"{job.path} ({job.service}) {request_type}")
            step = Step(job.logical_id, job.path, job.service, request_type, phase, "FAILED", None)
        step.status, step.reason = "CANCELLED", "Resource creation cancelled"
        return self._finish(step)

    def sending(
        self,
        job: JobResource,
        request_type: str,
        phase: str,
        *,
        properties: dict[str, Any],
        physical_id: str | None = None,
        old_properties: dict[str, Any] | None = None,
    ) -> Generator[float, None, Step]:
        """:meth:`send` as a generator: yields the seconds until its next poll, returns the step."""
        self.log(f"{job.path} ({job.service}) {request_type}{f' [{phase}]' if phase != 'deploy' else ''}")
        step = Step(job.logical_id, job.path, job.service, request_type, phase, "FAILED", physical_id)
        self.in_flight[job.logical_id] = step
        step.started_at = self.clock.elapsed
        request: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": properties["ServiceToken"],
            "ResponseURL": RESPONSE_URL,
            "StackId": self.pseudo.stack_id,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": job.logical_id,
            "ResourceType": job.resource_type,
            "ResourceProperties": copy.deepcopy(properties),
        }
        if physical_id is not None:
            request["PhysicalResourceId"] = physical_id
        if old_properties is not None:
            request["OldResourceProperties"] = copy.deepcopy(old_properties)
        if request_type == "Delete" and physical_id == CREATE_FAILED_MARKER:
            step.status = "SUCCESS"
            self.log("  ignored: the Create had failed before the job had an id")
            self._respond(step, request)
            return self._finish(step)
        started = self.clock.elapsed
        try:
            result = self.function(job.provider.on_event)(request) or {}
            if request_type == "Create" and self.retry_create:
                # The framework's invoke of onEvent is retried (e.g. its answer was lost): the
                # same request again, which must adopt what the first one started.
                first = result.get("PhysicalResourceId")
                self.log(f"  onEvent retried with the same request (first answer: {first})")
                result = self.function(job.provider.on_event)(request) or {}
                step.retried_ids = [str(first), str(result.get("PhysicalResourceId"))]
            physical = result.get("PhysicalResourceId") or (
                request["RequestId"] if request_type == "Create" else physical_id
            )
            if request_type == "Delete" and physical != physical_id:
                raise _FrameworkError(
                    f'DELETE: cannot change the physical resource ID from "{physical_id}" to "{physical}" during '
                    "deletion"
                )
            event = {**request, **result, "PhysicalResourceId": physical}
        except Exception as error:
            step.physical_id = physical_id or (CREATE_FAILED_MARKER if request_type == "Create" else None)
            step.reason = self._reason(error, job.provider.on_event, "onEvent")
            self._respond(step, {**request, "PhysicalResourceId": step.physical_id}, reason=step.reason)
            return self._finish(step)
        step.physical_id = physical
        checker = job.provider.is_complete
        if checker is None:
            step.status, step.data = "SUCCESS", dict(event.get("Data") or {})
            self._respond(step, event, data=event.get("Data"))
            return self._finish(step)
        for attempt in range(job.provider.max_attempts + 1):
            step.polls += 1
            try:
                answer = self.function(checker)(event)
                if not answer.get("IsComplete") and answer.get("Data"):
                    raise _FrameworkError('"Data" is not allowed if "IsComplete" is "False"')
            except Exception as error:
                step.reason = self._reason(error, checker, "isComplete")
                self._respond(step, event, reason=step.reason)
                break
            if answer.get("IsComplete"):
                step.status = "SUCCESS"
                step.data = {**(event.get("Data") or {}), **(answer.get("Data") or {})}
                if answer.get("PhysicalResourceId") and request_type != "Delete":
                    step.physical_id = str(answer["PhysicalResourceId"])  # framework.js: isComplete's id wins
                self._respond(step, {**event, **answer}, data=step.data)
                break
            if attempt == job.provider.max_attempts:
                step.reason = TIMED_OUT  # the waiter's onTimeout: no stack
                self._respond(step, event, reason=step.reason)
                break
            yield float(job.provider.interval_seconds)
        step.simulated_seconds = self.clock.elapsed - started
        return self._finish(step)

    def _reason(self, error: Exception, function: UserFunction, handler: str) -> str:
        """The Reason CloudFormation shows for ``error``, raised by the user ``function`` (or by
        the framework's ``handler`` itself)."""
        if isinstance(error, _FrameworkError):
            return framework_failure(str(error), handler)
        return user_function_failure(str(error), self.resolver.ref(function.logical_id), handler)

    def _respond(
        self, step: Step, event: Mapping[str, Any], *, reason: str | None = None, data: Mapping[str, Any] | None = None
    ) -> None:
        """The response CloudFormation receives for ``step`` (FAILED where ``reason`` is given):
        its size, and a problem when it is over what CloudFormation accepts."""
        status = "FAILED" if reason is not None else "SUCCESS"
        step.response_bytes = len(body(status, event, reason=reason, data=data))
        problem = too_large(step.logical_id, step.request_type, step.response_bytes)
        if problem is not None:
            self.problems.append(problem)

    def _finish(self, step: Step) -> Step:
        if step.status == "SUCCESS" and step.physical_id and step.request_type != "Delete":
            self.resolver.created[step.logical_id] = (step.physical_id, step.data)
        took = f" after {plural(step.polls, 'poll')} ({int(step.simulated_seconds)} s simulated)" if step.polls else ""
        if step.status == "SUCCESS":
            attributes = ", ".join(f"{k}={v}" for k, v in sorted(step.data.items()))
            self.log(f"  -> SUCCESS{took}{': ' + attributes if attributes else ''}")
        else:
            self.log(f"  -> {step.status}{took}: {step.reason}")
        return step


def _failure(run: asl.Execution) -> str:
    """Why an execution failed, for the log: the state, the error, and the message of a Lambda
    function's error (its cause is the function's error answer, a JSON object)."""
    entered = [event.details.get("name") for event in run.history if event.type.endswith("StateEntered")]
    message = run.cause or ""
    try:
        answer = json.loads(message)
    except ValueError:
        answer = None
    if isinstance(answer, Mapping) and "errorMessage" in answer:
        message = str(answer["errorMessage"])
    where = f"{entered[-1]} failed: " if entered else ""
    return f"{where}{run.error}" + (f": {message}" if message else "")

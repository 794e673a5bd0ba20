"""Runs a synthesized stack's export jobs through the real handler code, offline.

The simulation plays CloudFormation and the CDK Provider framework: it sends each export-job
custom resource the events CloudFormation would (Create; Update and the cleanup Delete of a
replaced job; Delete; the rollback Deletes after a failed deployment, and the rollback Updates
after a failed update), passes them through the
framework's rules (custom-resources provider-framework/runtime/framework.js and
cfn-response.js) to the user functions found in the template, and polls ``is_complete`` as the
waiter state machine does, on a virtual clock. The handler's boto3 clients reach fake services
on loopback through botocore's ``AWS_ENDPOINT_URL_<SERVICE>`` variables.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import inspect
import json
import os
import sys
import uuid
from collections.abc import Callable, Collection, Container, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from .._text import plural
from ..handler import consts
from .assembly import (
    JobResource,
    Pseudo,
    Resolver,
    StackTemplate,
    UserFunction,
    construct_path,
    read_assembly,
    simulated_environment,
    stringify,
)
from .authorize import AccountPolicies, Authorizer
from .fakes.arns import dns_suffix_of, partition_of
from .fakes.base import Call, FakeService, Log
from .fakes.jobs import Scenario, VirtualClock
from .fakes.server import ACCESS_KEY, SECRET_KEY
from .fakes.stepfunctions import Fake as StepFunctionsFake
from .responses import CREATE_FAILED_MARKER, TIMED_OUT, body, framework_failure, too_large, user_function_failure
from .waits import Interpreter, SignalReceiver

RESPONSE_URL = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/simulated"

ScenarioChoice = Scenario | str | Mapping[str, Scenario | str] | Callable[[str], Scenario | str]


@dataclass
class Step:
    """What CloudFormation saw for one event of one resource."""

    logical_id: str
    """The resource's logical id in the template (e.g. ``UsersExportB5678792``)."""
    path: str
    """The path of the construct the resource stands for: its ``aws:cdk:path`` without a
    trailing ``/Resource`` or ``/Resource/Default``, so an export job's resource has the job's
    path (``MyStack/UsersExport``). The logical id for a wait condition, and for any resource
    when the template has no path metadata (``cdk synth`` writes it, a bare ``cdk.App()`` does not)."""
    service: str
    """The export job's service (``Personalize``...), or ``WaitCondition``."""
    request_type: str
    """``Create``, ``Update`` or ``Delete``."""
    phase: str
    """``deploy``, ``update``, ``cleanup``, ``rollback`` or ``delete``."""
    status: str
    """``SUCCESS`` or ``FAILED``; ``CANCELLED`` for a Create CloudFormation cancelled because a
    resource created alongside it failed (it is rolled back like the others)."""
    physical_id: str | None
    """The physical id the resource has after the event (None if a Create failed early)."""
    reason: str = ""
    """Why the event failed, as CloudFormation would show it; empty on success."""
    data: dict[str, Any] = field(default_factory=dict)
    """The attributes the resource returned (``JobArn``, ``Status``...), on success."""
    polls: int = 0
    """How often ``is_complete`` was called (or a wait condition checked)."""
    simulated_seconds: float = 0.0
    """The simulated time the event took."""
    started_at: float = 0.0
    """The simulated time the event began, in seconds since the simulation's start."""
    retried_ids: list[str] = field(default_factory=list)
    """With ``retry_create``: the physical ids the first and the retried onEvent returned."""
    response_bytes: int = 0
    """The size of the response CloudFormation received for the event (its JSON body, which
    CloudFormation accepts up to 4,096 bytes); 0 where no custom resource answered (a wait
    condition)."""
    wait: Step | None = field(default=None, repr=False, compare=False)
    """On the long-wait path (a job whose ``timeout`` is beyond 55 minutes), the step of the wait
    condition that held the stack until the job ended; None otherwise."""
    report: Step | None = field(default=None, repr=False, compare=False)
    """On the long-wait path, the step of the job's result resource, which read the job's final
    attributes once the wait condition had completed; None otherwise."""

    @property
    def outcome(self) -> Step:
        """The job's outcome: this step where the custom resource waited for the job itself; on
        the long-wait path (where the custom resource completes once the job started) the status
        and reason of its wait condition, and the attributes its result resource read."""
        if self.wait is None:
            return self
        status, reason, data = self.status, self.reason, self.data
        polls, seconds = self.polls + self.wait.polls, self.simulated_seconds + self.wait.simulated_seconds
        if self.status == "SUCCESS":
            status, reason = self.wait.status, self.wait.reason
            if status == "SUCCESS" and self.report is not None:
                status, reason, data = self.report.status, self.report.reason, self.report.data
                polls, seconds = polls + self.report.polls, seconds + self.report.simulated_seconds
        return replace(self, status=status, reason=reason, data=dict(data), polls=polls, simulated_seconds=seconds)


@dataclass
class SimulationResult:
    """What :func:`simulate` found: every event's outcome and every request the fakes saw."""

    steps: list[Step]
    """Every event, in the order CloudFormation would send them."""
    calls: list[Call]
    """Every request the fake services received: each service's in the order received, one
    service after another."""
    problems: list[str]
    """What the fake services found wrong with the handler's requests, and - with
    ``authorize`` - every request or service access IAM denied and every policy IAM would refuse
    (should be empty)."""
    authorization: str = ""
    """With ``authorize``: how many requests IAM evaluated, allowed and denied; else empty."""

    @property
    def failures(self) -> list[Step]:
        """The events that did not succeed: ``FAILED``, or ``CANCELLED`` because another failed
        (a long-wait job's failure is its wait condition's event)."""
        return [step for step in self.steps if step.status != "SUCCESS"]

    @property
    def ok(self) -> bool:
        """True only if every event succeeded and no problem was found (see :attr:`problems`):
        what ``python -m export_constructs.testing`` reports as PASSED (exit status 0)."""
        return not self.failures and not self.problems

    def step(self, resource: Any, request_type: str = "Create", phase: str | None = None) -> Step:
        """The first event of ``resource`` of this request type (and phase).

        An export job construct stands for its custom resource (``<job path>/Resource``) and
        its step is the job's outcome (:attr:`Step.outcome`): on the long-wait path, FAILED with
        the service's reason when its wait condition failed, and the attributes its result
        resource read. The wait condition and the ``Result`` resource have steps of their own:
        pass ``job.wait_condition`` or ``job.node.find_child("Result")`` (or their paths).

        Args:
            resource: the resource's logical id (``"UsersExportB5678792"``); its construct path
                (``"MyStack/UsersExport"``, the job's path; ``.../Resource`` and
                ``.../Resource/Default`` name the same resource), which needs the templates'
                ``aws:cdk:path`` metadata (``cdk synth`` writes it, a bare ``cdk.App()`` does
                not); or the construct itself (an export job, its resource, a wait condition),
                matched by its logical id or its path.
            request_type: ``Create``, ``Update`` or ``Delete``. Default: ``"Create"``.
            phase: ``deploy``, ``update``, ``cleanup``, ``rollback`` or ``delete``. Default:
                any phase.

        Raises:
            KeyError: there is no such event.
            TypeError: ``resource`` is neither a string nor a construct.
        """
        ids, path, name = _lookup_keys(resource)
        for step in self.steps:
            if (step.logical_id in ids or step.path == path) and step.request_type == request_type:
                if phase in (None, step.phase):
                    return step.outcome
        hint = ""
        if path is not None and not ids and not any("/" in s.path for s in self.steps):
            hint = (
                " (the templates have no aws:cdk:path metadata, which `cdk synth` writes and a bare "
                "cdk.App() does not: pass the construct or its logical id)"
            )
        raise KeyError(f"no {request_type} step of {name}{f' in {phase}' if phase else ''}{hint}")

    def operations(self, service: str) -> list[str]:
        """The API operations ``service`` (``"Personalize"``...) received, in order."""
        return [c.operation for c in self.calls if c.service == service]


def _lookup_keys(resource: Any) -> tuple[set[str], str | None, str]:
    """What :meth:`SimulationResult.step` matches ``resource`` by: logical ids, a construct
    path, and the name its error message shows. A construct is duck-typed (``node.path``; a
    ``CfnElement``'s ``logical_id`` resolved by its ``stack``), so this needs no CDK import."""
    if isinstance(resource, str):
        return ({resource}, None, resource) if "/" not in resource else (set(), construct_path(resource), resource)
    path = getattr(getattr(resource, "node", None), "path", None)
    if not isinstance(path, str):
        raise TypeError(f"step() takes a logical id, a construct path or a construct, not {resource!r}")
    ids: set[str] = set()
    element = resource
    for _ in range(3):  # a job -> its Resource (-> an L2 resource's Default)
        logical_id, stack = getattr(element, "logical_id", None), getattr(element, "stack", None)
        if isinstance(logical_id, str) and stack is not None:
            resolved = stack.resolve(logical_id)
            ids = {resolved} if isinstance(resolved, str) else set()
            break
        element = getattr(getattr(element, "node", None), "default_child", None)
        if element is None:
            break
    return ids, construct_path(path), path


class _Function:
    """One Lambda function's code, imported from its asset folder in a namespace of its own
    (separate functions are separate Lambda containers: they share no module state, nor boto3's
    default session, which holds the credentials - the role's session - of the first call)."""

    def __init__(self, spec: UserFunction, environment: Mapping[str, str]) -> None:
        self.spec = spec
        self.environment = dict(environment)
        module_name, _, self.attribute = spec.handler.rpartition(".")
        self.top = module_name.split(".", 1)[0]
        self._modules: dict[str, ModuleType] = {}
        self._boto3_session: Any = None
        with self._installed():
            self._module_name = module_name
            importlib.import_module(module_name)

    @contextlib.contextmanager
    def _installed(self) -> Iterator[None]:
        def ours(name: str) -> bool:
            return name == self.top or name.startswith(f"{self.top}.")

        import boto3

        saved = {k: sys.modules.pop(k) for k in [k for k in sys.modules if ours(k)]}
        sys.modules.update(self._modules)
        saved_session, boto3.DEFAULT_SESSION = boto3.DEFAULT_SESSION, self._boto3_session
        sys.path.insert(0, str(self.spec.asset_dir))
        old_env = {k: os.environ.get(k) for k in self.environment}
        os.environ.update(self.environment)
        try:
            yield
        finally:
            for key, value in old_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            sys.path.remove(str(self.spec.asset_dir))
            self._modules = {k: sys.modules.pop(k) for k in [k for k in sys.modules if ours(k)]}
            sys.modules.update(saved)
            self._boto3_session, boto3.DEFAULT_SESSION = boto3.DEFAULT_SESSION, saved_session

    def use_clock(self, now: Callable[[], Any]) -> None:
        """Hand the function the virtual clock (the handler's ``entry.use_clock``), and a sleep
        that does not wait, where it takes one."""
        with self._installed():
            hook = getattr(sys.modules[self._module_name], "use_clock", None)
            if callable(hook):
                hook(now, lambda _seconds: None)

    def __call__(self, event: Mapping[str, Any]) -> Any:
        payload = json.loads(json.dumps(event))  # Lambda's JSON round trip, both ways
        with self._installed():
            handler: Callable[[Any, Any], Any] = getattr(sys.modules[self._module_name], self.attribute)
            result = handler(payload, None)
        return json.loads(json.dumps(result))


class _FrameworkError(Exception):
    """An error framework.js raises itself (not a user function's)."""


@dataclass
class _Waits:
    """What the long-wait path needs: the fake Step Functions and the signal receiver."""

    stepfunctions: StepFunctionsFake
    signals: SignalReceiver


class _Stack:
    """One stack's jobs, their functions and the physical ids CloudFormation holds."""

    def __init__(
        self,
        stack: StackTemplate,
        pseudo: Pseudo,
        clock: VirtualClock,
        log: Log,
        waits: _Waits,
        *,
        retry_create: bool = False,
        created: dict[str, tuple[str, Mapping[str, Any]]] | None = None,
    ) -> None:
        self.stack = stack
        self.pseudo = pseudo
        self.clock = clock
        self.log = log
        self.waits = waits
        self.resolver = Resolver(stack.template, pseudo, handle_url=waits.signals.url)
        if created is not None:  # an update: CloudFormation keeps what every resource returned
            self.resolver.created = created
        self.jobs = stack.jobs(self.resolver)
        self._functions: dict[str, _Function] = {}
        self.authorizer: Authorizer | None = None
        self._interpreter = Interpreter(self._invoke_arn)
        self.retry_create = retry_create
        #: The step of each resource's latest event, while it runs (for a cancellation).
        self.in_flight: dict[str, Step] = {}
        #: What CloudFormation would refuse in the responses (a body over 4,096 bytes).
        self.problems: list[str] = []

    # -- the long-wait path ------------------------------------------------------------------

    def waits_after(self, logical_id: str) -> list[str]:
        """The wait conditions CloudFormation creates once ``logical_id`` is created."""
        found = []
        for wait_id, resource in self.stack.resources.items():
            depends = resource.get("DependsOn", [])
            depends = [depends] if isinstance(depends, str) else depends
            if resource["Type"] == "AWS::CloudFormation::WaitCondition" and logical_id in depends:
                found.append(wait_id)
        return found

    def reported_job(self, logical_id: str) -> str | None:
        """The job resource whose attributes the result resource ``logical_id`` reads (its
        ``JobId`` is the job's ``Fn::GetAtt``), or None for any other resource."""
        job_id = self.stack.resources.get(logical_id, {}).get("Properties", {}).get(consts.PROP_JOB_ID)
        if isinstance(job_id, Mapping) and isinstance(job_id.get("Fn::GetAtt"), list):
            return str(job_id["Fn::GetAtt"][0])
        return None

    def await_condition(self, wait_id: str, phase: str) -> Step:
        """Wait for the condition's signal as CloudFormation does, running the tracker
        executions meanwhile on the virtual clock, until the signal or the Timeout."""
        properties = self.stack.resources[wait_id]["Properties"]
        handle = properties["Handle"]["Ref"]
        timeout = float(self.resolver.resolve(properties.get("Timeout", "43200")))
        step = Step(wait_id, wait_id, "WaitCondition", "Create", phase, "FAILED", wait_id)
        self.log(f"{wait_id} (AWS::CloudFormation::WaitCondition, Timeout {int(timeout)} s) waits for a signal")
        started = self.clock.elapsed
        while not self.waits.signals.signals.get(handle):
            for execution in self.waits.stepfunctions.running():
                if execution.arn not in self._interpreter.runs:
                    self._interpreter.start(execution, self._state_machine(execution.state_machine))
            wait = self._interpreter.tick()
            for execution in self.waits.stepfunctions.executions.values():
                if execution.status == "FAILED" and execution.cause:
                    self.log(f"  StepFunctions: tracker execution {execution.name} failed: {execution.cause}")
                    execution.cause = ""  # logged once
            if self.waits.signals.signals.get(handle):
                break
            if self.clock.elapsed - started >= timeout:
                step.reason = "WaitCondition timed out. Received 0 conditions when expecting 1"
                break
            if not wait and not self.waits.stepfunctions.running():
                self.clock.advance(timeout - (self.clock.elapsed - started))
                step.reason = "WaitCondition timed out. Received 0 conditions when expecting 1 (no tracker ran)"
                break
            step.polls += 1
            self.clock.advance(min(wait or 60.0, timeout - (self.clock.elapsed - started)))
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

    def _state_machine(self, arn: str) -> Mapping[str, Any]:
        for logical_id, resource in self.stack.resources.items():
            if resource["Type"] == "AWS::StepFunctions::StateMachine" and self.resolver.ref(logical_id) == arn:
                return self.stack.definition(logical_id, self.resolver)
        raise ValueError(f"no state machine {arn} in the template")

    def _invoke_arn(self, arn: str, payload: Any) -> Any:
        for logical_id, resource in self.stack.resources.items():
            if resource["Type"] == "AWS::Lambda::Function" and self.resolver.get_att(logical_id, "Arn") == arn:
                return self.function(self.stack.function(logical_id))(payload)
        raise ValueError(f"no function {arn} in the template")

    def function(self, spec: UserFunction) -> _Function:
        if spec.logical_id not in self._functions:
            environment = {k: str(v) for k, v in self.resolver.resolve(dict(spec.environment)).items()}
            environment["AWS_LAMBDA_FUNCTION_NAME"] = self.resolver.ref(spec.logical_id)
            if self.authorizer is not None:
                # Lambda hands each function its role's session: the fakes tell callers by it.
                token = f"simulated-session/{self.stack.name}/{spec.logical_id}"
                role = self.resolver.resolve(self.stack.resources[spec.logical_id]["Properties"]["Role"])
                self.authorizer.sessions[token] = str(role)
                environment["AWS_SESSION_TOKEN"] = token
            self._functions[spec.logical_id] = _Function(spec, environment)
            self._functions[spec.logical_id].use_clock(self.clock.now)
        return self._functions[spec.logical_id]

    def properties(self, job: JobResource) -> dict[str, Any]:
        resolved: dict[str, Any] = stringify(self.resolver.resolve(dict(job.properties)))
        return resolved

    def run(
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
        events = self.events(
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
        depends = self.stack.resources.get(job.logical_id, {}).get("DependsOn", [])
        depends = {depends} if isinstance(depends, str) else set(depends)
        others = {other.logical_id for other in self.jobs if other is not job}
        waits = {k for k, r in self.stack.resources.items() if r["Type"] == "AWS::CloudFormation::WaitCondition"}
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

    def run_together(
        self, jobs: Sequence[tuple[JobResource, dict[str, Any]]], request_type: str, phase: str
    ) -> list[Step]:
        """The events of independent resources in parallel, as CloudFormation sends them: each
        resource's polls at its own waiter's interval, on the one virtual clock; the resources
        due at the same instant are polled in template order. Once one fails, the others still in
        progress are cancelled, as CloudFormation cancels them (their steps are ``CANCELLED``;
        the physical id onEvent gave, if it ran, is kept so that the rollback deletes its job: an
        assumption, as CloudFormation never received it). Returns the steps in template order."""
        runs = [self.events(job, request_type, phase, properties=props) for job, props in jobs]
        due = [self.clock.elapsed] * len(runs)
        steps: list[Step | None] = [None] * len(runs)
        position = {job.logical_id: index for index, (job, _) in enumerate(jobs)}
        after = [[position[d] for d in self.job_dependencies(job) if d in position] for job, _ in jobs]

        def ready(index: int) -> bool:  # every resource it depends on has been created
            return all(steps[d] is not None for d in after[index])

        while any(step is None for step in steps):
            earliest = min(d for i, (d, step) in enumerate(zip(due, steps, strict=True)) if step is None and ready(i))
            if earliest > self.clock.elapsed:
                self.clock.advance(earliest - self.clock.elapsed)
            for index, events in enumerate(runs):
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

    def events(
        self,
        job: JobResource,
        request_type: str,
        phase: str,
        *,
        properties: dict[str, Any],
        physical_id: str | None = None,
        old_properties: dict[str, Any] | None = None,
    ) -> Generator[float, None, Step]:
        """:meth:`run` as a generator: yields the seconds until its next poll, returns the step."""
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


def _scenario_of(value: object, context: str = "") -> Scenario:
    """``value`` (a :class:`Scenario` or its value, e.g. ``"failure"``) as a Scenario.

    Raises:
        ValueError: ``value`` is no scenario; the message lists the scenarios.
    """
    if isinstance(value, str):  # a Scenario is a str too
        with contextlib.suppress(ValueError):
            return Scenario(value)
    valid = ", ".join(s.value for s in Scenario)
    raise ValueError(f"unknown scenario {value!r}{context}; valid scenarios: {valid}")


def _check_services(names: Iterable[str], services: Iterable[str], where: str, context: str = "") -> None:
    """Refuse a service name (from ``names``) that is not one of ``services``, those of the
    stacks ``where`` describes (e.g. ``"the simulated stacks"``).

    Raises:
        ValueError: an unknown name; the message lists ``services``.
    """
    known = sorted(set(services))
    for name in names:
        if name not in known:
            listed = ", ".join(known) or "none (no export jobs)"
            raise ValueError(f"unknown service {name!r}{context}; services of {where}: {listed}")


def _scenarios(choice: ScenarioChoice, services: list[str]) -> dict[str, Scenario]:
    """Each service's scenario, refusing unknown services and values with the valid ones."""
    if isinstance(choice, Mapping):
        _check_services(choice, services, "the simulated stacks")
        return {s: _scenario_of(choice.get(s, Scenario.SUCCESS), f" for {s!r}") for s in services}
    if callable(choice):
        return {s: _scenario_of(choice(s), f" returned by scenario({s!r})") for s in services}
    scenario = _scenario_of(choice)
    return dict.fromkeys(services, scenario)


def fake_class(service: str) -> type[FakeService]:
    """The fake of ``service`` (``fakes/<service lower-cased>.py``, class ``Fake``)."""
    try:
        module = importlib.import_module(f"{__package__}.fakes.{service.lower()}")
    except ModuleNotFoundError:
        raise ValueError(f"no fake service for {service!r}") from None
    fake: type[FakeService] = module.Fake
    return fake


@contextlib.contextmanager
def _aws_environment(fakes: Mapping[str, FakeService], region: str) -> Iterator[None]:
    """Fake credentials, the Region and each fake's endpoint; nothing of the user's AWS
    configuration leaks in, and everything is restored afterwards."""
    values: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_SESSION_TOKEN": None,
        "AWS_SECURITY_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_DEFAULT_PROFILE": None,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        # Any service without a fake fails on loopback instead of reaching AWS.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": None,
        "AWS_RETRY_MODE": None,
        "AWS_MAX_ATTEMPTS": None,
        **{fake.endpoint_env: fake.url for fake in fakes.values()},
    }
    saved = {k: os.environ.get(k) for k in values}
    import boto3

    session = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = None  # a fresh Lambda container: no credentials cached from before
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        boto3.DEFAULT_SESSION = session
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _stacks_of(source: Any, names: Collection[str] | None = None) -> list[StackTemplate]:
    if isinstance(source, str | Path):
        stacks = read_assembly(Path(source), set(names) if names is not None else None)
        missing = sorted(set(names or ()) - {s.name for s in stacks})
        if missing:
            raise ValueError(f"{source}: no stack named {', '.join(map(repr, missing))} in the cloud assembly")
        return stacks
    from aws_cdk import Stage

    stage = Stage.of(source)
    if stage is None:
        raise ValueError(f"{source!r} is not in an App or Stage")
    assembly = stage.synth()
    return read_assembly(Path(assembly.directory), {source.artifact_id})


def simulate(
    source: Any,
    *,
    scenario: ScenarioChoice = Scenario.SUCCESS,
    update_to: Any = None,
    delete: bool = True,
    log: Log | None = None,
    account: str | None = None,
    region: str | None = None,
    retry_create: bool = False,
    before_delete: Callable[[Mapping[str, FakeService]], None] | None = None,
    authorize: bool | None = None,
    stacks: Collection[str] | None = None,
    busy_seconds: float = 600.0,
    missing_sources: Collection[str] = (),
) -> SimulationResult:
    """Deploy (and optionally update and delete) a stack's export jobs against fake services.

    Args:
        source: a ``Stack`` (synthesized here) or a cloud assembly folder such as ``cdk.out``.
        scenario: how the fake services behave: one :class:`Scenario` for all, or a mapping of
            service name (``"Personalize"``, ``"Forecast"``, ``"Pinpoint"``, ``"RoboMaker"``,
            ``"Rds"``, ``"CloudWatchLogs"``) to scenario (others succeed), or a function of the
            service name; a scenario is a :class:`Scenario` or its value (``"failure"``). The mapping's keys must be
            services of the simulated stacks (the deployed and the updated ones), spelled as
            their resource types are (``Custom::ExportJob-Personalize``). Default: every job
            succeeds.
        update_to: a second ``Stack`` or assembly folder to update the deployed stack to:
            jobs whose properties changed get an Update (and, when the handler replaces the
            job, the cleanup Delete of the old one); new jobs a Create; removed jobs a Delete.
            If an event of the update fails, it is rolled back as CloudFormation does: the jobs
            it updated get an Update back to their previous properties (phase ``rollback``), the
            jobs it created a Delete, and the jobs it replaced stay. Default: no update.
        delete: end by deleting the stack (each live job gets a Delete). Default: True.
        log: called with each progress line (e.g. ``print``). Default: silent.
        retry_create: invoke every Create's onEvent twice with the same request, as the
            framework does when its first invocation's answer is lost. Default: False.
        before_delete: called with the fake services (by service name) after the deployment
            (and update), before the Delete events, e.g. to delete a job out of band.
            Default: nothing.
        account: the simulated account id. Default: the stacks' own account where it is
            concrete (an ``env`` with an account), else ``"123456789012"``. An account that
            contradicts a stack's is a ValueError.
        region: the simulated Region; the fakes' ARNs are in its partition (``cn-*``:
            ``aws-cn``, ``us-gov-*``: ``aws-us-gov``...). Default: the stacks' own Region where
            it is concrete, else ``"us-east-1"``. A Region that contradicts a stack's is a
            ValueError.
        authorize: evaluate every request the handler sends and every access the services make
            for a job with the IAM evaluator ``@cloud-copilot/iam-simulate`` (a separate Node.js
            process; the npm packages are not part of export_constructs, see
            the ``iam`` module of ``export_constructs.testing``), against the templates' policies; a denied
            request is answered with the service's AccessDenied and listed in ``problems``.
            Default: on when the environment variable ``EXPORT_CONSTRUCTS_AUTHORIZE`` is ``1``.
        stacks: with a cloud assembly folder, the artifact ids of the stacks to simulate.
            Default: every stack of the assembly.
        busy_seconds: with :attr:`Scenario.BUSY`, how long (virtual seconds from the start)
            jobs of another stack fill the service's concurrency quota. Default: 600.
        missing_sources: sources that do not exist, for negative tests: ARNs (a dataset,
            forecast, world, snapshot or cluster, a log group, a Pinpoint project), a log group's
            name or a Pinpoint application id. A job started on one fails as its service answers
            a missing source (e.g. CloudWatch Logs' ``ResourceNotFoundException``). Default: none:
            every source of the simulated account and Region exists, whether a stack creates it
            or not; sources of another account or Region never do.

    Returns:
        Every event's outcome as CloudFormation would see it, every request the fake services
        received and any problem they found in them.

    Raises:
        ValueError: ``scenario`` names a service none of the stacks has, or gives (or its
            function returns) a value that is no scenario; the message lists the valid ones.
            Or ``account`` or ``region`` contradicts a stack's concrete environment, or the
            stacks (the updated ones too) are in different accounts or Regions.
        FileNotFoundError: ``source`` or ``update_to`` is a folder without a cloud assembly
            (no ``manifest.json``): run ``cdk synth`` first.
    """
    emit: Log = log or (lambda _: None)
    templates = _stacks_of(source, stacks)
    given = (account, region)
    account, region = simulated_environment(templates, *given)
    clock = VirtualClock()
    steps: list[Step] = []
    fakes: dict[str, FakeService] = {}
    with contextlib.ExitStack() as cleanup:
        stepfunctions = StepFunctionsFake(clock=clock, region=region, account=account, log=emit)
        fakes["StepFunctions"] = cleanup.enter_context(stepfunctions)
        waits = _Waits(stepfunctions, cleanup.enter_context(SignalReceiver()))
        targets = {s.name: s for s in _stacks_of(update_to, stacks)} if update_to is not None else {}
        simulated_environment([*templates, *targets.values()], *given)  # the update's stacks, in the same place
        runs = [
            _Stack(
                s,
                Pseudo(
                    stack_name=s.name,
                    account=account,
                    region=region,
                    partition=partition_of(region),
                    url_suffix=dns_suffix_of(region),
                ),
                clock,
                emit,
                waits,
                retry_create=retry_create,
            )
            for s in templates
        ]
        # A fake for every service of the deployed and the updated stacks alike.
        services = list(dict.fromkeys(service for s in [*templates, *targets.values()] for service in s.services()))
        scenarios = _scenarios(scenario, services)
        for service in services:
            fake = fake_class(service)(
                scenario=scenarios[service],
                clock=clock,
                region=region,
                account=account,
                log=emit,
                busy_seconds=busy_seconds,
            )
            fake.missing_sources = frozenset(missing_sources)
            fakes[service] = cleanup.enter_context(fake)
        authorizer = _authorizer(authorize, runs)
        for fake in fakes.values():
            fake.authorizer = authorizer
        for run in runs:
            run.authorizer = authorizer
        cleanup.enter_context(_aws_environment(fakes, region))
        deployed = {run.stack.name: run for run in runs}  # each stack as it stands now
        for run in runs:
            steps += _lifecycle(
                run,
                targets.get(run.stack.name),
                delete=delete,
                before_delete=lambda: before_delete and before_delete(fakes),
                deployed=deployed,
            )
    calls = [c for fake in fakes.values() for c in fake.calls]
    problems = [p for fake in fakes.values() for p in fake.problems] + waits.signals.problems
    problems += [p for run in runs for p in run.problems]
    if authorizer is None:
        return SimulationResult(steps=steps, calls=calls, problems=problems)
    problems += authorizer.problems
    return SimulationResult(steps=steps, calls=calls, problems=problems, authorization=authorizer.summary())


def _policies(runs: Sequence[_Stack]) -> AccountPolicies:
    """The simulated account's policies: the stacks' templates and their warnings' statements."""
    pseudo = runs[0].pseudo
    policies = AccountPolicies(pseudo.account, pseudo.region, pseudo.partition)
    for run in runs:
        policies.add_template(run.stack.resources, run.resolver.resolve, run.stack.name)
        policies.add_warnings(run.stack.warnings)
    return policies


def _authorizer(authorize: bool | None, runs: Sequence[_Stack]) -> Authorizer | None:
    if authorize is None:
        authorize = os.environ.get("EXPORT_CONSTRUCTS_AUTHORIZE") == "1"
    if not authorize or not runs:
        return None
    from .iam import shared_simulator

    policies = _policies(runs)
    return Authorizer(shared_simulator(), policies)


def _created(stack: _Stack, step: Step, phase: str, steps: list[Step], known: Container[str] = ()) -> Step:
    """Record ``step``; once it succeeded, await the wait conditions that depend on its resource
    (except those in ``known``), linked to it as its :attr:`Step.wait`; a result resource's step
    is linked to its job's as :attr:`Step.report`. Return the first failed step, else ``step``."""
    steps.append(step)
    job_id = stack.reported_job(step.logical_id)
    if job_id is not None:
        for earlier in reversed(steps[:-1]):
            if earlier.logical_id == job_id and earlier.wait is not None:
                earlier.report = step
                break
    if step.status == "SUCCESS":
        for wait_id in stack.waits_after(step.logical_id):
            if wait_id not in known:
                waited = stack.await_condition(wait_id, phase)
                step.wait = waited
                steps.append(waited)
                if waited.status == "FAILED":
                    return waited
    return step


def _update_rollback(
    run: _Stack,
    updated: _Stack,
    sent: list[tuple[JobResource, Step, dict[str, Any]]],
    before: Mapping[str, tuple[JobResource, str, dict[str, Any]]],
    live: dict[str, tuple[JobResource, str, dict[str, Any]]],
    steps: list[Step],
) -> bool:
    """CloudFormation's update rollback, once an update failed: in reverse order, every job
    this update sent an Update (the failed one too) gets an Update back to its previous
    properties (``OldResourceProperties``: the ones it was updated to), and every job it created
    a Delete; then the rollback cleanup deletes what a rollback Update replaced. Nothing replaced
    by the update is deleted: the rollback brought it back. ``live`` becomes ``before``, with the
    physical ids the rollback Updates returned. Return False if any rollback event failed
    (UPDATE_ROLLBACK_FAILED)."""
    replaced: list[tuple[JobResource, str, dict[str, Any]]] = []
    ok = True
    for job, step, props in reversed(sent):
        logical_id = job.logical_id
        if step.request_type == "Create":
            if step.physical_id is not None:
                back = updated.run(job, "Delete", "rollback", properties=props, physical_id=step.physical_id)
                steps.append(back)
                ok = ok and back.status == "SUCCESS"
            live.pop(logical_id, None)
            continue
        old_job, _, old_props = before[logical_id]
        physical = live[logical_id][1]  # a failed Update kept the physical id
        back = run.run(old_job, "Update", "rollback", properties=old_props, physical_id=physical, old_properties=props)
        steps.append(back)
        if back.status != "SUCCESS":
            ok = False
            continue
        restored = back.physical_id or physical
        if restored != physical:
            replaced.append((job, physical, props))
        live[logical_id] = (old_job, restored, old_props)
    for job, physical, props in replaced:
        steps.append(updated.run(job, "Delete", "rollback", properties=props, physical_id=physical))
    return ok


def _lifecycle(
    run: _Stack,
    target: StackTemplate | None,
    *,
    delete: bool,
    before_delete: Callable[[], object],
    deployed: dict[str, _Stack],
) -> list[Step]:
    """``run``'s deploy, update (to ``target``) and delete. ``deployed``: every stack of the
    simulated account as it stands, whose policies the account holds (an update replaces only its
    own stack's)."""
    steps: list[Step] = []
    live: dict[str, tuple[JobResource, str, dict[str, Any]]] = {}

    def rollback() -> None:
        for logical_id, (job, physical, props) in reversed(list(live.items())):
            steps.append(run.run(job, "Delete", "rollback", properties=props, physical_id=physical))
            del live[logical_id]

    # CloudFormation creates independent resources in parallel: consecutive independent jobs
    # run together on the virtual clock (a failure among them is rolled back once all have ended).
    index = 0
    while index < len(run.jobs):
        group = [run.jobs[index]]
        while group[-1] is not run.jobs[-1] and run.independent(group[0]):
            following = run.jobs[index + len(group)]
            if not run.independent(following, {job.logical_id for job in group}):
                break
            group.append(following)
        index += len(group)
        batch = [(job, run.properties(job)) for job in group]
        if len(batch) > 1:
            created = run.run_together(batch, "Create", "deploy")
        else:
            created = [run.run(batch[0][0], "Create", "deploy", properties=batch[0][1])]
        failed = False
        for (job, props), step in zip(batch, created, strict=True):
            if step.physical_id is not None:
                live[job.logical_id] = (job, step.physical_id, props)
            failed = _created(run, step, "deploy", steps).status == "FAILED" or failed
            if failed and len(batch) == 1:
                break
        if failed:
            rollback()
            return steps
    if target is not None:
        updated = _Stack(
            target,
            run.pseudo,
            run.clock,
            run.log,
            run.waits,
            retry_create=run.retry_create,
            created=run.resolver.created,
        )
        deployed[run.stack.name] = updated
        updated.problems = run.problems  # one stack's: the simulation reports them once
        if run.authorizer is not None:  # the update brings its own policies, the others keep theirs
            updated.authorizer = run.authorizer
            run.authorizer.load(_policies(list(deployed.values())))
        replaced: list[tuple[JobResource, str, dict[str, Any]]] = []
        before = dict(live)  # what the update rollback restores
        sent: list[tuple[JobResource, Step, dict[str, Any]]] = []  # this update's events, in order
        for job in updated.jobs:
            props = updated.properties(job)
            if job.logical_id in live:
                old_job, physical, old_props = live[job.logical_id]
                if old_props == props:
                    continue
                step = updated.run(
                    job, "Update", "update", properties=props, physical_id=physical, old_properties=old_props
                )
                if step.status == "SUCCESS":
                    if step.physical_id != physical:
                        replaced.append((old_job, physical, old_props))
                    live[job.logical_id] = (job, step.physical_id or physical, props)
            else:
                step = updated.run(job, "Create", "update", properties=props)
                if step.status == "SUCCESS":
                    live[job.logical_id] = (job, step.physical_id or "", props)
            sent.append((job, step, props))
            # Only new wait conditions wait: an unchanged one was satisfied at deploy.
            if _created(updated, step, "update", steps, known=run.stack.resources).status == "FAILED":
                if not _update_rollback(run, updated, sent, before, live, steps):
                    return steps  # UPDATE_ROLLBACK_FAILED: the stack is stuck
                break
        else:
            kept = {j.logical_id for j in updated.jobs}
            for logical_id in [k for k in live if k not in kept]:
                old_job, physical, old_props = live.pop(logical_id)
                replaced.append((old_job, physical, old_props))
            for old_job, physical, old_props in replaced:
                steps.append(run.run(old_job, "Delete", "cleanup", properties=old_props, physical_id=physical))
    if delete:
        before_delete()
        for _, (job, physical, props) in reversed(list(live.items())):
            steps.append(run.run(job, "Delete", "delete", properties=props, physical_id=physical))
    return steps

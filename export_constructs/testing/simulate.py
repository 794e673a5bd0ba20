"""Runs a synthesized stack's export jobs through the real handler code, offline.

The simulation plays CloudFormation and the CDK Provider framework: it sends each export-job
custom resource the events CloudFormation would (Create; Update and the cleanup Delete of a
replaced job; Delete; and the rollback Deletes after a failure), passes them through the
framework's rules (custom-resources provider-framework/runtime/framework.js and
cfn-response.js) to the user functions found in the template, and polls ``is_complete`` as the
waiter state machine does, on a virtual clock. The handler's boto3 clients reach fake services
on loopback through botocore's ``AWS_ENDPOINT_URL_<SERVICE>`` variables.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import json
import os
import sys
import uuid
from collections.abc import Callable, Container, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .assembly import JobResource, Pseudo, Resolver, StackTemplate, UserFunction, read_assembly, stringify
from .fakes.base import ACCESS_KEY, SECRET_KEY, Call, FakeService, Log, Scenario, VirtualClock
from .fakes.stepfunctions import Fake as StepFunctionsFake
from .waits import Interpreter, SignalReceiver

#: The framework's marker for a Create that failed before it had a physical id; the Delete
#: CloudFormation sends for it is ignored (cfn-response.js).
CREATE_FAILED_MARKER = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"
RESPONSE_URL = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/simulated"

ScenarioChoice = Scenario | str | Mapping[str, Scenario | str] | Callable[[str], Scenario | str]


@dataclass
class Step:
    """What CloudFormation saw for one event of one resource."""

    logical_id: str
    """The resource's logical id in the template (e.g. ``UsersExportB5678792``)."""
    path: str
    """The resource's construct path (``aws:cdk:path``), or the logical id of a wait condition."""
    service: str
    """The export job's service (``Personalize``...), or ``WaitCondition``."""
    request_type: str
    """``Create``, ``Update`` or ``Delete``."""
    phase: str
    """``deploy``, ``update``, ``cleanup``, ``rollback`` or ``delete``."""
    status: str
    """``SUCCESS`` or ``FAILED``."""
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
    retried_ids: list[str] = field(default_factory=list)
    """With ``retry_create``: the physical ids the first and the retried onEvent returned."""


@dataclass
class SimulationResult:
    """What :func:`simulate` found: every event's outcome and every request the fakes saw."""

    steps: list[Step]
    """Every event, in the order CloudFormation would send them."""
    calls: list[Call]
    """Every request the fake services received: each service's in the order received, one
    service after another."""
    problems: list[str]
    """What the fake services found wrong with the handler's requests (should be empty)."""

    def step(self, logical_id: str, request_type: str = "Create", phase: str | None = None) -> Step:
        """The first event of ``logical_id`` of this request type (and phase).

        Args:
            logical_id: the resource's logical id.
            request_type: ``Create``, ``Update`` or ``Delete``. Default: ``"Create"``.
            phase: ``deploy``, ``update``, ``cleanup``, ``rollback`` or ``delete``. Default:
                any phase.

        Raises:
            KeyError: there is no such event.
        """
        for step in self.steps:
            if step.logical_id == logical_id and step.request_type == request_type and phase in (None, step.phase):
                return step
        raise KeyError(f"no {request_type} step of {logical_id}{f' in {phase}' if phase else ''}")

    def operations(self, service: str) -> list[str]:
        """The API operations ``service`` (``"Personalize"``...) received, in order."""
        return [c.operation for c in self.calls if c.service == service]


class _Function:
    """One Lambda function's code, imported from its asset folder in a namespace of its own
    (separate functions are separate Lambda containers: they share no module state)."""

    def __init__(self, spec: UserFunction, environment: Mapping[str, str]) -> None:
        self.spec = spec
        self.environment = dict(environment)
        module_name, _, self.attribute = spec.handler.rpartition(".")
        self.top = module_name.split(".", 1)[0]
        self._modules: dict[str, ModuleType] = {}
        with self._installed():
            self._module_name = module_name
            importlib.import_module(module_name)

    @contextlib.contextmanager
    def _installed(self) -> Iterator[None]:
        def ours(name: str) -> bool:
            return name == self.top or name.startswith(f"{self.top}.")

        saved = {k: sys.modules.pop(k) for k in [k for k in sys.modules if ours(k)]}
        sys.modules.update(self._modules)
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

    def __call__(self, event: Mapping[str, Any]) -> Any:
        payload = json.loads(json.dumps(event))  # Lambda's JSON round trip, both ways
        with self._installed():
            handler: Callable[[Any, Any], Any] = getattr(sys.modules[self._module_name], self.attribute)
            result = handler(payload, None)
        return json.loads(json.dumps(result))


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
        self._interpreter = Interpreter(self._invoke_arn)
        self.retry_create = retry_create

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
            self._functions[spec.logical_id] = _Function(spec, environment)
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
        self.log(f"{job.path} ({job.service}) {request_type}{f' [{phase}]' if phase != 'deploy' else ''}")
        step = Step(job.logical_id, job.path, job.service, request_type, phase, "FAILED", physical_id)
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
                raise RuntimeError(f'DELETE: cannot change the physical resource ID from "{physical_id}"')
            event = {**request, **result, "PhysicalResourceId": physical}
        except Exception as error:
            step.physical_id = physical_id or (CREATE_FAILED_MARKER if request_type == "Create" else None)
            step.reason = str(error)
            return self._finish(step)
        step.physical_id = physical
        checker = job.provider.is_complete
        if checker is None:
            step.status, step.data = "SUCCESS", dict(event.get("Data") or {})
            return self._finish(step)
        for attempt in range(job.provider.max_attempts + 1):
            step.polls += 1
            try:
                answer = self.function(checker)(event)
            except Exception as error:
                step.reason = str(error)
                break
            if answer.get("IsComplete"):
                step.status = "SUCCESS"
                step.data = {**(event.get("Data") or {}), **(answer.get("Data") or {})}
                break
            if answer.get("Data"):
                step.reason = '"Data" is not allowed if "IsComplete" is "False"'
                break
            if attempt == job.provider.max_attempts:
                step.reason = "Operation timed out"
                break
            self.clock.advance(job.provider.interval_seconds)
        step.simulated_seconds = self.clock.elapsed - started
        return self._finish(step)

    def _finish(self, step: Step) -> Step:
        if step.status == "SUCCESS" and step.physical_id and step.request_type != "Delete":
            self.resolver.created[step.logical_id] = (step.physical_id, step.data)
        took = f" after {step.polls} polls ({int(step.simulated_seconds)} s simulated)" if step.polls else ""
        if step.status == "SUCCESS":
            attributes = ", ".join(f"{k}={v}" for k, v in sorted(step.data.items()))
            self.log(f"  -> SUCCESS{took}{': ' + attributes if attributes else ''}")
        else:
            self.log(f"  -> FAILED{took}: {step.reason}")
        return step


def _scenario_for(choice: ScenarioChoice, service: str) -> Scenario:
    if isinstance(choice, Mapping):
        return Scenario(choice.get(service, Scenario.SUCCESS))
    if callable(choice):
        return Scenario(choice(service))
    return Scenario(choice)


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


def _stacks_of(source: Any) -> list[StackTemplate]:
    if isinstance(source, str | Path):
        return read_assembly(Path(source))
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
    account: str = "123456789012",
    region: str = "us-east-1",
    retry_create: bool = False,
    before_delete: Callable[[Mapping[str, FakeService]], None] | None = None,
) -> SimulationResult:
    """Deploy (and optionally update and delete) a stack's export jobs against fake services.

    Args:
        source: a ``Stack`` (synthesized here) or a cloud assembly folder such as ``cdk.out``.
        scenario: how the fake services behave: one :class:`Scenario` for all, or a mapping of
            service name (``"Personalize"``, ``"Forecast"``, ``"Pinpoint"``, ``"RoboMaker"``)
            to scenario (others succeed), or a function of the service name. Default: every
            job succeeds.
        update_to: a second ``Stack`` or assembly folder to update the deployed stack to:
            jobs whose properties changed get an Update (and, when the handler replaces the
            job, the cleanup Delete of the old one); new jobs a Create; removed jobs a Delete.
            Default: no update.
        delete: end by deleting the stack (each live job gets a Delete). Default: True.
        log: called with each progress line (e.g. ``print``). Default: silent.
        retry_create: invoke every Create's onEvent twice with the same request, as the
            framework does when its first invocation's answer is lost. Default: False.
        before_delete: called with the fake services (by service name) after the deployment
            (and update), before the Delete events, e.g. to delete a job out of band.
            Default: nothing.
        account: the simulated account id. Default: ``"123456789012"``.
        region: the simulated Region. Default: ``"us-east-1"``.

    Returns:
        Every event's outcome as CloudFormation would see it, every request the fake services
        received and any problem they found in them.
    """
    emit: Log = log or (lambda _: None)
    stacks = _stacks_of(source)
    clock = VirtualClock()
    steps: list[Step] = []
    fakes: dict[str, FakeService] = {}
    with contextlib.ExitStack() as cleanup:
        stepfunctions = StepFunctionsFake(clock=clock, region=region, account=account, log=emit)
        fakes["StepFunctions"] = cleanup.enter_context(stepfunctions)
        waits = _Waits(stepfunctions, cleanup.enter_context(SignalReceiver()))
        targets = {s.name: s for s in _stacks_of(update_to)} if update_to is not None else {}
        runs = [
            _Stack(
                s,
                Pseudo(stack_name=s.name, account=account, region=region),
                clock,
                emit,
                waits,
                retry_create=retry_create,
            )
            for s in stacks
        ]
        # A fake for every service of the deployed and the updated stacks alike.
        for service in dict.fromkeys(service for s in [*stacks, *targets.values()] for service in s.services()):
            fake = fake_class(service)(
                scenario=_scenario_for(scenario, service), clock=clock, region=region, account=account, log=emit
            )
            fakes[service] = cleanup.enter_context(fake)
        cleanup.enter_context(_aws_environment(fakes, region))
        for run in runs:
            steps += _lifecycle(
                run,
                targets.get(run.stack.name),
                delete=delete,
                before_delete=lambda: before_delete and before_delete(fakes),
            )
    calls = [c for fake in fakes.values() for c in fake.calls]
    problems = [p for fake in fakes.values() for p in fake.problems] + waits.signals.problems
    return SimulationResult(steps=steps, calls=calls, problems=problems)


def _created(stack: _Stack, step: Step, phase: str, steps: list[Step], known: Container[str] = ()) -> Step:
    """Record ``step``; once it succeeded, await the wait conditions that depend on its resource
    (except those in ``known``). Return the first failed step, else ``step``."""
    steps.append(step)
    if step.status == "SUCCESS":
        for wait_id in stack.waits_after(step.logical_id):
            if wait_id not in known:
                waited = stack.await_condition(wait_id, phase)
                steps.append(waited)
                if waited.status == "FAILED":
                    return waited
    return step


def _lifecycle(
    run: _Stack, target: StackTemplate | None, *, delete: bool, before_delete: Callable[[], object]
) -> list[Step]:
    steps: list[Step] = []
    live: dict[str, tuple[JobResource, str, dict[str, Any]]] = {}

    def rollback() -> None:
        for logical_id, (job, physical, props) in reversed(list(live.items())):
            steps.append(run.run(job, "Delete", "rollback", properties=props, physical_id=physical))
            del live[logical_id]

    for job in run.jobs:
        props = run.properties(job)
        step = run.run(job, "Create", "deploy", properties=props)
        if step.physical_id is not None:
            live[job.logical_id] = (job, step.physical_id, props)
        if _created(run, step, "deploy", steps).status == "FAILED":
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
        replaced: list[tuple[JobResource, str, dict[str, Any]]] = []
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
            # Only new wait conditions wait: an unchanged one was satisfied at deploy.
            if _created(updated, step, "update", steps, known=run.stack.resources).status == "FAILED":
                return steps
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

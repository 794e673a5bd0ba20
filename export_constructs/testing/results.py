"""What a simulation found, as :func:`.simulate` returns it: a :class:`Step` for each event
CloudFormation sent a resource (its outcome, attributes, polls and simulated time; on the
long-wait path linked to its wait condition's and result resource's steps), gathered in a
:class:`SimulationResult` with every call the fake services received and every problem found,
and looked up by logical id, construct path or construct (:meth:`SimulationResult.step`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .assembly import construct_path
from .fakes.base import Call


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

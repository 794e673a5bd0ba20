"""CloudFormation's stack operations, as events to a stack's job resources (sent by a
:class:`.StackPlayer`): the deployment (consecutive independent jobs created together) and its
rollback, which deletes what it created; the update to a second template (Updates, Creates, the
cleanup Deletes of replaced and removed jobs) and its rollback, which updates every job back and
deletes what the update created; and the deletion. What CloudFormation holds between them is a
:class:`LiveJob` for each job resource. Once a created resource succeeded, the wait conditions
that depend on it are awaited (:func:`record_created`)."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .assembly import JobResource, StackTemplate
from .player import StackPlayer
from .policies import AccountPolicies
from .results import Step


@dataclass(frozen=True)
class LiveJob:
    """A job resource as CloudFormation holds it."""

    job: JobResource
    """The resource, from the template it was last created or updated from."""
    physical_id: str
    """The physical id its last event returned."""
    properties: dict[str, Any]
    """Its resolved properties (``ResourceProperties``) as last sent."""


@dataclass(frozen=True)
class UpdateEvent:
    """An event an update sent a job resource (what its rollback undoes)."""

    job: JobResource
    step: Step
    properties: dict[str, Any]
    """The properties the update sent."""


def play(
    player: StackPlayer,
    target: StackTemplate | None,
    *,
    delete: bool,
    before_delete: Callable[[], object],
    deployed: dict[str, StackPlayer],
) -> list[Step]:
    """``player``'s stack deployed, updated (to ``target``) and deleted: every event's step, in
    order. A failed deployment is rolled back and ends there; so does an update whose rollback
    failed (UPDATE_ROLLBACK_FAILED: the stack is stuck). ``deployed``: every stack of the
    simulated account as it stands, whose policies the account holds (an update replaces only
    its own stack's)."""
    steps: list[Step] = []
    live: dict[str, LiveJob] = {}
    if not deploy(player, live, steps):
        return steps
    if target is not None and not update(player, target, deployed, live, steps):
        return steps
    if delete:
        before_delete()
        for held in reversed(list(live.values())):
            steps.append(send_delete(player, held, "delete"))
    return steps


def deploy(player: StackPlayer, live: dict[str, LiveJob], steps: list[Step]) -> bool:
    """Create every job resource, adding each to ``live``; once one failed, delete them all
    again (phase ``rollback``) and return False."""
    for group in _created_together(player):
        batch = [(job, player.properties(job)) for job in group]
        if len(batch) > 1:
            created = player.send_together(batch, "Create", "deploy")
        else:
            created = [player.send(batch[0][0], "Create", "deploy", properties=batch[0][1])]
        failed = False
        for (job, props), step in zip(batch, created, strict=True):
            if step.physical_id is not None:
                live[job.logical_id] = LiveJob(job, step.physical_id, props)
            failed = record_created(player, step, "deploy", steps).status == "FAILED" or failed
        if failed:
            for held in reversed(list(live.values())):
                steps.append(send_delete(player, held, "rollback"))
            live.clear()
            return False
    return True


def _created_together(player: StackPlayer) -> Iterator[list[JobResource]]:
    """The job resources in template order, in groups CloudFormation creates in parallel:
    consecutive independent jobs run together on the virtual clock (a failure among them is
    rolled back once all have ended)."""
    jobs = player.jobs
    index = 0
    while index < len(jobs):
        group = [jobs[index]]
        while group[-1] is not jobs[-1] and player.independent(group[0]):
            following = jobs[index + len(group)]
            if not player.independent(following, {job.logical_id for job in group}):
                break
            group.append(following)
        index += len(group)
        yield group


def update(
    player: StackPlayer,
    target: StackTemplate,
    deployed: dict[str, StackPlayer],
    live: dict[str, LiveJob],
    steps: list[Step],
) -> bool:
    """Update the stack to ``target``: an Update for each job whose properties changed, a
    Create for each new one, then the cleanup Deletes of the jobs replaced or removed. Once an
    event failed, roll the update back instead (:func:`update_rollback`); return False if that
    failed too."""
    updated = StackPlayer(
        target,
        player.pseudo,
        player.clock,
        player.log,
        player.waits,
        retry_create=player.retry_create,
        created=player.resolver.created,
    )
    deployed[player.template.name] = updated
    updated.problems = player.problems  # one stack's: the simulation reports them once
    if player.authorizer is not None:  # the update brings its own policies, the others keep theirs
        updated.authorizer = player.authorizer
        player.authorizer.load(account_policies(list(deployed.values())))
    replaced: list[LiveJob] = []
    before = dict(live)  # what the update rollback restores
    sent: list[UpdateEvent] = []  # this update's events, in order
    for job in updated.jobs:
        props = updated.properties(job)
        if job.logical_id in live:
            old = live[job.logical_id]
            if old.properties == props:
                continue
            step = updated.send(
                job, "Update", "update", properties=props, physical_id=old.physical_id, old_properties=old.properties
            )
            if step.status == "SUCCESS":
                if step.physical_id != old.physical_id:
                    replaced.append(old)
                live[job.logical_id] = LiveJob(job, step.physical_id or old.physical_id, props)
        else:
            step = updated.send(job, "Create", "update", properties=props)
            if step.status == "SUCCESS":
                live[job.logical_id] = LiveJob(job, step.physical_id or "", props)
        sent.append(UpdateEvent(job, step, props))
        # Only new wait conditions wait: an unchanged one was satisfied at deploy.
        if record_created(updated, step, "update", steps, known=player.template.resources).status == "FAILED":
            return update_rollback(player, updated, sent, before, live, steps)
    kept = {j.logical_id for j in updated.jobs}
    replaced += [live.pop(logical_id) for logical_id in [k for k in live if k not in kept]]
    for old in replaced:
        steps.append(send_delete(player, old, "cleanup"))
    return True


def update_rollback(
    player: StackPlayer,
    updated: StackPlayer,
    sent: Sequence[UpdateEvent],
    before: dict[str, LiveJob],
    live: dict[str, LiveJob],
    steps: list[Step],
) -> bool:
    """CloudFormation's update rollback, once an update failed: in reverse order, every job
    this update sent an Update (the failed one too) gets an Update back to its previous
    properties (``OldResourceProperties``: the ones it was updated to), and every job it created
    a Delete; then the rollback cleanup deletes what a rollback Update replaced. Nothing replaced
    by the update is deleted: the rollback brought it back. ``live`` becomes ``before``, with the
    physical ids the rollback Updates returned. Return False if any rollback event failed
    (UPDATE_ROLLBACK_FAILED)."""
    replaced: list[LiveJob] = []
    ok = True
    for event in reversed(sent):
        logical_id = event.job.logical_id
        if event.step.request_type == "Create":
            if event.step.physical_id is not None:
                back = updated.send(
                    event.job, "Delete", "rollback", properties=event.properties, physical_id=event.step.physical_id
                )
                steps.append(back)
                ok = ok and back.status == "SUCCESS"
            live.pop(logical_id, None)
            continue
        previous = before[logical_id]
        physical = live[logical_id].physical_id  # a failed Update kept the physical id
        back = player.send(
            previous.job,
            "Update",
            "rollback",
            properties=previous.properties,
            physical_id=physical,
            old_properties=event.properties,
        )
        steps.append(back)
        if back.status != "SUCCESS":
            ok = False
            continue
        restored = back.physical_id or physical
        if restored != physical:
            replaced.append(LiveJob(event.job, physical, event.properties))
        live[logical_id] = LiveJob(previous.job, restored, previous.properties)
    for gone in replaced:
        steps.append(send_delete(updated, gone, "rollback"))
    return ok


def send_delete(player: StackPlayer, held: LiveJob, phase: str) -> Step:
    """The Delete of a job CloudFormation holds, with the properties it was last sent."""
    return player.send(held.job, "Delete", phase, properties=held.properties, physical_id=held.physical_id)


def record_created(player: StackPlayer, step: Step, phase: str, steps: list[Step], known: Container[str] = ()) -> Step:
    """Record ``step``; once it succeeded, await the wait conditions that depend on its resource
    (except those in ``known``), linked to it as its :attr:`Step.wait`; a result resource's step
    is linked to its job's as :attr:`Step.report`. Return the first failed step, else ``step``."""
    steps.append(step)
    job_id = player.reported_job(step.logical_id)
    if job_id is not None:
        for earlier in reversed(steps[:-1]):
            if earlier.logical_id == job_id and earlier.wait is not None:
                earlier.report = step
                break
    if step.status == "SUCCESS":
        for wait_id in player.waits_after(step.logical_id):
            if wait_id not in known:
                waited = player.await_condition(wait_id, phase)
                step.wait = waited
                steps.append(waited)
                if waited.status == "FAILED":
                    return waited
    return step


def account_policies(players: Sequence[StackPlayer]) -> AccountPolicies:
    """The simulated account's policies: the stacks' templates and their warnings' statements."""
    pseudo = players[0].pseudo
    policies = AccountPolicies(pseudo.account, pseudo.region, pseudo.partition)
    for player in players:
        policies.add_stack(player.template, player.resolver.resolve)
    return policies

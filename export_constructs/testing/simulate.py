"""Runs a synthesized stack's export jobs through the real handler code, offline.

:func:`simulate` plays CloudFormation and the CDK Provider framework: it starts a fake of every
service the stacks use on loopback (the handler's boto3 clients reach them through botocore's
``AWS_ENDPOINT_URL_<SERVICE>`` variables, :mod:`.sandbox`), each playing the scenario asked for,
then deploys, optionally updates, and deletes each stack (:mod:`.lifecycle`), sending each
export-job custom resource the events CloudFormation would (:mod:`.player`) on a virtual clock,
and returns what happened (:mod:`.results`). The scenario a caller or the command line asks for
is read and checked against the stacks' services here.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .accounts import OtherStack, other_policies, other_stacks, start_s3
from .assembly import StackTemplate, read_assembly, simulated_environment
from .authorize import Authorizer
from .fakes.arns import dns_suffix_of, partition_of
from .fakes.base import FakeService, Log
from .fakes.jobs import Scenario, VirtualClock
from .fakes.stepfunctions import Fake as StepFunctionsFake
from .lifecycle import account_policies, play
from .player import StackPlayer
from .resolver import Pseudo, Resolver
from .results import SimulationResult, Step
from .sandbox import aws_environment
from .waits import SignalReceiver, Waits

ScenarioChoice = Scenario | str | Mapping[str, Scenario | str] | Callable[[str], Scenario | str]


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


def _others_of(others: Sequence[Any], account: str, region: str) -> list[OtherStack]:
    """The stacks of other accounts (``Stack`` objects, synthesized here, or :class:`StackTemplate`
    objects), each resolved in its own account and Region (see :func:`.accounts.other_stacks`)."""
    templates = [t for other in others for t in ([other] if isinstance(other, StackTemplate) else _stacks_of(other))]
    return other_stacks(templates, account, region)


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
    others: Sequence[Any] = (),
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
        others: stacks of other accounts whose resources the simulated stacks use (an
            ``ExportArchive``'s stack: a bucket and key the exports write into), each a ``Stack``
            or a ``StackTemplate`` with a concrete account other than the simulated one. They are
            not deployed (no event is sent to them): their templates, resolved in their own
            account and Region, give those accounts' policies, which authorize every request on
            their resources together with the caller's account's, and their buckets are S3's
            with that account as owner. Default: none.

    Returns:
        Every event's outcome as CloudFormation would see it, every request the fake services
        received and any problem they found in them.

    Raises:
        ValueError: ``scenario`` names a service none of the stacks has, or gives (or its
            function returns) a value that is no scenario; the message lists the valid ones.
            Or ``account`` or ``region`` contradicts a stack's concrete environment, or the
            stacks (the updated ones too) are in different accounts or Regions.
            Or a stack of ``others`` has no concrete account, or is of the simulated account.
        FileNotFoundError: ``source`` or ``update_to`` is a folder without a cloud assembly
            (no ``manifest.json``): run ``cdk synth`` first.
    """
    emit: Log = log or (lambda _: None)
    templates = _stacks_of(source, stacks)
    given = (account, region)
    account, region = simulated_environment(templates, *given)
    accounts = _others_of(others, account, region)
    clock = VirtualClock()
    steps: list[Step] = []
    fakes: dict[str, FakeService] = {}
    with contextlib.ExitStack() as cleanup:
        stepfunctions = StepFunctionsFake(clock=clock, region=region, account=account, log=emit)
        fakes["StepFunctions"] = cleanup.enter_context(stepfunctions)
        waits = Waits(stepfunctions, cleanup.enter_context(SignalReceiver()))
        targets = {s.name: s for s in _stacks_of(update_to, stacks)} if update_to is not None else {}
        simulated_environment([*templates, *targets.values()], *given)  # the update's stacks, in the same place
        players = [
            StackPlayer(
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
        # Every bucket S3 may be asked about: the stacks', their update's (named as the deployed
        # stack's resolver names them) and the other accounts'.
        buckets = [(p.template, p.resolver) for p in players]
        buckets += [
            (targets[p.template.name], Resolver(targets[p.template.name].template, p.pseudo))
            for p in players
            if p.template.name in targets
        ]
        buckets += [(o.template, o.resolver) for o in accounts]
        fakes["S3"] = start_s3(cleanup, buckets, clock=clock, region=region, account=account, log=emit)
        authorizer = _authorizer(authorize, players, accounts)
        for fake in fakes.values():
            fake.authorizer = authorizer
        for player in players:
            player.authorizer = authorizer
        cleanup.enter_context(aws_environment(fakes, region))
        deployed = {player.template.name: player for player in players}  # each stack as it stands now
        for player in players:
            steps += play(
                player,
                targets.get(player.template.name),
                delete=delete,
                before_delete=lambda: before_delete and before_delete(fakes),
                deployed=deployed,
            )
    calls = [c for fake in fakes.values() for c in fake.calls]
    problems = [p for fake in fakes.values() for p in fake.problems] + waits.signals.problems
    problems += [p for player in players for p in player.problems]
    if authorizer is None:
        return SimulationResult(steps=steps, calls=calls, problems=problems)
    problems += authorizer.problems
    return SimulationResult(steps=steps, calls=calls, problems=problems, authorization=authorizer.summary())


def _authorizer(
    authorize: bool | None, players: Sequence[StackPlayer], others: Sequence[OtherStack] = ()
) -> Authorizer | None:
    """The authorizer of the players' account, with the policies of ``others``' accounts; None
    when authorization is off."""
    if authorize is None:
        authorize = os.environ.get("EXPORT_CONSTRUCTS_AUTHORIZE") == "1"
    if not authorize or not players:
        return None
    from .iam import shared_simulator

    policies = account_policies(players)
    return Authorizer(shared_simulator(), policies, other_policies(others))

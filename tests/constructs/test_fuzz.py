"""Fuzzing the constructs end to end (issue "Bad input a fuzzer finds"): props drawn from valid
values, botocore-model boundaries, wrong types, tokens and odd strings, in env and env-agnostic
stacks under odd construct ids (``fuzz_strategies.py``), built and synthesized.

The property: building the job and synthesizing its app either raises a ``ValueError`` or
``TypeError`` in the library's form (``"<construct path>: invalid props:\\n  - <prop>: ..."``,
each problem naming a prop the user gave), or the app synthesizes to a sound template:

- CDK's own validation passes (aws-cdk-lib's recommended flags turn its CloudFormation checks
  into synth errors) and no construct has an error annotation;
- every ``Ref``, ``Fn::GetAtt``, ``Fn::ImportValue`` and ``DependsOn`` names something that exists;
- IAM would take every policy: ``AccountPolicies.check_grammar`` (grammar, unknown actions and
  condition keys, size limits), IAM's characters, known partitions (the stack's own where its
  Region is known); and every role's Description fits IAM's CreateRole;
- no statement has a wildcard in a *source* (dataset, forecast, world, snapshot or cluster)
  but the library's documented collapse to the account's sources (above 20 of them, or a list
  token);
- deployed on ``export_constructs.testing``'s fakes (``simulate(authorize=True)``: the handler
  runs, iam-simulate authorizes every request and every write the services make), nothing is
  denied and no fake finds a request wrong; with valid inputs, every job succeeds.

On top of that, by how each prop was drawn (``Drawn.cls``): a plan whose every input is valid
must be accepted; a plan with an invalid input (a documented rule refuses it) must be refused,
naming such a prop. Any other exception (a jsii ``RuntimeError``, ``AttributeError``, ...) fails.

Each plan's inputs are all valid, all valid but one (drawn from everything), or all drawn from
everything (``fuzz_strategies.job_plans``), so that most examples reach the template and a
refusal points at one input.

Budget: a small fixed, derandomized one in ``make test`` (~40 s for the module on two cores);
``EXPORT_CONSTRUCTS_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest tests/constructs/test_fuzz.py``
explores at random, that many examples per test, and shrinks what it finds.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct
from hypothesis import HealthCheck, Phase, example, find, given, settings
from hypothesis import strategies as st

from export_constructs import (
    CloudWatchLogsExportJob,
    ExportDestination,
    ExportJobProvider,
    ForecastExportJob,
    PersonalizeDatasetExportJob,
    PinpointExportJob,
    RdsSnapshotExportJob,
    RoboMakerWorldExportJob,
    _defaults,
)
from export_constructs.testing import simulate
from export_constructs.testing.assembly import DEFAULT_ACCOUNT, DEFAULT_REGION, StackTemplate, read_assembly
from export_constructs.testing.authorize import AccountPolicies
from export_constructs.testing.iam import shared_simulator
from export_constructs.testing.resolver import Pseudo, Resolver

from . import fuzz_strategies as fs
from .flags import recommended_flags
from .fuzz_strategies import (
    ACCOUNT,
    OTHER_REGION,
    REGION,
    AsString,
    BucketPlan,
    DestinationPlan,
    Drawn,
    Dur,
    EnvPlan,
    JobPlan,
    Joined,
    KeyPlan,
    LazyString,
    ListParam,
    LogGroupPlan,
    NumberParam,
    Param,
    RolePlan,
    StackField,
)

#: Examples per test: a local run sets more (and explores at random); ``make test`` keeps the
#: whole module around a minute on two cores (one synth is ~0.3-1 s).
LOCAL_EXAMPLES = int(os.environ.get("EXPORT_CONSTRUCTS_FUZZ_EXAMPLES", "0"))


def budget(ci: int) -> settings:
    # In make test a failure is reported as drawn: shrinking (hundreds of synths) would take
    # minutes; a local run shrinks it to a minimal plan.
    phases = list(Phase) if LOCAL_EXAMPLES else [Phase.explicit, Phase.generate]
    return settings(
        max_examples=LOCAL_EXAMPLES or ci,
        derandomize=not LOCAL_EXAMPLES,
        phases=phases,
        database=None,  # nothing written into the work tree
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )


CONSTRUCTS: dict[str, Any] = {
    "Personalize": PersonalizeDatasetExportJob,
    "Forecast": ForecastExportJob,
    "Pinpoint": PinpointExportJob,
    "RoboMaker": RoboMakerWorldExportJob,
    "Rds": RdsSnapshotExportJob,
    "CloudWatchLogs": CloudWatchLogsExportJob,
}
PRINCIPALS = {
    "Personalize": "personalize.amazonaws.com",
    "Forecast": "forecast.amazonaws.com",
    "Pinpoint": "pinpoint.amazonaws.com",
    "RoboMaker": "robomaker.amazonaws.com",
    "Rds": "export.rds.amazonaws.com",
}
#: Names a problem may give besides the props the user passed: the construct's own id and scope;
#: what a documented rule decides beyond one prop (RoboMaker's partition: ``region``; CloudWatch
#: Logs' time range: one of ``start``, ``end``, ``window`` for another).
EXTRA_NAMES: dict[str, set[str]] = {"RoboMaker": {"region"}, "CloudWatchLogs": {"start", "end", "window"}}
TIME_RANGE = {"start", "end", "window"}

# -- building -----------------------------------------------------------------------------------


@jsii.implements(cdk.IStableStringProducer)
class _Produce:
    def __init__(self, value: str) -> None:
        self.value = value

    def produce(self) -> str:
        return self.value


_PARAMETERS = itertools.count()


class Materialize:
    """Turns symbolic values into what a user passes: parameters and Lazy values of ``stack``."""

    def __init__(self, stack: cdk.Stack) -> None:
        self.stack = stack

    def _parameter(self, kind: str, default: object) -> cdk.CfnParameter:
        return cdk.CfnParameter(self.stack, f"Fuzz{next(_PARAMETERS)}", type=kind, default=default)

    def __call__(self, value: object) -> Any:
        if isinstance(value, Param):
            return self._parameter("String", value.default).value_as_string
        if isinstance(value, AsString):
            return cdk.Token.as_string(self._parameter("String", value.default).value)
        if isinstance(value, LazyString):
            return cdk.Lazy.string(_Produce(value.value))
        if isinstance(value, NumberParam):
            return self._parameter("Number", value.default).value_as_number
        if isinstance(value, ListParam):
            return self._parameter("CommaDelimitedList", ",".join(value.default)).value_as_list
        if isinstance(value, StackField):
            return getattr(self.stack, value.name)
        if isinstance(value, Joined):
            return "".join(str(self(p)) for p in value.parts)
        if isinstance(value, Dur):
            return getattr(cdk.Duration, value.unit)(self(value.amount))
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, dict):
            return {self(k): self(v) for k, v in value.items()}
        return value


def environment(env: EnvPlan) -> cdk.Environment | None:
    if env.account is None and env.region is None:
        return None
    return cdk.Environment(account=env.account, region=env.region)


@dataclass
class Target:
    """One construct the example builds, and what its props' classes demand of it."""

    name: str
    parent: Construct
    id: str
    passed: set[str]
    invalid: set[str] = field(default_factory=set)
    odd: bool = False
    extra: set[str] = field(default_factory=set)

    def heads(self) -> set[str]:
        """The error's first line: the construct's path, with the id as constructs stores it
        (``/`` becomes ``--``) or as the user wrote it (a prop-type check runs before it exists)."""
        parent = self.parent.node.path
        ids = {self.id}
        children = self.parent.node.children
        if children and children[-1].node.id not in ("", None):
            ids.add(children[-1].node.id)
        return {f"{parent}/{i}: invalid props:" if parent else f"{i}: invalid props:" for i in ids}


@dataclass
class Example:
    """What one example built: its app, the job's stack, and the first refusal (if any)."""

    app: cdk.App
    stack: cdk.Stack
    failures: list[str] = field(default_factory=list)
    refused: bool = False
    #: Services whose sources the stack lists beyond 20, or as a list token: the handler's
    #: statement may then cover the account's sources (documented collapse).
    collapsed: set[str] = field(default_factory=set)


def new_app(outdir: str) -> cdk.App:
    # The recommended flags (what `cdk init` writes) make CDK's template validation an error.
    return cdk.App(context=recommended_flags(), outdir=outdir)


def validation_report(outdir: str) -> str:
    """The rules CDK's validation found broken (its report's violations), one per line."""
    report = Path(outdir) / "validation-report.json"
    if not report.is_file():
        return ""
    lines = []
    for plugin in json.loads(report.read_text()).get("pluginReports", []):
        for violation in plugin.get("violations", []):
            where = [c.get("constructPath") for c in violation.get("violatingConstructs", [])]
            lines.append(f"  {violation.get('ruleName')}: {violation.get('description')} at {where}")
    return "\n".join(lines)


class Refused(Exception):
    """The example's construct refused its props (the check of the refusal is recorded)."""


def attempt(example: Example, target: Target, build: Callable[[], object]) -> Any:
    """``build()`` the target: a refusal is checked against the library's form and the target's
    classes and ends the example (raises :class:`Refused`); so is any other exception, as a
    failure. An accepted target with an invalid prop is a failure."""
    try:
        made = build()
    except (ValueError, TypeError) as error:
        example.refused = True
        example.failures += refusal_problems(target, error)
        raise Refused from error
    except Exception as error:
        example.refused = True
        example.failures.append(f"{target.name}: {type(error).__name__} instead of a ValueError: {error}")
        raise Refused from error
    if target.invalid:
        example.failures.append(f"{target.name}: accepted, though a documented rule refuses {sorted(target.invalid)}")
    return made


def refusal_problems(target: Target, error: Exception) -> list[str]:
    message = str(error)
    head, *problems = message.split("\n  - ")
    where = f"{target.name} refused its props with {type(error).__name__}"
    if head not in target.heads() or not problems:
        return [f"{where} not in the library's form ('<path>: invalid props:\\n  - <prop>: ...'): {message!r}"]
    allowed = target.passed | {"id", "scope"} | target.extra
    found: list[str] = []
    named = set()
    for problem in problems:
        match = re.match(r"[A-Za-z_]+", problem)
        name = match.group(0) if match else ""
        named.add(name)
        if name not in allowed:
            found.append(f"{where}, blaming {name or problem[:40]!r}, which was not given: {message!r}")
    if not target.odd and target.invalid and not named & target.invalid:
        # Odd inputs may be refused first; with none, the refusal must be the invalid one's.
        found.append(f"{where}, but not for {sorted(target.invalid)}: {message!r}")
    if not target.invalid and not target.odd:
        found.append(f"{where}, though every input was valid: {message!r}")
    return found


def other_stack(app: cdk.App, plan_where: str, env: EnvPlan) -> cdk.Stack:
    existing = app.node.try_find_child("Other")
    if isinstance(existing, cdk.Stack):
        return existing
    if plan_where == "other Region":
        other = cdk.Stack(app, "Other", env=cdk.Environment(account=env.account or ACCOUNT, region=OTHER_REGION))
    else:
        other = cdk.Stack(app, "Other", env=environment(env))
    # A resource of its own: CloudFormation refuses an empty stack, whatever the job does.
    cdk.CfnWaitConditionHandle(other, "Placeholder")
    return other


def build_role(example: Example, plan: RolePlan, service: str, env: EnvPlan, values: Materialize) -> iam.IRole:
    principal = iam.ServicePrincipal(PRINCIPALS.get(service, "lambda.amazonaws.com"))
    if plan.how == "new":
        return iam.Role(example.stack, "UserRole", assumed_by=principal)
    if plan.how == "arn":
        return iam.Role.from_role_arn(example.stack, "UserRole", values(plan.arn), mutable=plan.mutable)
    return iam.Role(other_stack(example.app, plan.how, env), "UserRole", assumed_by=principal)


def build_bucket(scope: Construct, plan: BucketPlan, values: Materialize, id: str = "UserBucket") -> s3.IBucket:
    if plan.how == "new":
        return s3.Bucket(scope, id)
    if plan.how == "name":
        return s3.Bucket.from_bucket_name(scope, id, values(plan.name))
    return s3.Bucket.from_bucket_attributes(scope, id, bucket_name=values(plan.name), region=plan.region)


def destination_kwargs(scope: Construct, props: Mapping[str, Drawn], values: Materialize) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for name, drawn in props.items():
        value = drawn.value
        if isinstance(value, BucketPlan):
            value = build_bucket(scope, value, values, "UserBucket" if name == "bucket" else "AccessLogs")
        elif isinstance(value, KeyPlan):
            value = (
                kms.Key(scope, "UserKey") if value.how == "new" else kms.Key.from_key_arn(scope, "UserKey", value.arn)
            )
        elif name == "removal_policy" and value in fs.REMOVAL_POLICIES:
            value = getattr(cdk.RemovalPolicy, str(value))
        else:
            value = values(value)
        kwargs[name] = value
    return kwargs


def build_destination(example: Example, plan: DestinationPlan, env: EnvPlan) -> ExportDestination:
    scope: cdk.Stack = example.stack if plan.stack == "same" else other_stack(example.app, plan.stack, env)
    props = given_props(plan.props)
    kwargs = destination_kwargs(scope, props, Materialize(scope))
    target = Target(
        "ExportDestination",
        scope,
        plan.id,
        passed=set(props),
        invalid={n for n, d in props.items() if d.cls == "invalid"},
        odd=any(d.cls == "odd" for d in props.values()) or not fs.plain_id(plan.id),
    )
    made: ExportDestination = attempt(example, target, lambda: ExportDestination(scope, plan.id, **kwargs))
    return made


def scope_of(example: Example, scopes: tuple[str, ...]) -> Construct:
    scope: Construct = example.stack
    for i, scope_id in enumerate(scopes):
        scope = Construct(scope, scope_id if scope.node.try_find_child(scope_id) is None else f"{scope_id}{i}")
    return scope


def given_props(props: Mapping[str, Drawn]) -> dict[str, Drawn]:
    """The props the user passes: a valid None stands for a prop left out."""
    return {n: d for n, d in props.items() if not (d.value is None and d.cls == "valid")}


def job_kwargs(example: Example, plan: JobPlan, values: Materialize) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for name, drawn in given_props(plan.props).items():
        value = drawn.value
        if isinstance(value, RolePlan):
            kwargs[name] = build_role(example, value, plan.service, plan.env, values)
        elif isinstance(value, LogGroupPlan):
            if value.how == "new":
                kwargs[name] = logs.LogGroup(example.stack, "Group")
            elif value.how == "name":
                kwargs[name] = logs.LogGroup.from_log_group_name(example.stack, "Group", value.value)
            else:
                kwargs[name] = logs.LogGroup.from_log_group_arn(example.stack, "Group", value.value)
        else:
            kwargs[name] = values(value)
    return kwargs


def job_target(plan: JobPlan, parent: Construct) -> Target:
    props = given_props(plan.props)
    invalid = {n for n, d in props.items() if d.cls == "invalid"}
    destination_cls = plan.destination.supports(plan.service, plan.env)
    if destination_cls == "invalid":
        invalid.add("destination")
    if plan.env_cls == "invalid":
        invalid.add("region")
    extra = set(EXTRA_NAMES.get(plan.service, set()))
    if plan.service == "CloudWatchLogs":
        if fs.missing_time_range(props) or invalid & TIME_RANGE:
            invalid |= TIME_RANGE
    odd = (
        any(d.cls == "odd" for d in props.values())
        or destination_cls == "odd"
        or not all(fs.plain_id(i) for i in (*plan.scopes, plan.id))
    )
    return Target(plan.service, parent, plan.id, set(props) | {"destination"}, invalid, odd, extra)


#: The library's documented collapse of a handler statement's source list to the account's
#: sources: above this many sources, or this many characters of them.
MAX_LISTED = _defaults.MAX_LISTED_PREFIXES
MAX_LISTED_CHARS: float = getattr(_defaults, "MAX_LISTED_CHARS", float("inf"))


def _length(value: object) -> int:
    """A source's length once resolved (a token's: its default's; a stack field's: a plausible one)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Param | AsString):
        return len(value.default)
    if isinstance(value, LazyString):
        return len(value.value)
    if isinstance(value, Joined):
        return sum(_length(p) if not isinstance(p, StackField) else 14 for p in value.parts)
    return 0


def collapses(plans: list[JobPlan]) -> set[str]:
    """The services whose handler statements may cover the account's sources: too many distinct
    sources to list, or RoboMaker worlds given as a list token."""
    sources: dict[str, dict[str, int]] = {}
    collapsed = set()
    for plan in plans:
        for name in ("dataset_arn", "forecast_arn", "source_arn", "worlds"):
            drawn = plan.props.get(name)
            if drawn is None:
                continue
            if isinstance(drawn.value, ListParam):
                collapsed.add(plan.service)
            for value in drawn.value if isinstance(drawn.value, list) else [drawn.value]:
                sources.setdefault(plan.service, {})[repr(value)] = _length(value)
    too_many = {s for s, arns in sources.items() if len(arns) > MAX_LISTED or sum(arns.values()) > MAX_LISTED_CHARS}
    return collapsed | too_many


def build_jobs(example: Example, plans: list[JobPlan], provider: Drawn | None = None) -> None:
    """Build ``plans``' jobs (and their destination, once) in the example's stack."""
    values = Materialize(example.stack)
    if provider is not None:
        target = Target(
            "ExportJobProvider",
            example.stack,
            ExportJobProvider.ID,
            {"max_concurrent"},
            {"max_concurrent"} if provider.cls == "invalid" else set(),
        )
        attempt(
            example,
            target,
            lambda: ExportJobProvider(example.stack, ExportJobProvider.ID, max_concurrent=values(provider.value)),
        )
    destination = build_destination(example, plans[0].destination, plans[0].env)
    for plan in plans:
        parent = scope_of(example, plan.scopes)
        kwargs = job_kwargs(example, plan, values)
        construct = CONSTRUCTS[plan.service]
        target = job_target(plan, parent)
        attempt(example, target, functools.partial(construct, parent, plan.id, destination=destination, **kwargs))


def run(plans: list[JobPlan], provider: Drawn | None = None) -> Example:
    """Build and synthesize; return the example with every failure of the property."""
    with tempfile.TemporaryDirectory(prefix="fuzz-cdk.out-") as outdir:
        env = plans[0].env
        app = new_app(outdir)
        example = Example(app, cdk.Stack(app, "Fuzz", env=environment(env)), collapsed=collapses(plans))
        try:
            build_jobs(example, plans, provider)
        except Refused:
            return example
        try:
            assembly = app.synth()
        except Exception as error:
            example.failures.append(f"synth: {type(error).__name__}: {error}\n{validation_report(outdir)}")
            return example
        example.failures += template_problems(Path(assembly.directory), example.collapsed)
        if not example.failures and deployable(plans, len(assembly.stacks)):
            example.failures += deployment_problems(example.stack, plans[0].env, all_valid(plans, provider))
        return example


def deployable(plans: list[JobPlan], stacks: int) -> bool:
    """Whether the example's deployment is simulated: one stack (the simulation deploys one at a
    time), a few jobs (a many-jobs stack takes seconds per job), and no list token (the
    simulation's ``Resolver`` hands a ``CommaDelimitedList`` parameter's default on as one string)."""

    def lists(value: object) -> bool:
        return isinstance(value, ListParam) or (isinstance(value, list) and any(map(lists, value)))

    return stacks == 1 and len(plans) <= 3 and not any(lists(d.value) for p in plans for d in p.props.values())


def all_valid(plans: list[JobPlan], provider: Drawn | None) -> bool:
    return (provider is None or provider.cls == "valid") and all(
        p.env_cls == "valid"
        and p.destination.supports(p.service, p.env) == "valid"
        and all(d.cls == "valid" for d in p.destination.props.values())
        and all(d.cls == "valid" for d in p.props.values())
        and all(fs.plain_id(i) for i in (*p.scopes, p.id, p.destination.id))
        for p in plans
    )


def deployment_problems(stack: cdk.Stack, env: EnvPlan, valid: bool) -> list[str]:
    """The stack deployed on the simulation's fakes, every request and every access the services
    make authorized by iam-simulate: nothing IAM would deny (a service writing outside its grant),
    nothing a fake finds wrong in a request; and, for valid inputs, every job succeeds. An
    env-agnostic stack is deployed where the plans' literal ARNs point (the strategies' account
    and Region)."""
    result = simulate(stack, authorize=True, account=env.account or ACCOUNT, region=env.region or REGION)
    problems = [f"simulated deployment: {p}" for p in result.problems]
    if valid and not problems:
        problems += [f"simulated deployment of valid inputs: {step.reason}" for step in result.failures]
    return problems


# -- the template's checks ----------------------------------------------------------------------


class _ImportingResolver(Resolver):
    """The assembly's ``Resolver`` that also resolves other stacks' values (``Fn::ImportValue`` of
    their exports, ``Fn::GetStackOutput`` of their outputs), and refuses any intrinsic it does not
    know: CloudFormation would refuse a dangling one."""

    def __init__(self, template: Mapping[str, Any], pseudo: Pseudo, others: Mapping[str, Any]) -> None:
        super().__init__(template, pseudo)
        self.others = others

    def resolve(self, node: Any) -> Any:
        if isinstance(node, Mapping) and len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Fn::ImportValue":
                name = str(self.resolve(arg))
                if name not in self.others["exports"]:
                    raise ValueError(f"Fn::ImportValue of {name!r}, which no stack exports")
                return self.others["exports"][name]
            if key == "Fn::GetStackOutput":
                where = (str(self.resolve(arg.get("StackName"))), str(self.resolve(arg.get("OutputName"))))
                if where not in self.others["outputs"]:
                    raise ValueError(f"Fn::GetStackOutput of {where}, which no stack outputs")
                return self.others["outputs"][where]
            if key.startswith("Fn::") and key not in ("Fn::GetAtt", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::Sub"):
                raise ValueError(f"an intrinsic the check cannot resolve: {key}")
        return super().resolve(node)


def pseudo_of(stack: StackTemplate) -> Pseudo:
    region = stack.region or DEFAULT_REGION
    partition = fs.partition_of(region)
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return Pseudo(
        stack.name, stack.account or DEFAULT_ACCOUNT, region, partition, suffix, "f" * 8 + "-0000-0000-0000-" + "0" * 12
    )


def errors_of(directory: Path) -> list[str]:
    """Error annotations (``aws:cdk:error``) of the assembly's stacks."""
    manifest = json.loads((directory / "manifest.json").read_text())
    found = []
    for artifact in manifest.get("artifacts", {}).values():
        metadata = dict(artifact.get("metadata", {}))
        if artifact.get("additionalMetadataFile"):
            metadata.update(json.loads((directory / artifact["additionalMetadataFile"]).read_text()))
        for path, entries in metadata.items():
            found += [
                f"error annotation at {path}: {e.get('data')}" for e in entries if e.get("type") == "aws:cdk:error"
            ]
    return found


#: IAM's characters for a policy document (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-names,
#: and botocore's ``policyDocumentType``) and for a role's Description (``roleDescriptionType``).
POLICY_CHARACTERS = re.compile(fs.iam_pattern("policyDocumentType"))
ROLE_DESCRIPTION = re.compile(fs.iam_pattern("roleDescriptionType"))
ROLE_DESCRIPTION_MAX = fs.iam_max("roleDescriptionType")
KEY_DESCRIPTION_MAX = fs.kms_max("DescriptionType")

#: A source's ARN in a policy: a dataset, forecast, world, snapshot, cluster snapshot or cluster
#: (and RDS's collapsed ``arn:...:rds:<region>:<account>:*``).
SOURCE = re.compile(
    r"arn:[^:]*:(?:(?P<personalize>personalize):[^:]*:[^:]*:dataset/"
    r"|(?P<forecast>forecast):[^:]*:[^:]*:forecast/"
    r"|(?P<robomaker>robomaker):[^:]*:[^:]*:world/"
    r"|(?P<rds>rds):[^:]*:[^:]*:(?:snapshot:|cluster-snapshot:|cluster:|\*$))"
)
SERVICE_OF_SOURCE = {"personalize": "Personalize", "forecast": "Forecast", "robomaker": "RoboMaker", "rds": "Rds"}
#: The library's documented collapse: the account's sources of that kind.
COLLAPSED = {
    "personalize": "arn:{p}:personalize:{r}:{a}:dataset/*",
    "forecast": "arn:{p}:forecast:{r}:{a}:forecast/*",
    "robomaker": "arn:{p}:robomaker:{r}:{a}:world/*",
    "rds": "arn:{p}:rds:{r}:{a}:*",
}


def iam_documents(resources: Mapping[str, Any], resolve: Callable[[Any], Any]) -> Iterator[tuple[str, str, Any]]:
    """(where, kind, resolved document) of every IAM and KMS policy: kind ``identity`` or ``resource``."""
    for logical_id, resource in resources.items():
        kind, props = resource.get("Type"), resource.get("Properties", {})
        if kind == "AWS::IAM::Role":
            yield f"{logical_id} trust policy", "resource", resolve(props.get("AssumeRolePolicyDocument"))
            for policy in props.get("Policies", []):
                yield f"{logical_id} policy {policy.get('PolicyName')}", "identity", resolve(policy["PolicyDocument"])
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            yield logical_id, "identity", resolve(props["PolicyDocument"])
        elif kind == "AWS::KMS::Key":
            yield f"{logical_id} key policy", "resource", resolve(props["KeyPolicy"])
        elif kind == "AWS::S3::BucketPolicy":
            yield f"{logical_id} bucket policy", "bucket", resolve(props["PolicyDocument"])


def statements(document: Any) -> list[Mapping[str, Any]]:
    found = document.get("Statement", []) if isinstance(document, Mapping) else []
    return found if isinstance(found, list) else [found]


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_problems(
    stack: StackTemplate, resolve: Callable[[Any], Any], pseudo: Pseudo, collapsed: set[str]
) -> list[str]:
    """IAM's characters, partitions, and source wildcards, in every policy of the template."""
    problems = []
    known = fs.partitions()
    own = fs.partition_of(stack.region) if stack.region else None
    for where, kind, document in iam_documents(stack.resources, resolve):
        text = json.dumps(document, ensure_ascii=False)
        if kind != "bucket" and not POLICY_CHARACTERS.fullmatch(text):
            odd = sorted({c for c in text if not POLICY_CHARACTERS.fullmatch(c)})
            problems.append(f"{stack.name}/{where}: characters IAM and KMS refuse in a policy: {odd!r}")
        for statement in statements(document):
            for arn in [*listed(statement.get("Resource", [])), *listed(statement.get("NotResource", []))]:
                arn = str(arn)
                if arn.startswith("arn:"):
                    partition = arn.split(":")[1]
                    if partition not in known or (own is not None and partition != own and "*" not in partition):
                        problems.append(f"{stack.name}/{where}: resource {arn!r} of partition {partition!r}")
                source = SOURCE.match(arn)
                if source is None or not fs.has_wildcard(arn) or kind != "identity":
                    continue
                service = next(k for k, v in source.groupdict().items() if v)
                own_form = COLLAPSED[service].format(p=pseudo.partition, r=pseudo.region, a=pseudo.account)
                if arn != own_form or SERVICE_OF_SOURCE[service] not in collapsed:
                    problems.append(f"{stack.name}/{where}: a wildcard source {arn!r} (no source was given as such)")
    return problems


def description_problems(stack: StackTemplate, resolve: Callable[[Any], Any]) -> list[str]:
    problems = []
    for logical_id, resource in stack.resources.items():
        description = resource.get("Properties", {}).get("Description")
        if description is None:
            continue
        text = str(resolve(description))
        if resource.get("Type") == "AWS::IAM::Role":
            if len(text) > ROLE_DESCRIPTION_MAX or not ROLE_DESCRIPTION.fullmatch(text):
                problems.append(
                    f"{stack.name}/{logical_id}: a role Description IAM's CreateRole refuses "
                    f"({len(text)} characters, pattern {ROLE_DESCRIPTION.pattern}): {text[:120]!r}"
                )
        elif resource.get("Type") == "AWS::KMS::Key" and len(text) > KEY_DESCRIPTION_MAX:
            problems.append(f"{stack.name}/{logical_id}: a key Description of {len(text)} characters")
    return problems


def reference_problems(stack: StackTemplate, resolve: Callable[[Any], Any]) -> list[str]:
    """Every resource and output resolves (no dangling Ref, GetAtt or import), and every DependsOn
    names a resource of the template."""
    problems = []
    for logical_id, resource in stack.resources.items():
        for dependency in listed(resource.get("DependsOn", [])):
            if dependency not in stack.resources:
                problems.append(f"{stack.name}/{logical_id}: DependsOn {dependency}, which the template lacks")
        try:
            resolve(resource.get("Properties", {}))
        except (ValueError, KeyError, IndexError) as error:
            problems.append(f"{stack.name}/{logical_id}: {error}")
    for name, output in stack.template.get("Outputs", {}).items():
        try:
            resolve(output.get("Value"))
        except (ValueError, KeyError, IndexError) as error:
            problems.append(f"{stack.name}/Outputs/{name}: {error}")
    return problems


def template_problems(directory: Path, collapsed: set[str]) -> list[str]:
    """Every check of the synthesized assembly (see the module's docstring)."""
    problems = errors_of(directory)
    stacks = read_assembly(directory)
    pseudos = {s.name: pseudo_of(s) for s in stacks}
    others: dict[str, dict[Any, Any]] = {"exports": {}, "outputs": {}}
    for stack in stacks:
        plain = Resolver(stack.template, pseudos[stack.name])
        for name, output in stack.template.get("Outputs", {}).items():
            try:
                value = plain.resolve(output["Value"])
                others["outputs"][(stack.name, name)] = value
                if "Export" in output:
                    others["exports"][str(plain.resolve(output["Export"]["Name"]))] = value
            except ValueError:
                continue  # reported by reference_problems
    by_place: dict[tuple[str, str], AccountPolicies] = {}
    for stack in stacks:
        pseudo = pseudos[stack.name]
        resolver = _ImportingResolver(stack.template, pseudo, others)
        references = reference_problems(stack, resolver.resolve)
        problems += references
        if references:
            continue  # the policies cannot be read
        problems += description_problems(stack, resolver.resolve)
        problems += policy_problems(stack, resolver.resolve, pseudo, collapsed)
        place = (pseudo.account, pseudo.region)
        policies = by_place.setdefault(place, AccountPolicies(pseudo.account, pseudo.region, pseudo.partition))
        policies.add_stack(stack, resolver.resolve)
    for policies in by_place.values():
        problems += policies.check_grammar(shared_simulator())
    return problems


def check(plans: list[JobPlan], provider: Drawn | None = None) -> None:
    """The property for one example; hypothesis prints the plan that broke it."""
    __tracebackhide__ = True
    example = run(plans, provider)
    if example.failures:
        raise AssertionError("\n".join(f[:2000] for f in example.failures))


# -- the properties -----------------------------------------------------------------------------


@pytest.mark.parametrize("service", list(CONSTRUCTS))
@budget(ci=12)
@given(data=st.data())
def test_an_export_job_refuses_its_props_or_synthesizes_a_sound_template(service: str, data: st.DataObject) -> None:
    check([data.draw(fs.job_plans(service), label="plan")])


@budget(ci=12)
@given(plan=st.sampled_from(list(CONSTRUCTS)).flatmap(lambda s: fs.job_plans(s, fuzz_destination=True, mode="valid")))
def test_an_export_destination_refuses_its_props_or_synthesizes_a_sound_template(plan: JobPlan) -> None:
    check([plan])


@budget(ci=4)
@given(
    limits=fs.max_concurrent(),
    services=st.lists(st.sampled_from(list(CONSTRUCTS)), min_size=1, max_size=3),
    env=st.sampled_from(fs.ENVS[:2]),
)
def test_the_provider_refuses_max_concurrent_or_synthesizes_a_sound_template(
    limits: Drawn, services: list[str], env: EnvPlan
) -> None:
    check([fs.valid_job(s, env, i) for i, s in enumerate(services)], provider=limits)


#: Jobs per service in a many-jobs stack: around the 20 sources the handler's statements list
#: before they cover the account's (``_defaults.MAX_LISTED_PREFIXES``).
SCALE_COUNTS = st.fixed_dictionaries({s: st.sampled_from([0, 1, 10, 12, 21]) for s in CONSTRUCTS})


@budget(ci=4)
# The issue's stack: ten jobs each of five services, named where they take names (the handler's
# role then held ~10.4-10.6K characters of inline policy, over IAM's 10,240); drawn at random it
# would rarely come up within the budget.
@example(counts={**dict.fromkeys(CONSTRUCTS, 10), "CloudWatchLogs": 0}, named=True, env=fs.ENV)
@given(
    counts=SCALE_COUNTS,
    named=st.booleans(),
    env=st.sampled_from(fs.ENVS[:2]),
)
def test_a_stack_of_many_valid_jobs_synthesizes_a_sound_template(
    counts: Mapping[str, int], named: bool, env: EnvPlan
) -> None:
    plans = [fs.valid_job(s, env, i, named=named) for s, n in counts.items() for i in range(n)]
    if plans:
        check(plans)


# -- what the strategies reach ------------------------------------------------------------------
#
# ``job_plans`` draws each prop (and the id, the scopes, the destination) from its whole strategy
# in the "one" and "all" modes: a value a prop's strategy reaches, a plan reaches. So each case of
# the issue is shown reachable on the strategy of the input it is about (cheap: plain data).


def _value(drawn: Drawn) -> object:
    return drawn.value


def _text(drawn: Drawn) -> str:
    return drawn.value if isinstance(drawn.value, str) else ""


def _required(service: str, name: str) -> st.SearchStrategy[Drawn]:
    return fs.SERVICES[service](fs.ENV)[0][name]


def _optional(service: str, name: str) -> st.SearchStrategy[Drawn]:
    return fs.SERVICES[service](fs.ENV)[1][name]


def _role_in(where: str) -> Callable[[Drawn], bool]:
    return lambda d: isinstance(d.value, RolePlan) and d.value.how == where


def _bucket_region(plan: DestinationPlan) -> str | None:
    bucket = plan.props.get("bucket")
    return bucket.value.region if bucket is not None and isinstance(bucket.value, BucketPlan) else None


def _worlds(has: Callable[[str], bool]) -> Callable[[Drawn], bool]:
    return lambda d: isinstance(d.value, list) and any(isinstance(w, str) and has(w) for w in d.value)


def _tags(has: Callable[[dict[Any, Any]], bool]) -> Callable[[Drawn], bool]:
    return lambda d: isinstance(d.value, dict) and has(d.value)


_WINDOWS = fs.time_ranges().map(lambda r: r.get("window"))
_DESTINATIONS = fs.destinations(fs.ENV, fuzz=True)

#: The issue's cases: (the strategy of the input it is about, what the drawn value has).
KNOWN_CASES: dict[str, tuple[st.SearchStrategy[Any], Callable[[Any], bool]]] = {
    "1: ten named jobs each of five services in one stack": (
        st.tuples(SCALE_COUNTS, st.booleans()),
        lambda t: t[1] and all(t[0][s] >= 10 for s in ("Pinpoint", "Personalize", "Rds", "RoboMaker", "Forecast")),
    ),
    **{
        f"2: a prefix with an unbalanced bracket ({service})": (
            fs.prefixes(service),
            lambda d: any(c in _text(d) for c in "(){}]"),
        )
        for service in CONSTRUCTS
    },
    "3: a destination of another stack of the same env": (_DESTINATIONS, lambda p: p.stack == "other stack"),
    "3: a role of another stack of the same env": (fs.roles(fs.ENV, max_len=256), _role_in("other stack")),
    "4: a destination of another Region's stack": (_DESTINATIONS, lambda p: p.stack == "other Region"),
    "4: a role of another Region's stack": (fs.roles(fs.ENV, max_len=256), _role_in("other Region")),
    "5: window=Duration.millis(1.5)": (_WINDOWS, lambda w: w is not None and w.value == Dur("millis", 1.5)),
    "5: window=Duration.days(<a number parameter>)": (
        _WINDOWS,
        lambda w: (
            w is not None
            and isinstance(w.value, Dur)
            and w.value.unit == "days"
            and isinstance(w.value.amount, NumberParam)
        ),
    ),
    "6: dataset_arn .../dataset/*": (
        _required("Personalize", "dataset_arn"),
        lambda d: _text(d).endswith(":dataset/*"),
    ),
    "6: source_arn ...:snapshot:*": (_required("Rds", "source_arn"), lambda d: _text(d).endswith(":snapshot:*")),
    "6: worlds [.../world/*]": (_required("RoboMaker", "worlds"), _worlds(lambda w: w.endswith(":world/*"))),
    "6: a malformed ARN (arn:x)": (_required("RoboMaker", "worlds"), _worlds(lambda w: w == "arn:x")),
    "6: a bogus partition": (_required("Forecast", "forecast_arn"), lambda d: _text(d).startswith("arn:aws-bogus:")),
    "7: 51 tags or more (Personalize)": (_optional("Personalize", "tags"), _tags(lambda t: len(t) > 50)),
    "8: a destination id of non-Latin-1 text": (_DESTINATIONS, lambda p: any(ord(c) > 0xFF for c in p.id)),
    "8: a destination path over 1,000 characters": (_DESTINATIONS, lambda p: len(p.id) > 1000),
    "9: RoboMaker tags with a token key": (
        _optional("RoboMaker", "tags"),
        _tags(lambda t: any(isinstance(k, Param) for k in t)),
    ),
    "10: an RDS prefix with //": (fs.prefixes("Rds"), lambda d: "//" in _text(d)),
    "11: a bucket of another Region": (_DESTINATIONS, lambda p: _bucket_region(p) == OTHER_REGION),
    "12: a long construct path (the default prefix)": (
        st.lists(fs.construct_ids(), max_size=3),
        lambda ids: sum(len(i) for i in ids) > 600,
    ),
    "12: removal_policy=RemovalPolicy.SNAPSHOT": (
        _DESTINATIONS,
        lambda p: (r := p.props.get("removal_policy")) is not None and r.value == "SNAPSHOT",
    ),
}


@pytest.mark.parametrize("case", list(KNOWN_CASES))
def test_the_strategies_reach_the_issues_case(case: str) -> None:
    """Each case the issue reproduced is one the strategies draw."""
    strategy, has = KNOWN_CASES[case]
    reach = settings(
        max_examples=5_000,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    find(strategy, has, settings=reach)

"""The stack-wide custom-resource provider: one per stack, however many jobs it holds."""

from __future__ import annotations

import functools
import os
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import jsii
from aws_cdk import Annotations, ArnFormat, Aspects, Aws, CfnResource, Fn, IAspect, IgnoreMode, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct, IConstruct

from . import _defaults
from ._lazy import lazy_list
from ._memo import is_unresolved, overflows, stack_of
from ._nag import REASON_ROLE_PATH, acknowledge_iam5, acknowledge_provider
from ._validation import Problems, init_signature, typed_props
from .handler import consts
from .services import ServiceAccess

_PACKAGE_DIR = Path(__file__).resolve().parent
#: The handler's code asset is this package folder with everything but ``handler/`` left out,
#: so the Lambda imports ``handler.entry`` exactly as pytest does. In .gitignore form: CDK's
#: default glob matching walks into every excluded folder and took ~0.2 s of each synth.
_ASSET_EXCLUDE = ["/*", "!/handler/", "__pycache__/", "*.pyc"]


def handler_code() -> lambda_.AssetCode:
    """The handler's code asset (see ``_ASSET_EXCLUDE``)."""
    return lambda_.Code.from_asset(str(_PACKAGE_DIR), exclude=_ASSET_EXCLUDE, ignore_mode=IgnoreMode.GIT)


HANDLER_RUNTIME = lambda_.Runtime.PYTHON_3_14

REASON_PASSED_ROLES = (
    "The stack's export jobs were given more roles of their own than the policy can list within IAM's "
    "size limits, so iam:PassRole covers their common path (or this account's roles), and still only "
    "to the export service (iam:PassedToService)."
)

#: stack -> its provider, so the jobs of a large stack do not look it up again and again.
_PROVIDERS: weakref.WeakKeyDictionary[Stack, ExportJobProvider] = weakref.WeakKeyDictionary()


#: The warning for a ``max_concurrent`` name no job of the stack has.
LANES_WARNING_ID = "export-constructs:max-concurrent-unknown-service"


@init_signature
class ExportJobProvider(Construct):
    """The Lambda-backed provider every export job in a stack shares.

    Get it with :meth:`of`; construct it directly only to override its defaults, once per
    stack, before any job. It holds:

    - ``on_event`` and ``is_complete`` functions (Python 3.14, one code asset, boto3 only),
      each with its own log group, X-Ray tracing and reserved concurrency;
    - the CDK ``Provider`` framework with the waiter state machine's logging on, explicit
      roles, encrypted environment and ``total_timeout`` of one hour (CloudFormation's limit);
    - one IAM policy that grows per *service*, not per job.

    Args:
        scope: the stack (the provider belongs to the whole stack).
        id: construct id: :attr:`ID`, the id :meth:`of` looks the provider up by.
        max_concurrent: per service (``"Forecast"``...), at most how many of the stack's jobs
            of that service run at once; ``None`` for no limit. The others wait in
            CloudFormation, without calling the service: job *k* depends on job *k - n* of its
            service (on its result resource for a long wait), so the stack's jobs run in *n*
            lanes. Jobs of other stacks share the account's quota: when they fill it, the
            service's refusal still queues this stack's jobs (see "Limits and long waits").
            A name no job of the stack has (``"forecast"`` for ``"Forecast"``) sets no lane
            and gets a warning at synth. Default: each service's documented quota
            (``"Forecast"`` 3, ``"Rds"`` 5, ``"CloudWatchLogs"`` 1; none documented for the
            others).
    """

    ID = "ExportJobProvider"
    """The provider's construct id in its stack."""

    key: kms.Key
    """Encrypts the functions' environment and the log group (rotation on)."""
    log_group: logs.LogGroup
    """The one log group of the handler, the framework and the waiter state machine."""
    handler_role: iam.Role
    """The role of the ``on_event`` and ``is_complete`` functions; each service's statements are
    added to its policy once, whatever the number of jobs."""
    code: lambda_.AssetCode
    """The handler's code asset: this package's ``handler/`` folder."""
    on_event_function: lambda_.Function
    """Starts (Create, Update) and stops (Delete) export jobs."""
    is_complete_function: lambda_.Function
    """Polls export jobs until they end."""
    provider: cr.Provider
    """CDK's custom-resource provider framework around the two functions."""
    service_token: str
    """The ``ServiceToken`` of every export job's custom resource in the stack."""

    @classmethod
    def of(cls, scope: Construct) -> ExportJobProvider:
        """The provider of ``scope``'s stack, created on first use."""
        stack = stack_of(scope)
        known = _PROVIDERS.get(stack)
        if known is not None:
            return known
        existing = stack.node.try_find_child(cls.ID)
        provider = existing if isinstance(existing, ExportJobProvider) else cls(stack, cls.ID)
        _PROVIDERS[stack] = provider
        return provider

    @typed_props
    def __init__(self, scope: Construct, id: str, *, max_concurrent: Mapping[str, int | None] | None = None) -> None:
        """Define the construct: every prop is described under Args in the class docstring."""
        super().__init__(scope, id)
        self._max_concurrent = dict(max_concurrent or {})
        problems = Problems(self)
        for service, limit in self._max_concurrent.items():
            if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
                problems.add(f"max_concurrent[{service!r}]", f"must be a whole number >= 1 or None, got {limit!r}")
        problems.raise_if_any()
        self._lanes: dict[str, list[CfnResource]] = {}
        if self._max_concurrent:
            Aspects.of(self).add(_LaneNames(self))
        self._granted: set[str] = set()
        self._service_policies: dict[str, iam.ManagedPolicy] = {}
        self._registries: dict[str, ServiceLists] = {}
        self._source_lists: dict[tuple[str, str], ListedSources] = {}
        self._job_lists: dict[str, ListedJobs] = {}
        self._arns: dict[tuple[str, str, str | None, str | None], str] = {}
        self._acknowledged: set[str] = set()

        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the export-job provider's environment and logs",
            enable_key_rotation=True,
        )
        # CloudWatch Logs may use the key only for this account's log groups in this Region
        # (AWS's recommended encryption-context condition).
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.{Aws.URL_SUFFIX}")],
                actions=["kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    # StringLike, not ArnLike: the context key is a string (parliament's type check).
                    "StringLike": {
                        "kms:EncryptionContext:aws:logs:arn": Stack.of(self).format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )

        self.log_group = logs.LogGroup(self, "Logs", retention=_defaults.LOG_RETENTION, encryption_key=self.key)
        self.handler_role = iam.Role(
            self,
            "HandlerRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Starts, polls and stops this stack's export jobs",
        )
        self.code = handler_code()
        self.on_event_function = self.handler_function(
            self, "OnEvent", entry=consts.ON_EVENT_ENTRY, description="export_constructs: start or stop an export job"
        )
        self.is_complete_function = self.handler_function(
            self, "IsComplete", entry=consts.IS_COMPLETE_ENTRY, description="export_constructs: poll an export job"
        )
        framework_on_event_role = _framework_role(self, "FrameworkOnEventRole")
        framework_complete_role = _framework_role(self, "FrameworkCompleteRole")
        for role in (
            self.handler_role,
            framework_on_event_role,
            framework_complete_role,
        ):
            self.log_group.grant_write(role)
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.on_event_function,
            is_complete_handler=self.is_complete_function,
            total_timeout=_defaults.PROVIDER_TOTAL_TIMEOUT,
            query_interval=_defaults.PROVIDER_QUERY_INTERVAL,
            disable_waiter_state_machine_logging=False,
            log_group=self.log_group,
            provider_function_env_encryption=self.key,
            framework_on_event_role=framework_on_event_role,
            framework_complete_and_timeout_role=framework_complete_role,
            framework_lambda_logging_level=lambda_.ApplicationLogLevel.INFO,
            waiter_state_machine_log_options=cr.LogOptions(
                destination=self.log_group,
                include_execution_data=False,
                level=sfn.LogLevel.ALL,
            ),
        )
        self._harden_framework(framework_on_event_role, framework_complete_role)
        self.service_token = self.provider.service_token
        framework_functions = [self.provider.node.find_child(f"framework-{n}") for n in ("isComplete", "onTimeout")]
        acknowledge_provider(
            self,
            [
                self.on_event_function.function_arn,
                self.is_complete_function.function_arn,
                *(f.function_arn for f in framework_functions if isinstance(f, lambda_.Function)),
            ],
        )

    def _harden_framework(self, *roles: iam.Role) -> None:
        """The framework's own functions and state machine: tracing, memory and concurrency,
        set on their L1 resources (the Provider has no props for them)."""
        xray = iam.PolicyStatement(
            actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            resources=["*"],
        )
        for name in (
            "framework-onEvent",
            "framework-isComplete",
            "framework-onTimeout",
        ):
            function = self.provider.node.find_child(name)
            cfn = function.node.default_child
            assert isinstance(cfn, lambda_.CfnFunction)
            cfn.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
            cfn.memory_size = 256
            cfn.reserved_concurrent_executions = 5
        state_machine = self.provider.node.find_child("waiter-state-machine")
        cfn_sm = state_machine.node.find_child("Resource")
        assert isinstance(cfn_sm, sfn.CfnStateMachine)
        cfn_sm.tracing_configuration = sfn.CfnStateMachine.TracingConfigurationProperty(enabled=True)
        state_machine_role = state_machine.node.find_child("Role")
        assert isinstance(state_machine_role, iam.Role)
        for role in (*roles, state_machine_role):
            role.add_to_principal_policy(xray)

    @functools.cached_property
    def job_name_prefix(self) -> str:
        """``ex`` + the first 8 hex digits of this stack's id (unique per deployed stack).

        Derived job names start with it, so the handler's policy covers only this stack's jobs.
        The handler derives the same value from the event's stack id: the jobs' templates do
        not carry it.
        """
        uuid = Fn.select(2, Fn.split("/", Aws.STACK_ID))
        return Fn.join("", [consts.JOB_NAME_PREFIX_HEAD, Fn.select(0, Fn.split("-", uuid))])

    @functools.cached_property
    def role_path(self) -> str:
        """IAM path of every service role the library creates in this stack."""
        return Fn.join("", ["/export-constructs/", Aws.STACK_NAME, "/"])

    def _arn(self, service: str, resource: str, resource_name: str | None = None, *, region: str | None = None) -> str:
        """``Stack.format_arn`` for this stack, computed once per distinct ARN.

        Args:
            service: the ARN's service, e.g. ``personalize``.
            resource: the resource type, e.g. ``dataset``.
            resource_name: the resource's name after ``/``. Default: none.
            region: the ARN's Region; ``""`` for global services such as IAM. Default: the stack's.
        """
        key = (service, resource, resource_name, region)
        known = self._arns.get(key)
        if known is None:
            known = self._arns[key] = stack_of(self).format_arn(
                service=service, resource=resource, resource_name=resource_name, region=region
            )
        return known

    def _queue_behind(self, service: str, default: int | None, resource: CfnResource, end: CfnResource) -> None:
        """Make the job ``resource`` wait for the job ``max_concurrent`` places before it in its
        service's lane (``end``: the resource that completes when a job has ended)."""
        limit = self._max_concurrent[service] if service in self._max_concurrent else default
        ends = self._lanes.setdefault(service, [])
        if limit is not None and len(ends) >= limit:
            resource.add_resource_dependency(ends[-limit])
        ends.append(end)

    def _warn_of_unknown_lanes(self) -> None:
        """At synth, once every job is known: a ``max_concurrent`` name that no job of the stack
        has (a typo such as ``"forecast"`` for ``"Forecast"``) would set no lane, silently."""
        unknown = sorted(set(self._max_concurrent) - set(self._lanes))
        if unknown:
            known = ", ".join(repr(s) for s in sorted(self._lanes)) or "none"
            Annotations.of(self).add_warning_v2(
                LANES_WARNING_ID,
                f"max_concurrent names {', '.join(repr(s) for s in unknown)}, which no export job of this stack "
                f"has, so it sets no lane; the services of this stack's jobs are: {known} (the constructs' "
                "SERVICE names, e.g. 'Forecast').",
            )

    def _registry(self, service: str) -> ServiceLists:
        """``service``'s lists (job names, roles, prefixes) its statements read lazily at synth,
        so the policy is written once per service."""
        known = self._registries.get(service)
        if known is None:
            known = self._registries[service] = ServiceLists()
        return known

    def handler_function(
        self, scope: Construct, id: str, *, entry: str, description: str, role: iam.IRole | None = None
    ) -> lambda_.Function:
        """A function of the handler's code, as every one of the library is made: the provider's
        runtime, log group and key, tracing, and a limit on its concurrency.

        Args:
            scope: the function's parent construct.
            id: its construct id.
            entry: its handler (an entry of ``handler/consts.py``).
            description: its description.
            role: its role. Default: the handler's role.
        """
        return lambda_.Function(
            scope,
            id,
            runtime=HANDLER_RUNTIME,
            code=self.code,
            handler=entry,
            role=role or self.handler_role,
            memory_size=256,
            timeout=_defaults.HANDLER_TIMEOUT,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            environment_encryption=self.key,
            reserved_concurrent_executions=5,
            description=description,
        )

    def _sources(
        self,
        service: str,
        wildcard: str,
        reason: str,
        expand: Callable[[str], list[str]] | None = None,
        max_chars: int | None = None,
    ) -> ListedSources:
        """The source ARNs (datasets, forecasts, worlds, projects) ``service``'s handler
        statement lists; see :class:`ListedSources`. One list per service and ``wildcard``."""
        key = (service, wildcard)
        if key not in self._source_lists:
            self._source_lists[key] = ListedSources(self, wildcard, reason, expand, max_chars)
        return self._source_lists[key]

    def _jobs(self, service: str, arn: Callable[[str, str], str], reason: str, reason_any: str) -> ListedJobs:
        """The job ARNs ``service``'s handler statement lists where a job's ARN holds its source's
        name and its own; see :class:`ListedJobs`. One list per service."""
        if service not in self._job_lists:
            self._job_lists[service] = ListedJobs(self.handler_role, arn, reason, reason_any)
        return self._job_lists[service]

    def _grant_once(self, service: str, statements: Callable[[], list[iam.PolicyStatement]]) -> None:
        """Add a service's statements to its handler policy (:meth:`_service_policy`), the first
        time only."""
        if service in self._granted:
            return
        self._granted.add(service)
        self._service_policy(service).add_statements(*statements())

    def _service_policy(self, service: str) -> iam.ManagedPolicy:
        """What the handler may do for ``service``'s jobs: a customer managed policy of its own,
        attached to the handler role (under it in the tree, so the role's cdk-nag acknowledgements
        cover it). IAM counts a role's inline policies together, at most 10,240 characters, and
        each managed policy apart, at most 6,144: one per service keeps a stack of many services'
        jobs within both (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
        Each service's lists are bounded to fit (``_memo.overflows``)."""
        policy = self._service_policies.get(service)
        if policy is None:
            policy = self._service_policies[service] = iam.ManagedPolicy(
                self.handler_role,
                f"{service}Access",
                description=f"What the export-job handler may do for this stack's {service} jobs",
                roles=[self.handler_role],
            )
        return policy

    def _add_passed_role(self, service: str, role_arn: str) -> None:
        """Record a user-given role the handler passes to ``service`` (see :meth:`_passed_roles`)."""
        roles = self._registry(service).roles
        roles.append(role_arn)
        if overflows(roles):
            self._acknowledge_wildcards(self._passed_roles(service), REASON_PASSED_ROLES)

    def _acknowledge_wildcards(self, resources: list[str], reason: str) -> None:
        """Acknowledge AwsSolutions-IAM5 for wildcard ``resources`` of the handler's policy, each
        resource once however many jobs ask."""
        new = [r for r in resources if r not in self._acknowledged]
        if new:
            self._acknowledged.update(new)
            acknowledge_iam5(self.handler_role, new, reason)

    def _passed_roles(self, service: str) -> list[str]:
        """The user-given roles of ``service``'s jobs; when they do not fit one statement
        (``_memo.overflows``), their common path (or the account's roles), so the handler's policy
        stays bounded."""
        unique = sorted(set(self._registry(service).roles))
        if not overflows(unique):
            return unique
        return [common_pattern(unique, cut="/", head=":role/") or self._arn("iam", "role", "*", region="")]

    def _pass_role_statement(self, access: ServiceAccess) -> iam.PolicyStatement:
        """``iam:PassRole`` on the library's role path and on the service's user-given roles,
        only to the service (``iam:PassedToService``)."""
        service, principals = access.name, list(access.passed_to_services)
        own_roles = self._arn("iam", "role", f"export-constructs/{Aws.STACK_NAME}/*", region="")
        acknowledge_iam5(self.handler_role, [own_roles], REASON_ROLE_PATH)
        return iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=lazy_list(lambda: [own_roles, *self._passed_roles(service)]),
            conditions={"StringEquals": {"iam:PassedToService": principals}},
        )


def common_pattern(values: list[str], *, cut: str = "", head: str = "") -> str | None:
    """``<common beginning>*`` covering every one of ``values`` - cut after the last ``cut`` if
    given, and only if it contains ``head`` - or None (a token among them, nothing in common)."""
    if any(is_unresolved(v) for v in values):
        return None
    common = os.path.commonprefix(values)  # noqa: RUF071 - characters, then cut
    if cut:
        common = common[: common.rfind(cut) + 1]
    if not common or head not in common:
        return None
    return f"{common}*"


@dataclass
class ServiceLists:
    """What one service's jobs in a stack add up to, read lazily by its statements."""

    names: list[str] = field(default_factory=list)
    """Job names given with ``job_name`` (Personalize)."""
    roles: list[str] = field(default_factory=list)
    """Roles given with ``role``, which the handler passes."""
    objects: dict[str, list[str]] = field(default_factory=dict)
    """Per destination (and grant), the prefixes of the jobs one statement covers (CloudWatch Logs)."""


class Acknowledges(Protocol):
    """What acknowledges a wildcard grant for cdk-nag (the provider, for its handler's role)."""

    def _acknowledge_wildcards(self, resources: list[str], reason: str) -> None: ...


class ListedSources:
    """Source ARNs a service's handler statement lists, one per distinct source of the stack's
    jobs, while they fit one statement (at most ``MAX_LISTED_PREFIXES`` and ``MAX_LISTED_CHARS``:
    ``_memo.overflows``, on what ``expand`` makes of them: Pinpoint lists three ARNs per project);
    above, the account's resources of that kind (``wildcard``), so the policy stays within IAM's
    size limits. The wildcard is acknowledged (with ``reason``) when the list first collapses."""

    def __init__(
        self,
        provider: Acknowledges,
        wildcard: str,
        reason: str,
        expand: Callable[[str], list[str]] | None = None,
        max_chars: int | None = None,
    ) -> None:
        self._provider = provider
        self._max_chars = max_chars
        self.wildcard = wildcard
        self._reason = reason
        self._expand = expand or (lambda source: [source])
        self._unique: set[str] = set()
        self.collapsed = False
        """Whether the sources no longer fit: the statement lists :attr:`wildcard`."""

    def add(self, *arns: str) -> None:
        self._unique.update(arns)
        listed = [a for s in self._unique for a in self._expand(s)]
        if not self.collapsed and overflows(listed, max_chars=self._max_chars, count=len(self._unique)):
            self.collapsed = True
            self._provider._acknowledge_wildcards([self.wildcard], self._reason)

    def arns(self) -> list[str]:
        """What the statement lists: what ``expand`` makes of each source (the source itself by
        default), sorted by source, or ``[wildcard]`` once collapsed."""
        return [self.wildcard] if self.collapsed else [a for s in sorted(self._unique) for a in self._expand(s)]


class ListedJobs:
    """Job ARNs a service's handler statement lists where a job's ARN holds its source's name and
    its own (Forecast's ``forecast-export-job/<forecast>/<job>``): ``arn(source, name)`` for each
    distinct pair of the stack's jobs (``""`` for a derived name, ``*`` for a source known at
    deploy time only), while they fit one statement (``_memo.overflows``); beyond, each name under
    any source (``arn("*", name)``), so the policy stays within IAM's size limits. Each wildcard
    ARN is acknowledged for cdk-nag on ``role`` in the form the policy will hold it: ``reason``
    for a named source, ``reason_any`` for any source."""

    def __init__(self, role: iam.IRole, arn: Callable[[str, str], str], reason: str, reason_any: str) -> None:
        self._role = role
        self._arn = arn
        self._reasons = (reason, reason_any)
        self._pairs: set[tuple[str, str]] = set()
        self._any: list[str] = []  # names acknowledged under any source
        self.collapsed = False
        """Whether the pairs no longer fit: the statement lists each name under any source. A
        pair only adds an ARN, so once they overflow they always do: checked until then only."""

    def _fits(self, pairs: set[tuple[str, str]]) -> bool:
        return not overflows([self._arn(*p) for p in pairs])

    def add(self, source: str, name: str) -> None:
        """A job of ``source`` (its name in the ARN, or ``*``) named ``name`` (``""``: derived)."""
        pair = (source, name)
        if pair in self._pairs:
            return
        self._pairs.add(pair)
        if self.collapsed:  # only this one's name is new under any source
            names = [name]
        elif self._fits(self._pairs):
            acknowledge_iam5(self._role, [self._arn(*pair)], self._reasons[source == "*"])
            return
        else:  # collapsed now: every name once under any source
            self.collapsed = True
            names = sorted({n for _, n in self._pairs})
        new = [n for n in names if n not in self._any]
        self._any.extend(new)
        acknowledge_iam5(self._role, [self._arn("*", n) for n in new], self._reasons[1])

    def arns(self) -> list[str]:
        """What the statement lists: each pair's ARN, or each name's under any source."""
        pairs = {("*", n) for _, n in self._pairs} if self.collapsed else self._pairs
        return [self._arn(*p) for p in sorted(pairs)]


@jsii.implements(IAspect)
class _LaneNames:
    """Checks the provider's ``max_concurrent`` names once, when synthesis visits it."""

    def __init__(self, provider: ExportJobProvider) -> None:
        self._provider = provider

    def visit(self, node: IConstruct) -> None:
        if node is self._provider:
            self._provider._warn_of_unknown_lanes()


def _framework_role(scope: Construct, id: str) -> iam.Role:
    return iam.Role(scope, id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))

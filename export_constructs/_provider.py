"""The stack-wide custom-resource provider: one per stack, however many jobs it holds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aws_cdk import Aws, Fn, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from . import _defaults
from ._lazy import lazy_list
from ._nag import REASON_ROLE_PATH, acknowledge_iam5, acknowledge_provider
from .handler import consts

_PACKAGE_DIR = Path(__file__).resolve().parent
#: The handler's code asset is this package folder with everything but ``handler/`` left out,
#: so the Lambda imports ``handler.entry`` exactly as pytest does.
_ASSET_EXCLUDE = ["*", "!handler", "!handler/**", "**/__pycache__", "**/*.pyc"]

HANDLER_RUNTIME = lambda_.Runtime.PYTHON_3_14


class ExportJobProvider(Construct):
    """The Lambda-backed provider every export job in a stack shares.

    Get it with :meth:`of`; construct it directly only to override its defaults, once per
    stack, before any job. It holds:

    - ``on_event`` and ``is_complete`` functions (Python 3.14, one code asset, boto3 only),
      each with its own log group, X-Ray tracing and reserved concurrency;
    - the CDK ``Provider`` framework with the waiter state machine's logging on, explicit
      roles, encrypted environment and ``total_timeout`` of one hour (CloudFormation's limit);
    - one IAM policy that grows per *service*, not per job.
    """

    ID = "ExportJobProvider"

    @classmethod
    def of(cls, scope: Construct) -> ExportJobProvider:
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(cls.ID)
        if isinstance(existing, ExportJobProvider):
            return existing
        return cls(stack, cls.ID)

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self._granted: set[str] = set()
        self._registries: dict[str, dict[str, list[str]]] = {}

        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the export-job provider's environment and logs",
            enable_key_rotation=True,
        )
        self.key.grant_encrypt_decrypt(iam.ServicePrincipal(f"logs.{Aws.REGION}.{Aws.URL_SUFFIX}"))

        self.log_group = logs.LogGroup(self, "Logs", retention=_defaults.LOG_RETENTION, encryption_key=self.key)
        self.handler_role = iam.Role(
            self,
            "HandlerRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Starts, polls and stops this stack's export jobs",
        )
        code = lambda_.Code.from_asset(str(_PACKAGE_DIR), exclude=_ASSET_EXCLUDE)
        common = dict(
            runtime=HANDLER_RUNTIME,
            code=code,
            role=self.handler_role,
            memory_size=256,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            environment_encryption=self.key,
            reserved_concurrent_executions=5,
        )
        self.on_event_function = lambda_.Function(
            self,
            "OnEvent",
            handler=consts.ON_EVENT_ENTRY,
            timeout=_defaults.HANDLER_TIMEOUT,
            description="export_constructs: start or stop an export job",
            **common,  # type: ignore[arg-type]
        )
        self.is_complete_function = lambda_.Function(
            self,
            "IsComplete",
            handler=consts.IS_COMPLETE_ENTRY,
            timeout=_defaults.HANDLER_TIMEOUT,
            description="export_constructs: poll an export job",
            **common,  # type: ignore[arg-type]
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
        acknowledge_provider(self)

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

    @property
    def job_name_prefix(self) -> str:
        """``ex`` + the first 8 hex digits of this stack's id (unique per deployed stack).

        Derived job names start with it, so the handler's policy covers only this stack's jobs.
        """
        uuid = Fn.select(2, Fn.split("/", Aws.STACK_ID))
        return Fn.join("", ["ex", Fn.select(0, Fn.split("-", uuid))])

    @property
    def role_path(self) -> str:
        """IAM path of every service role the library creates in this stack."""
        return Fn.join("", ["/export-constructs/", Aws.STACK_NAME, "/"])

    def registry(self, service: str) -> dict[str, list[str]]:
        """Per-service lists (job names, source ARNs, roles) the service's statements read
        lazily at synth, so the policy is written once per service."""
        return self._registries.setdefault(service, {})

    def grant_once(self, service: str, statements: Callable[[], list[iam.PolicyStatement]]) -> None:
        """Add a service's statements to the handler's policy, the first time only."""
        if service in self._granted:
            return
        self._granted.add(service)
        for statement in statements():
            self.handler_role.add_to_principal_policy(statement)

    def pass_role_statement(self, service: str, principals: list[str]) -> iam.PolicyStatement:
        """``iam:PassRole`` on the library's role path and on the service's user-given roles,
        only to ``principals`` (``iam:PassedToService``)."""
        registry = self.registry(service)
        stack = Stack.of(self)
        own_roles = stack.format_arn(
            service="iam",
            region="",
            resource="role",
            resource_name=f"export-constructs/{Aws.STACK_NAME}/*",
        )
        acknowledge_iam5(self.handler_role, [own_roles], REASON_ROLE_PATH)
        return iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=lazy_list(lambda: [own_roles, *sorted(set(registry.get("roles", [])))]),
            conditions={"StringEquals": {"iam:PassedToService": principals}},
        )


def _framework_role(scope: Construct, id: str) -> iam.Role:
    return iam.Role(scope, id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))

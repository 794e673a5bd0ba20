"""The stack-wide runner of recurring exports: a function, a window ledger and a Step Functions
state machine that run each export's windows (see ``handler/runs.py``).

Created with the first recurring export of a stack, under its provider (like the long-wait
tracker). Each export adds an EventBridge Scheduler schedule that starts an execution per run,
and what its windows need to the runner's role: the sources, the S3 prefix, its ledger.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from aws_cdk import ArnFormat, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ._memo import addr_of
from ._nag import COMPLIANCE_PACKS, REASON_DEAD_LETTERS, REASON_TRACKER_VERSIONS, acknowledge, acknowledge_iam5
from ._provider import ExportJobProvider, ListedSources
from .handler import consts

#: A run ends within a day (its state machine's timeout); its lock expires with it, and a later
#: run adopts the task it left in flight (the ledger names it).
RUN_TIMEOUT = Duration.hours(24)
#: The ledger's partition key (``handler/ledger.py``'s ``KEY``).
LEDGER_KEY = "Source"

REASON_MAP_EXECUTIONS = (
    "Added by Step Functions' distributed map for its child executions, whose names Step Functions makes: "
    "the grant covers the executions of the run state machine only."
)
REASON_LEDGER_BACKUP = (
    "The window ledger has point-in-time recovery (35 days), deletion protection and is retained when the "
    "stack is deleted; an AWS Backup plan is the account's choice: add the table (ledger) to yours."
)
REASON_RUN_TASKS = (
    "CloudWatch Logs' DescribeExportTasks and CancelExportTask support no resource-level permissions "
    "(the Service Authorization Reference lists no resource type for them); export tasks have no ARN."
)


class ExportRunner(Construct):
    """The runs of a stack's recurring exports:

    - ``ledger``: the window ledger, a DynamoDB table (on demand, encrypted with the provider's
      key, point-in-time recovery on, retained when the stack is deleted), keyed by ``Source``
      (``<export id>#<source>``);
    - ``function``: the handler's ``run`` entry (the provider's code asset) with a role of its
      own: each export adds its sources, its S3 prefix and its ledger to it;
    - ``state_machine``: Plan -> for each window, one after another: Advance -> wait? ->
      Advance ... -> Report -> fail when a window failed.
    """

    ID = "Runner"

    @classmethod
    def of(cls, provider: ExportJobProvider) -> ExportRunner:
        existing = provider.node.try_find_child(cls.ID)
        if isinstance(existing, ExportRunner):
            return existing
        return cls(provider, cls.ID)

    def __init__(self, provider: ExportJobProvider, id: str) -> None:
        super().__init__(provider, id)
        self._provider = provider
        self._acknowledged: set[str] = set()
        self.ledger = dynamodb.Table(
            self,
            "Ledger",
            partition_key=dynamodb.Attribute(name=LEDGER_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=provider.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Runs this stack's recurring exports: starts and polls their tasks, writes their ledger",
        )
        provider.log_group.grant_write(self.role)
        self.function = provider.handler_function(
            self,
            "Run",
            entry=consts.RUN_ENTRY,
            role=self.role,
            description="export_constructs: plan, advance and report a recurring export's run",
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(self._definition()),
            timeout=RUN_TIMEOUT,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=provider.log_group, include_execution_data=False, level=sfn.LogLevel.ALL),
        )
        provider.log_group.grant_write(self.state_machine)
        acknowledge_iam5(self.state_machine, [f"{self.function.function_arn}:*"], REASON_TRACKER_VERSIONS)
        # The distributed map's policy (CDK's): its child executions are named by Step Functions.
        stack = Stack.of(self)
        name = Fn.select(6, Fn.split(":", self.state_machine.state_machine_arn))
        acknowledge_iam5(
            self.state_machine,
            [
                stack.format_arn(
                    service="states",
                    resource="execution",
                    resource_name=name + tail,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
                for tail in (":*", "/*:*")
            ],
            REASON_MAP_EXECUTIONS,
        )
        acknowledge(self.ledger, (f"{p}-DynamoDBInBackupPlan" for p in COMPLIANCE_PACKS), REASON_LEDGER_BACKUP)
        self._ledgers: set[str] = set()
        self._services: set[str] = set()
        self._buses: set[str] = set()
        self._sources: dict[str, ListedSources] = {}
        self._lists: dict[str, list[str]] = {}

    @functools.cached_property
    def scheduler_role(self) -> iam.Role:
        """The role EventBridge Scheduler starts runs with, made with the first schedule: one for
        every schedule of the stack (CDK's target would make one per target), trusted as
        Scheduler's execution roles are: for schedules of this account's default group
        (https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role)."""
        return self._starter_role(
            "SchedulerRole",
            "scheduler.amazonaws.com",
            self._arn("scheduler", "schedule-group", "default"),
            "Starts this stack's recurring export runs on their schedules",
        )

    @functools.cached_property
    def events_role(self) -> iam.Role:
        """The role EventBridge starts runs with (those of exports that run on events, RDS's
        snapshot exports), made with the first of them: trusted by EventBridge for this
        account's rules only, using EventBridge's confused-deputy condition keys
        (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-conditions.html)."""
        return self._starter_role(
            "EventsRole",
            "events.amazonaws.com",
            self._arn("events", "rule", "*"),
            "Starts this stack's event-driven export runs (RDS snapshot exports) on their events",
        )

    def _starter_role(self, id: str, service: str, source_arn: str, description: str) -> iam.Role:
        """A role ``service`` assumes, for this account's ``source_arn`` only, to start runs."""
        role = iam.Role(
            self,
            id,
            assumed_by=iam.ServicePrincipal(
                service,
                conditions={
                    "StringEquals": {"aws:SourceAccount": Stack.of(self).account},
                    "ArnLike": {"aws:SourceArn": source_arn},
                },
            ),
            description=description,
        )
        self.state_machine.grant_start_execution(role)
        return role

    def _arn(self, service: str, resource: str, name: str) -> str:
        return Stack.of(self).format_arn(
            service=service, resource=resource, resource_name=name, arn_format=ArnFormat.SLASH_RESOURCE_NAME
        )

    @functools.cached_property
    def events_dead_letters(self) -> sqs.Queue:
        """Where EventBridge puts the events it could not start a run for, after its retries (24
        hours): each is a snapshot not exported
        (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html). Kept 14
        days, SQS's longest."""
        queue = sqs.Queue(
            self,
            "EventsDeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self._provider.key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        # EventBridge encrypts what it sends to the queue with the queue's key: the key policy lets
        # it, for this account only (aws:SourceAccount, as EventBridge's key policy guidance says:
        # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-key-policy.html).
        stack = Stack.of(self)
        self._provider.key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        acknowledge(queue, ["AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"], REASON_DEAD_LETTERS)
        return queue

    def _definition(self) -> sfn.IChainable:
        """Plan -> Windows (a Map, one window at a time) -> Report -> Failed? Each window:
        Advance -> Done? -> Wait (as long as the answer says) -> Advance."""

        def invoke(name: str, payload: dict[str, object], result_path: str) -> tasks.LambdaInvoke:
            task = tasks.LambdaInvoke(
                self,
                name,
                lambda_function=self.function,
                payload_response_only=True,
                payload=sfn.TaskInput.from_object(payload),
                result_path=result_path,
                retry_on_service_exceptions=True,
            )
            # The function's reserved concurrency can throttle a burst of runs; CDK's service
            # retries leave Lambda.TooManyRequestsException out
            # (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
            task.add_retry(
                errors=["Lambda.TooManyRequestsException"],
                interval=Duration.seconds(2),
                max_attempts=6,
                backoff_rate=2,
            )
            return task

        plan = invoke(
            "Plan",
            {"Action": "plan", "Export.$": "$.Export", "Time.$": "$.Time", "Run.$": "$$.Execution.Id"},
            "$.Plan",
        )
        advance = invoke(
            "Advance",
            {"Action": "advance", "Export.$": "$.Export", "Window.$": "$.Window", "Step.$": "$.Step", "Run.$": "$.Run"},
            "$.Step",
        )
        wait = sfn.Wait(self, "Wait", time=sfn.WaitTime.seconds_path("$.Step.Wait"))
        outcome = sfn.Pass(
            self,
            "Outcome",
            parameters={
                "Source.$": "$.Window.Source",
                "Start.$": "$.Window.Start",
                "Outcome.$": "$.Step.Outcome",
                "Reason.$": "$.Step.Reason",
            },
        )
        # A distributed map: each window runs as a child execution with its own history, so a run's
        # looks at its tasks do not add up against Step Functions' 25,000 events per execution
        # (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html,
        # https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html). One window at
        # a time: the account runs one export task at a time anyway, and windows go oldest first.
        windows = sfn.DistributedMap(
            self,
            "Windows",
            items_path="$.Plan.Windows",
            max_concurrency=1,
            map_execution_type=sfn.StateMachineType.STANDARD,
            item_selector={
                "Export.$": "$.Export",
                "Window.$": "$$.Map.Item.Value",
                "Run.$": "$$.Execution.Id",
                "Step": {"State": "NEW", "Reason": ""},
            },
            result_path="$.Results",
        )
        # A window whose step raised (after the Lambda retries) is a failed window of this run:
        # the run goes on, reports it and fails; the ledger still names its task for the next run.
        advance.add_catch(
            sfn.Pass(
                self,
                "Errored",
                parameters={
                    "Source.$": "$.Window.Source",
                    "Start.$": "$.Window.Start",
                    "Outcome": "failed",
                    "Reason.$": "$.Error.Cause",
                },
            ),
            errors=["States.ALL"],
            result_path="$.Error",
        )
        windows.item_processor(
            advance.next(
                sfn.Choice(self, "Done?")
                .when(sfn.Condition.string_equals("$.Step.State", "WAIT"), wait.next(advance))
                .otherwise(outcome)
            )
        )
        report = invoke(
            "Report",
            {
                "Action": "report",
                "Export.$": "$.Export",
                "Plan.$": "$.Plan",
                "Results.$": "$.Results",
                "Time.$": "$.Time",
                "Run.$": "$$.Execution.Id",
            },
            "$.Report",
        )
        failed = sfn.Fail(self, "WindowsFailed", error="ExportWindowsFailed", cause_path="$.Report.Summary")
        judge = (
            sfn.Choice(self, "Failed?")
            .when(sfn.Condition.number_greater_than("$.Report.Failed", 0), failed)
            .otherwise(sfn.Succeed(self, "Done"))
        )
        # A plan that raised may hold the run lock: the report releases it and fails the run.
        plan_failed = invoke(
            "ReportPlanFailure",
            {
                "Action": "report",
                "Export.$": "$.Export",
                "Plan": {"Windows": [], "Behind": 0, "Locked": True},
                "Results": [],
                "Failure.$": "$.Error.Cause",
                "Time.$": "$.Time",
                "Run.$": "$$.Execution.Id",
            },
            "$.Report",
        )
        plan.add_catch(plan_failed.next(judge), errors=["States.ALL"], result_path="$.Error")
        # A map run that failed (a window's child execution that could not end well) leaves the
        # lock held: the report releases it and fails the run.
        map_failed = invoke(
            "ReportRunFailure",
            {
                "Action": "report",
                "Export.$": "$.Export",
                "Plan.$": "$.Plan",
                "Results": [],
                "Failure.$": "$.Error.Cause",
                "Time.$": "$.Time",
                "Run.$": "$$.Execution.Id",
            },
            "$.Report",
        )
        windows.add_catch(map_failed.next(judge), errors=["States.ALL"], result_path="$.Error")
        return plan.next(windows).next(report).next(judge)

    # -- what each export adds ----------------------------------------------------------------

    def grant_ledger(self, table: dynamodb.ITable) -> None:
        """Let the run read, conditionally update and delete (its run locks) items of ``table``
        (and use its key)."""
        key = addr_of(table)
        if key in self._ledgers:
            return
        self._ledgers.add(key)
        table.grant(self.role, "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
        if table.encryption_key is not None:
            table.encryption_key.grant(self.role, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")

    def grant_service(
        self,
        service: str,
        statements: Callable[[], list[iam.PolicyStatement]],
        *,
        wildcards: list[str],
        reason: str,
    ) -> None:
        """Add ``service``'s statements (made once, by the first export of the service) to the
        run's role; its ``wildcards`` are acknowledged with ``reason``."""
        if service in self._services:
            return
        self._services.add(service)
        for statement in statements():
            self.role.add_to_principal_policy(statement)
        self._acknowledge_wildcards(wildcards, reason)

    def grant_events(self, bus_arn: str) -> None:
        """Let the run put its events on ``bus_arn``."""
        if bus_arn in self._buses:
            return
        self._buses.add(bus_arn)
        self.role.add_to_principal_policy(iam.PolicyStatement(actions=["events:PutEvents"], resources=[bus_arn]))

    def default_bus_arn(self) -> str:
        return self._arn("events", "event-bus", "default")

    def sources(self, service: str, wildcard: str, reason: str) -> ListedSources:
        """The sources of ``service``'s recurring exports that the run's role lists (collapsed
        to ``wildcard``, acknowledged with ``reason``, when they do not fit)."""
        if service not in self._sources:
            self._sources[service] = ListedSources(self, wildcard, reason)
        return self._sources[service]

    def listed(self, key: str) -> list[str]:
        """A list the recurring exports of the stack add to (``key``: e.g. ``Personalize:jobs``),
        read lazily by the statements ``grant_service`` adds once per service."""
        return self._lists.setdefault(key, [])

    def _acknowledge_wildcards(self, resources: list[str], reason: str) -> None:
        new = [r for r in resources if r not in self._acknowledged]
        if new:
            self._acknowledged.update(new)
            acknowledge_iam5(self.role, new, reason)

"""The stack-wide tracker of long waits: a function and a Step Functions state machine that
poll export jobs whose timeout is longer than a custom resource may wait, and signal each job's
wait condition when it ends (see ``handler/tracker.py``)."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from . import _defaults
from ._nag import REASON_TRACKER_EXECUTIONS, REASON_TRACKER_VERSIONS, acknowledge_iam5
from ._provider import ExportJobProvider
from .handler import consts

_COLON = ArnFormat.COLON_RESOURCE_NAME


class ExportJobTracker(Construct):
    """Created with the first long-wait job of a stack, under its provider. Holds:

    - ``track_function``: the handler's ``track`` entry (same code asset and role as the
      provider's functions, so it may describe and stop exactly what they may);
    - ``state_machine``: Poll -> done? -> Wait ``TRACKER_POLL_INTERVAL`` -> Poll, logged and
      traced, with a timeout just above CloudFormation's 12-hour wait-condition limit.

    The provider's ``on_event`` starts one execution per job and wait (``states:StartExecution``)
    and stops it when the job's resource is deleted (``states:StopExecution``).
    """

    ID = "Tracker"

    @classmethod
    def of(cls, provider: ExportJobProvider) -> ExportJobTracker:
        existing = provider.node.try_find_child(cls.ID)
        if isinstance(existing, ExportJobTracker):
            return existing
        return cls(provider, cls.ID)

    def __init__(self, provider: ExportJobProvider, id: str) -> None:
        super().__init__(provider, id)
        self.track_function = provider.handler_function(
            self,
            "Track",
            entry=consts.TRACK_ENTRY,
            description="export_constructs: poll a long-wait export job and signal its wait condition",
        )
        poll = tasks.LambdaInvoke(
            self,
            "Poll",
            lambda_function=self.track_function,
            payload_response_only=True,
            result_path="$.Result",
            retry_on_service_exceptions=True,
        )
        wait = sfn.Wait(self, "Wait", time=sfn.WaitTime.duration(_defaults.TRACKER_POLL_INTERVAL))
        done = sfn.Choice(self, "Done?")
        definition = poll.next(
            done.when(sfn.Condition.boolean_equals("$.Result.Done", True), sfn.Succeed(self, "Signalled")).otherwise(
                wait.next(poll)
            )
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=_defaults.MAX_LONG_TIMEOUT.plus(Duration.hours(1)),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=provider.log_group, include_execution_data=False, level=sfn.LogLevel.ALL),
        )
        provider.log_group.grant_write(self.state_machine)
        stack = Stack.of(self)
        executions = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{stack.split_arn(self.state_machine.state_machine_arn, _COLON).resource_name}:*",
            arn_format=_COLON,
        )
        # Its own policy, not the role's default one: the track function (which uses this role)
        # must not depend on the state machine that invokes it. Long-wait jobs depend on it.
        self.access_policy = iam.Policy(
            self,
            "StartStop",
            roles=[provider.handler_role],
            statements=[
                iam.PolicyStatement(
                    actions=["states:StartExecution"], resources=[self.state_machine.state_machine_arn]
                ),
                iam.PolicyStatement(actions=["states:StopExecution"], resources=[executions]),
            ],
        )
        acknowledge_iam5(self.access_policy, [executions], REASON_TRACKER_EXECUTIONS)
        acknowledge_iam5(self.state_machine, [f"{self.track_function.function_arn}:*"], REASON_TRACKER_VERSIONS)

    @property
    def state_machine_arn(self) -> str:
        return self.state_machine.state_machine_arn

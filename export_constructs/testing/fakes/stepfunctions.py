"""A fake of AWS Step Functions' StartExecution / StopExecution (JSON 1.0, botocore's model),
for the long-wait tracker. It only records executions: the simulation runs them, interpreting
the state machine's definition from the template."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import IamRequest, ServiceError
from .protocol import BotocoreFake


@dataclass
class Execution:
    arn: str
    state_machine: str
    name: str
    input: str
    status: str = "RUNNING"
    cause: str = ""
    """Why the execution failed, when it did (the simulation logs it)."""


class Fake(BotocoreFake):
    name = "StepFunctions"
    model_name = "stepfunctions"
    signing_name = "states"
    endpoint_env = "AWS_ENDPOINT_URL_SFN"
    validation_error = (400, "ValidationException")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.executions: dict[str, Execution] = {}

    iam_prefix = "states"

    def iam_request(self, operation: str, params: Any) -> IamRequest:
        if operation == "StartExecution":
            return IamRequest({"statemachine": params["stateMachineArn"]})
        return IamRequest({"execution": params["executionArn"]})

    def op_StartExecution(self, params: dict[str, Any]) -> dict[str, Any]:
        machine = params["stateMachineArn"]
        head, _, machine_name = machine.rpartition(":stateMachine:")
        arn = f"{head}:execution:{machine_name}:{params['name']}"
        existing = self.executions.get(arn)
        if existing is not None and existing.input != params.get("input", "{}"):
            raise ServiceError("ExecutionAlreadyExists", f"Execution already exists: '{arn}'")
        if existing is None:
            self.executions[arn] = Execution(arn, machine, params["name"], params.get("input", "{}"))
            self.log(f"  StepFunctions: tracker execution {params['name']} started")
        return {"executionArn": arn, "startDate": self.clock.as_real(self.clock.stamp())}

    def op_StopExecution(self, params: dict[str, Any]) -> dict[str, Any]:
        execution = self.executions.get(params["executionArn"])
        if execution is None:
            raise ServiceError("ExecutionDoesNotExist", f"Execution does not exist: '{params['executionArn']}'")
        if execution.status == "RUNNING":
            execution.status = "ABORTED"
            self.log(f"  StepFunctions: tracker execution {execution.name} stopped")
        return {"stopDate": self.clock.as_real(self.clock.stamp())}

    def running(self) -> list[Execution]:
        return [e for e in self.executions.values() if e.status == "RUNNING"]

"""The simulation's ASL interpreter against implementations nobody here wrote: moto's Step
Functions, which executes state machines when configured to (its parser derives from
LocalStack's interpreter), on definitions without Lambda tasks; and a state machine CDK's
Step Functions L2s synthesize, run with a Python function behind its Lambda tasks."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_cdk.assertions import Template
from moto import mock_aws

from export_constructs.testing.asl import Interpreter, TaskFailure
from export_constructs.testing.fakes.jobs import VirtualClock
from export_constructs.testing.resolver import Pseudo, Resolver


def pass_(**fields: Any) -> dict[str, Any]:
    return {"Type": "Pass", "End": True, **fields}


def machine(**states: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states}


CHOICE = machine(
    C={
        "Type": "Choice",
        "Choices": [
            {
                "And": [
                    {"Variable": "$.n", "NumericGreaterThanEquals": 10},
                    {"Not": {"Variable": "$.name", "StringMatches": "tmp-*"}},
                ],
                "Next": "Big",
            },
            {
                "Or": [{"Variable": "$.flag", "BooleanEquals": True}, {"Variable": "$.opt", "IsNull": True}],
                "Next": "Flag",
            },
            {"Variable": "$.name", "StringEqualsPath": "$.expected", "Next": "Named"},
            {"Variable": "$.at", "TimestampLessThan": "2026-01-01T00:00:00Z", "Next": "Old"},
        ],
        "Default": "Other",
    },
    Big=pass_(Result="big"),
    Flag=pass_(Result="flag"),
    Named=pass_(Result="named"),
    Old=pass_(Result="old"),
    Other=pass_(Result="other"),
)
ITEMS = {
    "Type": "Map",
    "ItemsPath": "$.Plan.Windows",
    "ItemSelector": {"Export.$": "$.Export", "Window.$": "$$.Map.Item.Value", "Index.$": "$$.Map.Item.Index"},
    "ItemProcessor": {
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "Shape",
        "States": {
            "Shape": pass_(Parameters={"Key.$": "States.Format('{}/{}', $.Export, $.Window)", "I.$": "$.Index"})
        },
    },
    "ResultPath": "$.Results",
    "End": True,
}
PLAN = {"Export": "e-1", "Plan": {"Windows": ["2026-01", "2026-02", "2026-03"]}, "Drop": 1}
BRANCHES = [
    machine(A=pass_(Parameters={"a.$": "$.x"})),
    machine(W={"Type": "Wait", "Seconds": 0, "Next": "B"}, B=pass_(Result=[1, 2], ResultPath="$.b")),
]
FAILING_ITEM = machine(F={"Type": "Fail", "ErrorPath": "$.code", "CausePath": "States.Format('item {} broke', $.id)"})

CASES: dict[str, tuple[dict[str, Any], Any]] = {
    "pass-processing": (
        machine(
            P=pass_(
                InputPath="$.job",
                Parameters={"Id.$": "$.id", "State.$": "$$.State.Name", "Static": {"k": [1, "two"]}},
                ResultPath="$.job.Shaped",
                OutputPath="$.job",
            )
        ),
        {"job": {"id": "j-1", "more": True}, "other": 0},
    ),
    "pass-result-discarded": (machine(P=pass_(Result={"x": 1}, ResultPath=None)), {"kept": [1]}),
    "pass-null-paths": (machine(P=pass_(InputPath=None, OutputPath="$.r", ResultPath="$.r")), {"a": 1}),
    "intrinsics": (
        machine(
            P=pass_(
                Parameters={
                    "Text.$": "States.Format('{} has {} windows', $.Export, States.ArrayLength($.Plan.Windows))",
                    "Json.$": "States.JsonToString($.Plan)",
                    "Parsed.$": "States.StringToJson('{\"a\": [1, 2]}')",
                    "Sum.$": "States.MathAdd($.Drop, 41)",
                }
            )
        ),
        PLAN,
    ),
    "choice-big": (
        CHOICE,
        {"n": 12, "name": "final", "flag": False, "opt": 1, "expected": "-", "at": "2027-01-01T00:00:00Z"},
    ),
    "choice-not": (
        CHOICE,
        {"n": 12, "name": "tmp-1", "flag": True, "opt": 1, "expected": "-", "at": "2027-01-01T00:00:00Z"},
    ),
    "choice-null": (
        CHOICE,
        {"n": 1, "name": "a", "flag": False, "opt": None, "expected": "-", "at": "2027-01-01T00:00:00Z"},
    ),
    "choice-path": (
        CHOICE,
        {"n": 1, "name": "a", "flag": False, "opt": 1, "expected": "a", "at": "2027-01-01T00:00:00Z"},
    ),
    "choice-timestamp": (
        CHOICE,
        {"n": 1, "name": "a", "flag": False, "opt": 1, "expected": "b", "at": "2025-06-01T00:00:00Z"},
    ),
    "choice-default": (
        CHOICE,
        {"n": 1, "name": "a", "flag": False, "opt": 1, "expected": "b", "at": "2026-06-01T00:00:00Z"},
    ),
    "choice-no-match": (
        machine(
            C={"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "S"}]},
            S={"Type": "Succeed"},
        ),
        {"n": 2},
    ),
    "map-one-at-a-time": ({"StartAt": "M", "States": {"M": {**ITEMS, "MaxConcurrency": 1}}}, PLAN),
    "map-all-at-once": ({"StartAt": "M", "States": {"M": ITEMS}}, PLAN),
    "map-failing-item": (
        machine(M={"Type": "Map", "ItemProcessor": FAILING_ITEM, "End": True}),
        [{"id": 1, "code": "Bad"}],
    ),
    "map-caught": (
        machine(
            M={
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": FAILING_ITEM,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "D"}],
                "ResultPath": "$.out",
                "Next": "D",
            },
            D={"Type": "Succeed"},
        ),
        {"items": [{"id": 1, "code": "Bad"}]},
    ),
    "parallel": (
        machine(
            P={
                "Type": "Parallel",
                "Branches": BRANCHES,
                # "$[1]" whole: moto's JSONPath wraps what a path reads below an index in a list
                # ("$[1].b" gives [[1, 2]]), where Step Functions reads the one value.
                "ResultSelector": {"First.$": "$[0]", "Second.$": "$[1]"},
                "End": True,
            }
        ),
        {"x": 5},
    ),
    "fail": (machine(F={"Type": "Fail", "Error": "Export.Failed", "Cause": "the bucket refused"}), {}),
    "fail-in-branch": (
        machine(
            P={
                "Type": "Parallel",
                "Branches": [BRANCHES[0], machine(F={"Type": "Fail", "Error": "Branch.Failed", "Cause": "why"})],
                "End": True,
            }
        ),
        {"x": 5},
    ),
    "wait": (
        machine(W={"Type": "Wait", "SecondsPath": "$.s", "Next": "S"}, S={"Type": "Succeed", "OutputPath": "$.s"}),
        {"s": 1},
    ),
}


@pytest.fixture(scope="module")
def moto_stepfunctions() -> Iterator[Any]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield boto3.client("stepfunctions", region_name="us-east-1")


def moto_run(client: Any, name: str, definition: dict[str, Any], data: Any) -> dict[str, Any]:
    arn = client.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/simulated"
    )["stateMachineArn"]
    execution = client.start_execution(stateMachineArn=arn, name="run", input=json.dumps(data))["executionArn"]
    deadline = time.monotonic() + 10
    while (described := client.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"moto's execution of {name} did not end"
        time.sleep(0.01)
    found = dict(described)
    if found["status"] == "SUCCEEDED":
        # The output as moto's interpreter recorded it: its DescribeExecution hands a string
        # output over as the bare string (not JSON-encoded, as AWS's API does), while the
        # ExecutionSucceeded event of the history holds the JSON text.
        events = client.get_execution_history(executionArn=execution)["events"]
        (succeeded,) = [e for e in events if e["type"] == "ExecutionSucceeded"]
        found["output"] = succeeded["executionSucceededEventDetails"]["output"]
    return found


@pytest.mark.parametrize("case", list(CASES))
def test_moto_and_the_interpreter_agree(moto_stepfunctions: Any, case: str) -> None:
    definition, data = CASES[case]
    theirs = moto_run(moto_stepfunctions, case, definition, data)
    interpreter = Interpreter(VirtualClock())
    ours = interpreter.start(definition, data, name="run")
    interpreter.run()
    assert ours.status == theirs["status"], (ours.error, ours.cause, theirs.get("error"), theirs.get("cause"))
    if ours.status == "SUCCEEDED":
        assert ours.output == json.loads(theirs["output"])
    else:
        assert ours.error == theirs.get("error")
        if case.startswith("fail") or "item" in case:  # a Fail state's own error and cause
            assert ours.cause == theirs.get("cause")


def test_a_cdk_synthesized_machine_runs_its_lambda_tasks_map_choice_and_wait(tmp_path: Path) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_stepfunctions as sfn
    from aws_cdk import aws_stepfunctions_tasks as tasks

    app = cdk.App(outdir=str(tmp_path))
    s = cdk.Stack(app, "Recurring")
    f = lambda_.Function(
        s, "Advance", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler", code=lambda_.Code.from_inline("x")
    )
    payload = sfn.TaskInput.from_object({"Action": "advance", "Export.$": "$.Export", "Window.$": "$.Window"})
    inv = tasks.LambdaInvoke(
        s, "Adv", lambda_function=f, payload_response_only=True, payload=payload, result_path="$.Step"
    )
    m = sfn.Map(
        s,
        "M",
        items_path="$.Plan.Windows",
        max_concurrency=1,
        item_selector={"Export.$": "$.Export", "Window.$": "$$.Map.Item.Value"},
        result_path=sfn.JsonPath.DISCARD,
    )
    wait = sfn.Wait(s, "W", time=sfn.WaitTime.seconds_path("$.Step.Wait")).next(inv)
    m.item_processor(
        inv.next(
            sfn.Choice(s, "C")
            .when(sfn.Condition.string_equals("$.Step.State", "WAIT"), wait)
            .otherwise(sfn.Succeed(s, "D"))
        )
    )
    report = tasks.LambdaInvoke(s, "Report", lambda_function=f, payload=sfn.TaskInput.from_object({"Action": "report"}))
    sfn.StateMachine(s, "Machine", definition_body=sfn.DefinitionBody.from_chainable(m.next(report)))
    template = app.synth().get_stack_by_name("Recurring").template
    resolver = Resolver(template, Pseudo("Recurring"))
    (logical_id,) = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::StepFunctions::StateMachine"]
    definition = json.loads(resolver.resolve(template["Resources"][logical_id]["Properties"]["DefinitionString"]))
    (function_id,) = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::Lambda::Function"]
    function_arn = resolver.get_att(function_id, "Arn")

    clock = VirtualClock()
    calls: list[tuple[float, str, str]] = []
    steps: dict[str, int] = {}

    def advance(arn: str, event: dict[str, Any]) -> Any:
        """A counter per window: WAIT 30 s twice, then DONE; Lambda's service refuses the first
        call of the second window once (CDK's LambdaInvoke retries that)."""
        assert arn == function_arn
        calls.append((clock.elapsed, event["Action"], event.get("Window", "")))
        if event["Action"] == "report":
            return {"Reported": True}
        if event["Window"] == "2026-02" and event["Window"] not in steps:
            steps[event["Window"]] = 0
            raise TaskFailure("Lambda.ServiceException", "Rate exceeded")
        steps[event["Window"]] = steps.get(event["Window"], 0) + 1
        return {"State": "WAIT", "Wait": 30} if steps[event["Window"]] < 3 else {"State": "DONE"}

    interpreter = Interpreter(clock, advance)
    execution = interpreter.start(definition, {"Export": "e-1", "Plan": {"Windows": ["2026-01", "2026-02"]}})
    interpreter.run()
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert calls == [
        (0, "advance", "2026-01"),
        (30, "advance", "2026-01"),
        (60, "advance", "2026-01"),
        (60, "advance", "2026-02"),  # refused by the service: retried 2 s later (CDK's Retry)
        (62, "advance", "2026-02"),
        (92, "advance", "2026-02"),
        (122, "advance", "2026-02"),
        (122, "report", ""),
    ]
    assert clock.elapsed == 122
    assert execution.output["Payload"] == {"Reported": True} and execution.output["StatusCode"] == 200
    assert execution.invocations == 8


def _fake_arns(value: Any, function_arn: str) -> Any:
    """A DefinitionString's Fn::Join with the function's ARN (and the partition) put in."""
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(str(_fake_arns(part, function_arn)) for part in parts)
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        assert value["Fn::GetAtt"][1] == "Arn"
        return function_arn
    if value == {"Ref": "AWS::Partition"}:
        return "aws"
    assert isinstance(value, str), value
    return value


def test_a_cdk_distributed_map_runs_each_window_as_a_child_execution_one_at_a_time(tmp_path: Path) -> None:
    """aws-cdk-lib's DistributedMap (MaxConcurrency 1, Standard children) around a LambdaInvoke
    (payload_response_only) that loops through a Choice and a Wait of SecondsPath, then a
    LambdaInvoke of the optimized form; each with CDK's retry of Lambda's service errors."""
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_stepfunctions as sfn
    from aws_cdk import aws_stepfunctions_tasks as tasks

    app = cdk.App(outdir=str(tmp_path))
    s = cdk.Stack(app, "Windows")
    f = lambda_.Function(
        s, "Advance", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler", code=lambda_.Code.from_inline("x")
    )
    payload = {"Action": "advance", "Window.$": "$.Window", "Step.$": "$.Step", "Execution.$": "$$.Execution.Id"}
    advance = tasks.LambdaInvoke(
        s,
        "Adv",
        lambda_function=f,
        payload_response_only=True,
        payload=sfn.TaskInput.from_object(payload),
        result_path="$.Step",
    )
    per_window = sfn.DistributedMap(
        s,
        "PerWindow",
        items_path="$.Plan.Windows",
        max_concurrency=1,
        map_execution_type=sfn.StateMachineType.STANDARD,
        item_selector={"Export.$": "$.Export", "Window.$": "$$.Map.Item.Value", "Step": {"State": "NEW"}},
        result_path="$.Results",
    )
    wait = sfn.Wait(s, "W", time=sfn.WaitTime.seconds_path("$.Step.Wait")).next(advance)
    per_window.item_processor(
        advance.next(
            sfn.Choice(s, "C")
            .when(sfn.Condition.string_equals("$.Step.State", "WAIT"), wait)
            .otherwise(sfn.Succeed(s, "D"))
        )
    )
    report = tasks.LambdaInvoke(
        s,
        "Report",
        lambda_function=f,
        payload=sfn.TaskInput.from_object({"Action": "report", "N.$": "$.Results"}),
    )
    sfn.StateMachine(s, "Machine", definition_body=sfn.DefinitionBody.from_chainable(per_window.next(report)))
    template = Template.from_stack(s).to_json()
    (machine,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    function_arn = "arn:aws:lambda:us-east-1:123456789012:function:Advance"
    definition = json.loads(_fake_arns(machine["Properties"]["DefinitionString"], function_arn))
    assert definition["States"]["PerWindow"]["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "STANDARD",
    }

    clock = VirtualClock()
    calls: list[tuple[float, str, str, str]] = []
    steps: dict[str, int] = {}

    def invoke(arn: str, event: dict[str, Any]) -> Any:
        """Each window waits 30 s, then 60 s, then is done; Lambda's service refuses the first
        call of the second window and the first report once (CDK's Retry: 2 s later)."""
        assert arn == function_arn
        calls.append((clock.elapsed, event["Action"], event.get("Window", ""), event.get("Execution", "")))
        if event["Action"] == "report":
            if len([c for c in calls if c[1] == "report"]) == 1:
                raise TaskFailure("Lambda.ServiceException", "Rate exceeded")
            return {"Reported": len(event["N"])}
        window = event["Window"]
        if window == "2026-02" and window not in steps:
            steps[window] = 0
            raise TaskFailure("Lambda.ServiceException", "Rate exceeded")
        assert event["Step"]["State"] == ("NEW" if steps.get(window, 0) == 0 else "WAIT")
        steps[window] = steps.get(window, 0) + 1
        return {"State": "WAIT", "Wait": 30 * steps[window]} if steps[window] < 3 else {"State": "DONE"}

    interpreter = Interpreter(clock, invoke)
    windows = ["2026-01", "2026-02", "2026-03"]
    execution = interpreter.start(definition, {"Export": "e-1", "Plan": {"Windows": windows}}, name="nightly")
    interpreter.run()
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)

    children = execution.children
    assert [child.input["Window"] for child in children] == windows, "item order"
    assert [child.status for child in children] == ["SUCCEEDED"] * 3
    for before, after in itertools.pairwise(children):
        assert before.stop_time is not None and after.start_time >= before.stop_time, "MaxConcurrency 1"
    assert [child.start_time for child in children] == [0, 90, 182]
    assert clock.elapsed == 272 + 2, "3 x (30 + 60) s of waits, a retry of 2 s in a child and one of the report"
    for child in children:
        assert child.arn.startswith("arn:aws:states:us-east-1:123456789012:execution:Simulated/PerWindow:")
        mine = [c for c in calls if c[2] == child.input["Window"]]
        assert {c[3] for c in mine} == {child.arn}, "$$.Execution.Id in the payload: the child's own ARN"
        assert child.event_types.count("WaitStateEntered") == 2
        assert child.event_types.count("LambdaFunctionScheduled") == len(mine)
        # Adv 3 times, C 3, W 2, D 1, and a retry each refused call
        assert child.invocations == len(mine) and child.transitions == 9 + (len(mine) - 3)
        assert child.output["Step"] == {"State": "DONE"}
    assert [c[2] for c in calls if c[1] == "advance"] == ["2026-01"] * 3 + ["2026-02"] * 4 + ["2026-03"] * 3
    assert not any(kind.startswith(("Wait", "Choice", "LambdaFunction")) for kind in execution.event_types)
    assert execution.event_types.count("TaskScheduled") == 2 and execution.invocations == 2
    assert execution.total_invocations == 12
    assert execution.output["Payload"] == {"Reported": 3} and execution.output["StatusCode"] == 200

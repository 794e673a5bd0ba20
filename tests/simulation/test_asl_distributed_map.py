"""The simulation's ASL interpreter on a Distributed Map: each item a child execution of its own
(ARN, input, context object, history and its limit, counters), the parent's history of map
runs, MaxConcurrency, failure as States.ExceedToleratedFailureThreshold for the parent's Retry
and Catch, StopExecution reaching the children, and the fields the simulation refuses."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from export_constructs.testing.asl import Execution, Interpreter, TaskFailure
from export_constructs.testing.fakes.jobs import VirtualClock

from .test_asl_execution import ITEMS, Log, work
from .test_asl_interpreter import FUNCTION

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:Exports"
DISTRIBUTED = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}


def distributed(processor: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A Distributed Map state over ``$.items`` as CDK's DistributedMap writes it."""
    return {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemProcessor": {"ProcessorConfig": DISTRIBUTED, **processor},
        **fields,
    }


def machine(state: dict[str, Any], **after: dict[str, Any]) -> dict[str, Any]:
    """The map ``M`` (ending, unless it names its Next), then the states ``after``."""
    ends = {} if "Next" in state else {"End": True}
    return {"StartAt": "M", "States": {"M": {**state, **ends}, **after}}


def start(definition: dict[str, Any], data: Any, invoke: Any = None) -> tuple[Interpreter, Execution]:
    interpreter = Interpreter(VirtualClock(), invoke)
    execution = interpreter.start(definition, data, name="nightly", state_machine="Exports")
    return interpreter, execution


def echo_processor() -> dict[str, Any]:
    """A task that sends its input and the execution's own ARN, and returns what it sent."""
    parameters = {"Item.$": "$", "Self.$": "$$.Execution.Id", "Machine.$": "$$.StateMachine.Id"}
    return {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": FUNCTION, "Parameters": parameters, "End": True}},
    }


def test_each_item_runs_as_a_child_execution_of_its_own() -> None:
    sent: list[Any] = []

    def invoke(function: str, payload: Any) -> Any:
        sent.append(payload)
        return payload

    state = distributed(
        echo_processor(),
        ItemSelector={"Export.$": "$.Export", "Window.$": "$$.Map.Item.Value", "Index.$": "$$.Map.Item.Index"},
        Label="Windows",
        ResultPath="$.Results",
    )
    interpreter, execution = start(machine(state), {"Export": "e-1", "items": ["w1", "w2", "w3"]}, invoke)
    interpreter.run()
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    children = execution.children
    assert [child.input for child in children] == [
        {"Export": "e-1", "Window": "w1", "Index": 0},
        {"Export": "e-1", "Window": "w2", "Index": 1},
        {"Export": "e-1", "Window": "w3", "Index": 2},
    ]
    assert all(child.status == "SUCCEEDED" and child.parent is execution for child in children)
    assert len({child.arn for child in children}) == 3
    (run,) = execution.map_runs
    assert run.startswith("arn:aws:states:us-east-1:123456789012:mapRun:Exports/Windows:")
    for child in children:
        assert child.arn == f"arn:aws:states:us-east-1:123456789012:execution:Exports/Windows:{child.name}"
        assert child.map_run_arn == run and child.state_machine_arn == f"{MACHINE}/Windows"
    assert [payload["Self"] for payload in sent] == [child.arn for child in children], "$$.Execution.Id: its own"
    assert {payload["Machine"] for payload in sent} == {f"{MACHINE}/Windows"}
    assert execution.output["Results"] == [child.output for child in children] == sent
    assert interpreter.executions == [execution], "children are found through their parent"


def test_the_parent_records_the_map_run_and_each_child_its_own_states() -> None:
    known = set(botocore.session.get_session().get_service_model("stepfunctions").shape_for("HistoryEventType").enum)
    interpreter, execution = start(machine(distributed(echo_processor())), {"items": [1, 2]}, lambda f, p: p)
    interpreter.run()
    assert execution.event_types == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapRunStarted",
        "MapRunSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    assert execution.events("MapRunStarted")[0].details["mapRunArn"] == execution.map_runs[0]
    for child in execution.children:
        assert child.event_types == [
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded",
        ]
        assert (child.transitions, child.invocations) == (1, 1)
    assert (execution.transitions, execution.invocations) == (1, 0), "the children's work is their own"
    assert (execution.total_transitions, execution.total_invocations) == (3, 2)
    assert {kind for e in execution.tree() for kind in e.event_types} <= known


def test_the_name_of_the_state_labels_the_children_without_a_label() -> None:
    definition = {"StartAt": "Per window", "States": {"Per window": {**distributed(echo_processor()), "End": True}}}
    interpreter, execution = start(definition, {"items": [1]}, lambda f, p: p)
    interpreter.run()
    assert ":execution:Exports/Per window:" in execution.children[0].arn


@pytest.mark.parametrize(("limit", "most", "took"), [(1, 1, 60.0), (2, 2, 30.0), (0, 3, 30.0)])
def test_max_concurrency_bounds_the_children_running_at_once(limit: int, most: int, took: float) -> None:
    clock = VirtualClock()
    log = Log(clock)
    interpreter = Interpreter(clock, log)
    execution = interpreter.start(machine(distributed(work(), MaxConcurrency=limit)), {"items": ITEMS})
    interpreter.run()
    assert execution.status == "SUCCEEDED"
    assert log.most == most and clock.elapsed == took
    assert execution.output == ["End a done", "End b done", "End c done"], "item order, whatever the end order"
    starts = [child.start_time for child in execution.children]
    assert starts == {1: [0.0, 30.0, 40.0], 2: [0.0, 0.0, 10.0], 0: [0.0, 0.0, 0.0]}[limit], "c when a child ends"


def test_a_failed_child_fails_the_map_run_stops_the_others_and_the_parent_can_catch_it() -> None:
    clock = VirtualClock()

    def invoke(function: str, payload: Any) -> Any:
        if payload == {"Begin": "b"}:
            raise TaskFailure("Export.Refused", "the bucket refused")
        return "ok"

    state = distributed(
        work(),
        Catch=[{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "ResultPath": "$.Error", "Next": "Caught"}],
        Next="Caught",
    )
    interpreter = Interpreter(clock, invoke)
    execution = interpreter.start(machine(state, Caught={"Type": "Succeed"}), {"items": ITEMS})
    interpreter.run()
    assert execution.status == "SUCCEEDED"
    assert execution.output["Error"] == {
        "Error": "States.ExceedToleratedFailureThreshold",
        "Cause": "The specified tolerated failure threshold was exceeded",
    }
    a, b, c = execution.children
    assert (b.status, b.error, b.cause) == ("FAILED", "Export.Refused", "the bucket refused")
    assert (a.status, c.status) == ("ABORTED", "ABORTED"), "still waiting when b failed"
    assert a.stop_time == c.stop_time == 0.0 and clock.elapsed == 0.0
    assert "MapRunFailed" in execution.event_types and "MapStateFailed" in execution.event_types
    assert "MapRunSucceeded" not in execution.event_types


def test_a_retried_distributed_map_starts_a_new_map_run_with_new_children() -> None:
    calls: list[Any] = []

    def invoke(function: str, payload: Any) -> Any:
        calls.append(payload)
        if len(calls) == 1:
            raise TaskFailure("Lambda.ServiceException")
        return payload

    retry = [{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "IntervalSeconds": 5}]
    interpreter, execution = start(machine(distributed(echo_processor(), Retry=retry)), {"items": ["x"]}, invoke)
    interpreter.run()
    assert execution.status == "SUCCEEDED" and len(calls) == 2
    first, second = execution.children
    assert (first.status, first.error, second.status) == ("FAILED", "Lambda.ServiceException", "SUCCEEDED")
    assert len(execution.map_runs) == 2 and first.map_run_arn != second.map_run_arn and first.arn != second.arn
    assert second.start_time == 5.0 and execution.output == [second.output]


def test_an_uncaught_map_run_failure_fails_the_parent() -> None:
    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Bad", "Cause": "why"}}}
    interpreter, execution = start(machine(distributed(failing)), {"items": [1]})
    interpreter.run()
    assert (execution.status, execution.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    assert (execution.children[0].error, execution.children[0].cause) == ("Bad", "why")


def test_a_child_has_its_own_history_limit() -> None:
    """A child that loops without waiting reaches its own 25,000 events and fails; the parent,
    which records only the map run, fails for the failed child."""
    loop = {
        "StartAt": "Again",
        "States": {
            "Again": {"Type": "Pass", "Next": "Loop?"},
            "Loop?": {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": True, "Next": "Again"}]},
        },
    }
    interpreter, execution = start(machine(distributed(loop)), {"items": [{"go": True}]})
    interpreter.run()
    (child,) = execution.children
    assert (child.status, child.error) == ("FAILED", "States.Runtime")
    assert len(child.history) == 25_000
    assert (execution.status, execution.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    assert len(execution.history) < 20


def test_stopping_the_parent_stops_its_children() -> None:
    waiting = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}
    interpreter, execution = start(machine(distributed(waiting)), {"items": [1, 2]})
    interpreter.run(limit=60)
    assert [child.status for child in execution.children] == ["RUNNING", "RUNNING"]
    interpreter.stop(execution)
    assert execution.status == "ABORTED"
    assert [child.status for child in execution.children] == ["ABORTED", "ABORTED"]
    assert interpreter.next_wake() is None


@pytest.mark.parametrize(
    ("fields", "processor_config", "message"),
    [
        ({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject"}}, DISTRIBUTED, "field ItemReader"),
        ({"ResultWriter": {"Resource": "arn:aws:states:::s3:putObject"}}, DISTRIBUTED, "field ResultWriter"),
        ({"ItemBatcher": {"MaxItemsPerBatch": 10}}, DISTRIBUTED, "field ItemBatcher"),
        ({"ToleratedFailurePercentage": 5}, DISTRIBUTED, "field ToleratedFailurePercentage"),
        ({}, {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "field ItemProcessor.ProcessorConfig.ExecutionType"),
        ({"Label": "L"}, {"Mode": "INLINE"}, "field Label: only a Distributed Map"),
    ],
)
def test_what_the_simulation_does_not_run_is_refused_naming_the_state_and_field(
    fields: dict[str, Any], processor_config: dict[str, Any], message: str
) -> None:
    state = {**distributed(echo_processor(), **fields)}
    state["ItemProcessor"] = {**state["ItemProcessor"], "ProcessorConfig": processor_config}
    with pytest.raises(ValueError, match=f"state 'M': {message}"):
        Interpreter(VirtualClock(), lambda f, p: p).start(machine(state), {"items": []})

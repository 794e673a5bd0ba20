"""The simulation's Amazon States Language interpreter (``export_constructs.testing.asl``), rule
by rule on small hand-written definitions: input and output processing, paths, intrinsic
functions, the context object, Lambda tasks and their errors, Retry and Catch, Choice, Wait,
Fail. Parallel, Map, the execution model and definition checks are in test_asl_execution.py;
the cross-checks against moto and a CDK-synthesized machine in test_asl_crosscheck.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from export_constructs.testing.asl import Execution, Interpreter, TaskFailure
from export_constructs.testing.fakes.jobs import VirtualClock, iso

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:Work"
INVOKE = "arn:aws:states:::lambda:invoke"


def one(state: dict[str, Any], *, end: bool = True) -> dict[str, Any]:
    """A machine of the one state ``S`` (ending, for the types that take End)."""
    return {"StartAt": "S", "States": {"S": {**state, **({"End": True} if end else {})}}}


def run(
    definition: dict[str, Any], data: Any = None, invoke: Callable[[str, Any], Any] | None = None
) -> tuple[Interpreter, Execution]:
    interpreter = Interpreter(VirtualClock(), invoke)
    execution = interpreter.start(definition, data, name="test")
    interpreter.run()
    return interpreter, execution


class Recorder:
    """An ``invoke`` that records (virtual instant, function, payload) and answers ``answer``."""

    def __init__(self, clock: VirtualClock | None = None, answer: Callable[[Any], Any] = lambda p: {"ok": p}) -> None:
        self.calls: list[tuple[float, str, Any]] = []
        self.clock = clock
        self.answer = answer

    def __call__(self, function: str, payload: Any) -> Any:
        self.calls.append((self.clock.elapsed if self.clock else 0.0, function, payload))
        return self.answer(payload)


# -- input and output processing -------------------------------------------------------------


def test_every_field_of_input_and_output_processing_in_order() -> None:
    """InputPath, then Parameters on it, the task, ResultSelector on the result, ResultPath into
    the raw input (not the InputPath selection), then OutputPath."""
    recorder = Recorder(answer=lambda p: {"Status": "DONE", "Echo": p, "Noise": 1})
    state = {
        "Type": "Task",
        "Resource": FUNCTION,
        "InputPath": "$.job",
        "Parameters": {"Id.$": "$.id", "Fixed": "x", "Nested": {"List.$": "$.tags[1]"}},
        "ResultSelector": {"State.$": "$.Status", "Sent.$": "$.Echo.Id"},
        "ResultPath": "$.job.result",
        "OutputPath": "$.job",
    }
    _, execution = run(one(state), {"job": {"id": "j-1", "tags": ["a", "b"]}, "other": True}, recorder)
    assert recorder.calls == [(0.0, FUNCTION, {"Id": "j-1", "Fixed": "x", "Nested": {"List": "b"}})]
    assert execution.output == {"id": "j-1", "tags": ["a", "b"], "result": {"State": "DONE", "Sent": "j-1"}}


def test_result_path_null_discards_the_result_and_a_nested_path_makes_its_objects() -> None:
    discard = one({"Type": "Pass", "Result": {"x": 1}, "ResultPath": None})
    assert run(discard, {"keep": 1})[1].output == {"keep": 1}
    nested = one({"Type": "Pass", "Result": [1, 2], "ResultPath": "$.Plan.Windows"})
    assert run(nested, {"Export": "e"})[1].output == {"Export": "e", "Plan": {"Windows": [1, 2]}}
    replace = one({"Type": "Pass", "Result": "whole"})
    assert run(replace, {"gone": 1})[1].output == "whole"


def test_result_path_through_a_value_that_is_no_object_fails_the_state() -> None:
    _, execution = run(one({"Type": "Pass", "Result": 1, "ResultPath": "$.a.b"}), {"a": "text"})
    assert (execution.status, execution.error) == ("FAILED", "States.ResultPathMatchFailure")


def test_null_input_and_output_paths_give_empty_objects() -> None:
    recorder = Recorder()
    _, execution = run(
        one({"Type": "Task", "Resource": FUNCTION, "InputPath": None, "OutputPath": None}), {"a": 1}, recorder
    )
    assert recorder.calls[0][2] == {} and execution.output == {}


def test_bracket_and_index_paths() -> None:
    state = {"Type": "Pass", "Parameters": {"a.$": "$['odd key']", "b.$": "$.list[2].x", "c.$": "$['list'][0]"}}
    _, execution = run(one(state), {"odd key": 1, "list": [7, 8, {"x": 9}]})
    assert execution.output == {"a": 1, "b": 9, "c": 7}


@pytest.mark.parametrize("path", ["$..a", "$.a[*]", "$.a[0:2]", "$.a[?(@.x)]", "$.a[-1]", "a.b", "$.*"])
def test_paths_beyond_reference_paths_are_refused_naming_the_state_and_field(path: str) -> None:
    with pytest.raises(ValueError, match=r"state 'S': field InputPath: .*not a"):
        Interpreter(VirtualClock()).start(one({"Type": "Pass", "InputPath": path}))


def test_a_path_that_selects_nothing_is_a_runtime_error() -> None:
    _, execution = run(one({"Type": "Pass", "Parameters": {"x.$": "$.missing"}}), {"a": 1})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert "$.missing" in (execution.cause or "")


def test_intrinsic_functions() -> None:
    parameters = {
        "greeting.$": "States.Format('Hello {}, you are {} \\{literally\\} \\'here\\'', $.name, $.age)",
        "parsed.$": "States.StringToJson($.text)",
        "text.$": "States.JsonToString($.obj)",
        "count.$": "States.ArrayLength($.list)",
        "sum.$": "States.MathAdd($.age, -2)",
        "nested.$": "States.ArrayLength(States.Array($.name, 1, true, null))",
    }
    data = {"name": "Ada", "age": 36, "text": '{"k": [1]}', "obj": {"a": 1, "b": [True]}, "list": [1, 2, 3]}
    _, execution = run(one({"Type": "Pass", "Parameters": parameters}), data)
    assert execution.output == {
        "greeting": "Hello Ada, you are 36 {literally} 'here'",
        "parsed": {"k": [1]},
        "text": '{"a":1,"b":[true]}',
        "count": 3,
        "sum": 34,
        "nested": 4,
    }


def test_intrinsic_failures_are_runtime_errors_and_unknown_functions_are_refused() -> None:
    _, execution = run(one({"Type": "Pass", "Parameters": {"x.$": "States.MathAdd($.a, 1)"}}), {"a": "one"})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    with pytest.raises(ValueError, match=r"state 'S': field Parameters\.x\.\$: .*States\.UUID is not"):
        Interpreter(VirtualClock()).start(one({"Type": "Pass", "Parameters": {"x.$": "States.UUID()"}}))


def test_the_context_object() -> None:
    clock = VirtualClock()
    interpreter = Interpreter(clock)
    parameters = {
        "Id.$": "$$.Execution.Id",
        "Name.$": "$$.Execution.Name",
        "Start.$": "$$.Execution.StartTime",
        "Input.$": "$$.Execution.Input",
        "State.$": "$$.State.Name",
        "Entered.$": "$$.State.EnteredTime",
        "Machine.$": "$$.StateMachine.Id",
    }
    definition = {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 90, "Next": "Ctx"},
            "Ctx": {"Type": "Pass", "Parameters": parameters, "End": True},
        },
    }
    clock.advance(10)
    execution = interpreter.start(definition, {"in": 1}, name="nightly", state_machine="Exports")
    interpreter.run()
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:Exports"
    assert execution.output == {
        "Id": "arn:aws:states:us-east-1:123456789012:execution:Exports:nightly",
        "Name": "nightly",
        "Start": iso(clock.as_real(10)),
        "Input": {"in": 1},
        "State": "Ctx",
        "Entered": iso(clock.as_real(100)),
        "Machine": machine,
    }
    assert execution.arn == execution.output["Id"] and execution.state_machine_arn == machine


# -- Lambda tasks ----------------------------------------------------------------------------


def test_a_lambda_function_arn_task_sends_its_parameters_and_returns_the_answer() -> None:
    recorder = Recorder(answer=lambda p: {"Done": p["n"] > 1})
    state = {"Type": "Task", "Resource": FUNCTION, "Parameters": {"n.$": "$.n"}, "ResultPath": "$.Result"}
    _, execution = run(one(state), {"n": 2}, recorder)
    assert recorder.calls == [(0.0, FUNCTION, {"n": 2})] and execution.output == {"n": 2, "Result": {"Done": True}}
    assert execution.event_types == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]


def test_the_lambda_invoke_integration_sends_payload_and_wraps_the_answer() -> None:
    recorder = Recorder(answer=lambda p: {"got": p})
    state = {"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": FUNCTION, "Payload.$": "$.body"}}
    _, execution = run(one(state), {"body": {"k": "v"}}, recorder)
    assert recorder.calls == [(0.0, FUNCTION, {"k": "v"})]
    assert execution.output["Payload"] == {"got": {"k": "v"}} and execution.output["StatusCode"] == 200
    assert "TaskScheduled" in execution.event_types and "TaskSucceeded" in execution.event_types


class Refused(Exception):
    errorType = "Custom.Refused"


def test_an_exception_is_an_error_named_by_its_error_type_or_its_class() -> None:
    def refuse(function: str, payload: Any) -> Any:
        raise Refused("no thanks")

    def crash(function: str, payload: Any) -> Any:
        raise KeyError("Export")

    _, refused = run(one({"Type": "Task", "Resource": FUNCTION}), {}, refuse)
    assert (refused.status, refused.error) == ("FAILED", "Custom.Refused")
    assert json.loads(refused.cause or "")["errorMessage"] == "no thanks"
    _, crashed = run(one({"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "f"}}), {}, crash)
    assert crashed.error == "KeyError" and json.loads(crashed.cause or "")["errorType"] == "KeyError"
    assert crashed.events("TaskFailed")[0].details["error"] == "KeyError"


def test_retry_backs_off_on_the_virtual_clock_then_catch_takes_the_error() -> None:
    clock = VirtualClock()
    attempts: list[float] = []

    def busy(function: str, payload: Any) -> Any:
        attempts.append(clock.elapsed)
        raise TaskFailure("Lambda.ServiceException", "try later")

    retry = [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 3}]
    catch = [{"ErrorEquals": ["States.ALL"], "Next": "Handled", "ResultPath": "$.Error"}]
    definition = {
        "StartAt": "T",
        "States": {
            "T": {"Type": "Task", "Resource": FUNCTION, "Retry": retry, "Catch": catch, "Next": "Unreached"},
            "Unreached": {"Type": "Fail"},
            "Handled": {"Type": "Succeed"},
        },
    }
    interpreter = Interpreter(clock, busy)
    execution = interpreter.start(definition, {"in": 1})
    interpreter.run()
    assert attempts == [0.0, 2.0, 8.0, 26.0], "2 s, then 2 x 3, then 2 x 9"
    assert execution.status == "SUCCEEDED"
    assert execution.output == {"in": 1, "Error": {"Error": "Lambda.ServiceException", "Cause": "try later"}}
    assert execution.invocations == 4 and execution.transitions == 2 + 3, "two states entered, three retries"


def test_max_delay_caps_the_backoff_and_task_failed_matches_every_error_but_a_timeout() -> None:
    clock = VirtualClock()
    attempts: list[float] = []

    def failing(function: str, payload: Any) -> Any:
        attempts.append(clock.elapsed)
        raise TaskFailure("States.Timeout" if len(attempts) == 4 else "Anything")

    retry = [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 10, "BackoffRate": 10, "MaxDelaySeconds": 30}]
    interpreter = Interpreter(clock, failing)
    execution = interpreter.start(one({"Type": "Task", "Resource": FUNCTION, "Retry": retry}))
    interpreter.run()
    assert attempts == [0.0, 10.0, 40.0, 70.0], "10, then 100 and 1000 capped at 30"
    assert (execution.status, execution.error) == ("FAILED", "States.Timeout"), "not retried: TaskFailed excludes it"


def test_max_attempts_zero_never_retries_and_no_other_retrier_is_tried() -> None:
    calls: list[Any] = []

    def failing(function: str, payload: Any) -> Any:
        calls.append(payload)
        raise TaskFailure("E")

    retry = [{"ErrorEquals": ["E"], "MaxAttempts": 0}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}]
    _, execution = run(one({"Type": "Task", "Resource": FUNCTION, "Retry": retry}), {}, failing)
    assert len(calls) == 1 and execution.error == "E"


def test_a_runtime_error_is_neither_retried_nor_caught() -> None:
    recorder = Recorder()
    state = {
        "Type": "Task",
        "Resource": FUNCTION,
        "Parameters": {"x.$": "$.missing"},
        "Retry": [{"ErrorEquals": ["States.ALL"]}],
        "Catch": [{"ErrorEquals": ["States.Runtime"], "Next": "S"}],
    }
    _, execution = run(one(state), {}, recorder)
    assert (execution.status, execution.error, recorder.calls) == ("FAILED", "States.Runtime", [])


# -- Choice, Wait, Fail ----------------------------------------------------------------------

CHOICES: list[tuple[dict[str, Any], bool]] = [
    ({"Variable": "$.s", "StringEquals": "abc"}, True),
    ({"Variable": "$.n", "StringEquals": "5"}, False),  # a number is no string: no match, no error
    ({"Variable": "$.s", "StringEqualsPath": "$.same"}, True),
    ({"Variable": "$.s", "StringLessThan": "abd"}, True),
    ({"Variable": "$.s", "StringGreaterThanEquals": "abc"}, True),
    ({"Variable": "$.s", "StringMatches": "a*c"}, True),
    ({"Variable": "$.star", "StringMatches": "x\\*y"}, True),
    ({"Variable": "$.s", "StringMatches": "x\\*y"}, False),
    ({"Variable": "$.n", "NumericEquals": 5}, True),
    ({"Variable": "$.n", "NumericEqualsPath": "$.five"}, True),
    ({"Variable": "$.n", "NumericLessThan": 5}, False),
    ({"Variable": "$.n", "NumericLessThanEquals": 5}, True),
    ({"Variable": "$.n", "NumericGreaterThan": 4.5}, True),
    ({"Variable": "$.n", "NumericGreaterThanEqualsPath": "$.six"}, False),
    ({"Variable": "$.flag", "NumericEquals": 1}, False),  # true is no number
    ({"Variable": "$.flag", "BooleanEquals": True}, True),
    ({"Variable": "$.flag", "BooleanEqualsPath": "$.off"}, False),
    ({"Variable": "$.missing", "IsPresent": False}, True),
    ({"Variable": "$.s", "IsPresent": True}, True),
    ({"Variable": "$.none", "IsNull": True}, True),
    ({"Variable": "$.s", "IsString": True}, True),
    ({"Variable": "$.n", "IsNumeric": True}, True),
    ({"Variable": "$.flag", "IsBoolean": True}, True),
    ({"Variable": "$.at", "IsTimestamp": True}, True),
    ({"Variable": "$.s", "IsTimestamp": True}, False),
    ({"Variable": "$.at", "TimestampLessThan": "2026-01-01T00:00:00.5+01:00"}, False),
    ({"Variable": "$.at", "TimestampGreaterThan": "2025-12-31T23:59:59Z"}, True),
    ({"Variable": "$.at", "TimestampEqualsPath": "$.at"}, True),
    ({"And": [{"Variable": "$.n", "NumericEquals": 5}, {"Variable": "$.s", "StringEquals": "abc"}]}, True),
    ({"Or": [{"Variable": "$.n", "NumericEquals": 6}, {"Variable": "$.s", "StringEquals": "x"}]}, False),
    ({"Not": {"Variable": "$.n", "NumericEquals": 6}}, True),
]
CHOICE_INPUT = {
    "s": "abc",
    "same": "abc",
    "star": "x*y",
    "n": 5,
    "five": 5,
    "six": 6,
    "flag": True,
    "off": False,
    "none": None,
    "at": "2026-01-01T00:00:00Z",
}


@pytest.mark.parametrize(("rule", "expected"), CHOICES, ids=[json.dumps(rule) for rule, _ in CHOICES])
def test_choice_rules(rule: dict[str, Any], expected: bool) -> None:
    definition = {
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", "Choices": [{**rule, "Next": "Yes"}], "Default": "No"},
            "Yes": {"Type": "Pass", "Result": True, "End": True},
            "No": {"Type": "Pass", "Result": False, "End": True},
        },
    }
    assert run(definition, CHOICE_INPUT)[1].output is expected


def test_no_matching_choice_without_a_default_fails_and_a_missing_variable_is_a_runtime_error() -> None:
    rules = [{"Variable": "$.n", "NumericEquals": 1, "Next": "S"}]
    choice: dict[str, Any] = {"Type": "Choice", "Choices": rules}
    definition: dict[str, Any] = {"StartAt": "C", "States": {"C": choice, "S": {"Type": "Succeed"}}}
    _, unmatched = run(definition, {"n": 2})
    assert (unmatched.status, unmatched.error) == ("FAILED", "States.Runtime")
    assert "No Choice rule matched" in (unmatched.cause or "")
    _, missing = run({**definition, "States": {**definition["States"], "C": {**choice, "Default": "S"}}}, {})
    assert (missing.status, missing.error) == ("FAILED", "States.Runtime"), "a Default does not cover a bad path"
    assert "$.n" in (missing.cause or "")


@pytest.mark.parametrize(
    ("state", "data", "seconds"),
    [
        ({"Seconds": 600}, {}, 600.0),
        ({"SecondsPath": "$.delay"}, {"delay": 45}, 45.0),
        ({"Timestamp": 7200}, {}, 7200.0),
        ({"TimestampPath": "$.at"}, {"at": 7200}, 7200.0),
        ({"TimestampPath": "$.at"}, {"at": -60}, 0.0),  # already past: no wait
    ],
)
def test_every_kind_of_wait_runs_on_the_virtual_clock(
    state: dict[str, Any], data: dict[str, Any], seconds: float
) -> None:
    """(A number given for a timestamp here is that many seconds after the execution starts.)"""
    clock = VirtualClock()
    clock.advance(100)
    if "Timestamp" in state:
        state = {"Timestamp": iso(clock.as_real(100 + state["Timestamp"]))}
    if "at" in data:
        data = {"at": iso(clock.as_real(100 + data["at"]))}
    interpreter = Interpreter(clock)
    execution = interpreter.start(one({"Type": "Wait", **state}), data)
    interpreter.run()
    assert execution.status == "SUCCEEDED" and execution.output == data
    assert clock.elapsed - 100 == pytest.approx(seconds)
    assert execution.event_types[1:3] == ["WaitStateEntered", "WaitStateExited"]


def test_a_seconds_path_that_is_no_count_is_a_runtime_error() -> None:
    _, execution = run(one({"Type": "Wait", "SecondsPath": "$.delay"}), {"delay": "soon"})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")


def test_fail_takes_its_error_and_cause_literally_or_from_paths() -> None:
    _, literal = run(one({"Type": "Fail", "Error": "Export.Failed", "Cause": "disk full"}, end=False))
    assert (literal.status, literal.error, literal.cause) == ("FAILED", "Export.Failed", "disk full")
    state = {"Type": "Fail", "ErrorPath": "$.code", "CausePath": "States.Format('job {} failed', $.job)"}
    _, paths = run(one(state, end=False), {"code": "E42", "job": "j-1"})
    assert (paths.error, paths.cause) == ("E42", "job j-1 failed")
    assert paths.event_types == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]


def test_a_function_error_type_is_caught_by_name_into_the_input_and_a_pass_reshapes_it() -> None:
    """The error name a Catch matches is the function's errorType; ResultPath $.Error puts
    Error and Cause into the input, which a Pass's Parameters (``"X.$": path``) read; a Task's
    Parameters read the execution's own ARN from $$.Execution.Id."""
    sent: list[Any] = []

    def refuse(function: str, payload: Any) -> Any:
        sent.append(payload)
        raise Refused("no thanks")

    catch = [
        {"ErrorEquals": ["Other.Error"], "Next": "Wrong"},
        {"ErrorEquals": ["Custom.Refused"], "ResultPath": "$.Error", "Next": "Shape"},
    ]
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": FUNCTION,
                "Parameters": {"Self.$": "$$.Execution.Id", "a.$": "$.a"},
                "Catch": catch,
                "Next": "Wrong",
            },
            "Wrong": {"Type": "Fail"},
            "Shape": {
                "Type": "Pass",
                "Parameters": {
                    "A.$": "$.a",
                    "Error.$": "$.Error.Error",
                    "Message.$": "States.StringToJson($.Error.Cause)",
                },
                "End": True,
            },
        },
    }
    _, execution = run(definition, {"a": 7}, refuse)
    assert sent == [{"Self": execution.arn, "a": 7}]
    assert execution.status == "SUCCEEDED"
    assert execution.output["A"] == 7 and execution.output["Error"] == "Custom.Refused"
    assert execution.output["Message"]["errorMessage"] == "no thanks"

"""The simulation's ASL interpreter beyond single states: Parallel and Map on the virtual clock
(concurrency, order, failure), the execution model (many executions on one clock,
``run_until_idle``/``next_wake``/``advance``, the machine's TimeoutSeconds, StopExecution), the
history (Step Functions' own event types, its 25,000-event limit) and counters, and the
definition checks that refuse what the interpreter cannot run."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from export_constructs.testing.asl import Interpreter, TaskFailure
from export_constructs.testing.fakes.jobs import VirtualClock

from .test_asl_interpreter import FUNCTION, one, run


def work(seconds_path: str = "$.seconds") -> dict[str, Any]:
    """An item processor: a task announces the item, waits its seconds, a task says done."""
    return {
        "StartAt": "Begin",
        "States": {
            "Begin": {
                "Type": "Task",
                "Resource": FUNCTION,
                "Parameters": {"Begin.$": "$.id"},
                "ResultPath": None,
                "Next": "Wait",
            },
            "Wait": {"Type": "Wait", "SecondsPath": seconds_path, "Next": "End"},
            "End": {"Type": "Task", "Resource": FUNCTION, "Parameters": {"End.$": "$.id"}, "End": True},
        },
    }


class Log:
    """An ``invoke`` that logs (instant, what) and keeps count of items begun and not ended."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.entries: list[tuple[float, str]] = []
        self.active = 0
        self.most = 0

    def __call__(self, function: str, payload: dict[str, Any]) -> Any:
        ((what, item),) = payload.items()
        self.active += 1 if what == "Begin" else -1
        self.most = max(self.most, self.active)
        self.entries.append((self.clock.elapsed, f"{what} {item}"))
        return f"{what} {item} done"


def mapped(max_concurrency: int | None, items: list[dict[str, Any]]) -> tuple[Log, Any]:
    clock = VirtualClock()
    log = Log(clock)
    state: dict[str, Any] = {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": work()}
    if max_concurrency is not None:
        state["MaxConcurrency"] = max_concurrency
    interpreter = Interpreter(clock, log)
    execution = interpreter.start(one(state), {"items": items})
    interpreter.run()
    return log, execution


ITEMS = [{"id": "a", "seconds": 30}, {"id": "b", "seconds": 10}, {"id": "c", "seconds": 20}]


def test_map_with_max_concurrency_one_runs_items_strictly_one_after_another() -> None:
    log, execution = mapped(1, ITEMS)
    assert log.entries == [
        (0, "Begin a"),
        (30, "End a"),
        (30, "Begin b"),
        (40, "End b"),
        (40, "Begin c"),
        (60, "End c"),
    ]
    assert execution.output == ["End a done", "End b done", "End c done"] and log.most == 1


def test_map_without_a_limit_runs_all_items_at_once_interleaved_on_the_clock() -> None:
    log, execution = mapped(None, ITEMS)
    assert log.entries == [(0, "Begin a"), (0, "Begin b"), (0, "Begin c"), (10, "End b"), (20, "End c"), (30, "End a")]
    assert execution.output == ["End a done", "End b done", "End c done"], "outputs in item order"
    assert mapped(0, ITEMS)[0].entries == log.entries, "0 is no limit"


def test_map_with_max_concurrency_two_starts_the_next_item_when_one_ends() -> None:
    log, _ = mapped(2, ITEMS)
    assert log.entries == [(0, "Begin a"), (0, "Begin b"), (10, "End b"), (10, "Begin c"), (30, "End a"), (30, "End c")]


def test_an_inline_map_runs_at_most_forty_items_at_once() -> None:
    log, execution = mapped(0, [{"id": str(n), "seconds": 60} for n in range(50)])
    assert log.most == 40 and execution.status == "SUCCEEDED"
    assert log.entries[-1][0] == 120, "the last ten items wait for the first forty"


def test_map_item_selector_reads_the_input_and_the_item_from_the_context_object() -> None:
    recorder: list[Any] = []
    state = {
        "Type": "Map",
        "InputPath": "$.job",
        "ItemsPath": "$.Plan.Windows",
        "ItemSelector": {"Export.$": "$.Export", "Window.$": "$$.Map.Item.Value", "Index.$": "$$.Map.Item.Index"},
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"},
            "StartAt": "T",
            "States": {"T": {"Type": "Task", "Resource": FUNCTION, "End": True}},
        },
        "ResultSelector": {"Count.$": "States.ArrayLength($)"},
        "ResultPath": "$.job.Summary",
    }
    data = {"job": {"Export": "e-1", "Plan": {"Windows": ["w1", "w2"]}}}

    def invoke(function: str, payload: Any) -> Any:
        recorder.append(payload)
        return payload["Index"]

    _, execution = run(one(state), data, invoke)
    assert recorder == [{"Export": "e-1", "Window": "w1", "Index": 0}, {"Export": "e-1", "Window": "w2", "Index": 1}]
    assert execution.output == {"job": {**data["job"], "Summary": {"Count": 2}}}


def test_the_legacy_iterator_and_parameters_of_a_map() -> None:
    state = {
        "Type": "Map",
        "Parameters": {"v.$": "$$.Map.Item.Value"},
        "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
    }
    assert run(one(state), [1, 2])[1].output == [{"v": 1}, {"v": 2}]


def test_a_failing_item_stops_the_others_and_fails_the_map_unless_caught() -> None:
    processor = {
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Bad"}], "Default": "W"},
            "W": {"Type": "Wait", "Seconds": 100, "End": True},
            "Bad": {"Type": "Fail", "Error": "Item.Bad", "Cause": "two"},
        },
    }
    state = {"Type": "Map", "ItemProcessor": processor}
    interpreter, failed = run(one(state), [1, 2, 3])
    assert (failed.status, failed.error, failed.cause) == ("FAILED", "Item.Bad", "two")
    assert interpreter.clock.elapsed == 0, "the waiting items were stopped, not waited for"
    assert failed.event_types.count("MapIterationAborted") == 2 and "MapStateFailed" in failed.event_types
    caught = {**state, "Catch": [{"ErrorEquals": ["Item.Bad"], "ResultPath": "$", "Next": "After"}], "Next": "After"}
    definition = {"StartAt": "S", "States": {"S": caught, "After": {"Type": "Pass", "End": True}}}
    assert run(definition, [1, 2, 3])[1].output == {"Error": "Item.Bad", "Cause": "two"}


def test_map_items_that_are_no_array_are_a_runtime_error() -> None:
    state = {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": work()}
    _, execution = run(one(state), {"items": {"a": 1}}, lambda f, p: p)
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")


def test_parallel_runs_branches_at_once_and_outputs_them_in_branch_order() -> None:
    def branch(seconds: int, result: str) -> dict[str, Any]:
        return {
            "StartAt": "W",
            "States": {
                "W": {"Type": "Wait", "Seconds": seconds, "Next": "R"},
                "R": {"Type": "Pass", "Result": result, "End": True},
            },
        }

    state = {"Type": "Parallel", "Branches": [branch(50, "slow"), branch(20, "fast")], "ResultPath": "$.Both"}
    interpreter, execution = run(one(state), {"in": 1})
    assert execution.output == {"in": 1, "Both": ["slow", "fast"]} and interpreter.clock.elapsed == 50
    assert execution.event_types[:3] == ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted"]


def test_a_failing_branch_fails_the_parallel_state_with_its_error_and_can_be_caught() -> None:
    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Branch.Broke"}}}
    waiting = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 500, "End": True}}}
    state = {"Type": "Parallel", "Branches": [waiting, failing]}
    interpreter, execution = run(one(state), {})
    assert (execution.status, execution.error) == ("FAILED", "Branch.Broke") and interpreter.clock.elapsed == 0
    caught = {**state, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S2", "ResultPath": "$.Error"}], "Next": "S2"}
    definition = {"StartAt": "S", "States": {"S": caught, "S2": {"Type": "Succeed"}}}
    assert run(definition, {"in": 1})[1].output == {"in": 1, "Error": {"Error": "Branch.Broke"}}


# -- the execution model ---------------------------------------------------------------------


def test_many_executions_share_the_clock_and_a_driver_steps_it_from_wake_to_wake() -> None:
    clock = VirtualClock()
    interpreter = Interpreter(clock)
    short = interpreter.start(one({"Type": "Wait", "Seconds": 5}), {"n": 1}, name="short")
    long = interpreter.start(one({"Type": "Wait", "Seconds": 12}), {"n": 2}, name="long")
    assert interpreter.next_wake() == 0, "started executions are ready at once"
    interpreter.run_until_idle()
    assert interpreter.next_wake() == 5 and clock.elapsed == 0
    clock.advance(3)  # another simulated event moved the shared clock
    interpreter.advance(2)
    assert (short.status, long.status, clock.elapsed) == ("SUCCEEDED", "RUNNING", 5)
    assert interpreter.next_wake() == 12 and interpreter.running == [long]
    interpreter.advance(100)
    assert long.status == "SUCCEEDED" and clock.elapsed == 105 and long.stop_time == 12
    assert interpreter.next_wake() is None


def test_run_with_a_limit_leaves_later_work_running() -> None:
    interpreter = Interpreter(VirtualClock())
    execution = interpreter.start(one({"Type": "Wait", "Seconds": 3600}))
    interpreter.run(limit=60)
    assert execution.status == "RUNNING" and interpreter.clock.elapsed == 60


def test_the_state_machine_timeout_fails_the_execution_with_states_timeout() -> None:
    definition = {**one({"Type": "Wait", "Seconds": 3600}), "TimeoutSeconds": 600}
    interpreter, execution = run(definition)
    assert (execution.status, execution.error) == ("TIMED_OUT", "States.Timeout")
    assert interpreter.clock.elapsed == 600 and execution.event_types[-1] == "ExecutionTimedOut"


def test_stop_aborts_an_execution_where_it_waits() -> None:
    calls: list[Any] = []
    definition = {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 60, "Next": "T"},
            "T": {"Type": "Task", "Resource": FUNCTION, "End": True},
        },
    }
    interpreter = Interpreter(VirtualClock(), lambda f, p: calls.append(p))
    execution = interpreter.start(definition)
    interpreter.advance(30)
    interpreter.stop(execution, error="Deleted", cause="the resource went")
    interpreter.advance(60)
    assert (execution.status, execution.error, execution.cause) == ("ABORTED", "Deleted", "the resource went")
    assert calls == [] and execution.event_types[-1] == "ExecutionAborted" and interpreter.next_wake() is None


def test_a_task_that_stops_its_own_execution_ends_it_there() -> None:
    interpreter = Interpreter(VirtualClock(), lambda f, p: interpreter.stop(interpreter.executions[0]))
    definition = {
        "StartAt": "T",
        "States": {
            "T": {"Type": "Task", "Resource": FUNCTION, "Next": "After"},
            "After": {"Type": "Pass", "End": True},
        },
    }
    execution = interpreter.start(definition)
    interpreter.run()
    assert execution.status == "ABORTED" and "PassStateEntered" not in execution.event_types


def test_history_event_types_are_step_functions_own() -> None:
    """Every event type the interpreter writes is one of the HistoryEventType values of
    botocore's Step Functions model."""
    known = set(botocore.session.get_session().get_service_model("stepfunctions").shape_for("HistoryEventType").enum)
    called: set[str] = set()

    def invoke(function: str, payload: Any) -> Any:  # each function fails its first call
        if function not in called:
            called.add(function)
            raise TaskFailure("Lambda.ServiceException")
        return payload

    task = {"Type": "Task", "Resource": FUNCTION, "Retry": [{"ErrorEquals": ["States.ALL"]}], "End": True}
    optimized = {**task, "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"}}
    bad = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Bad"}}}
    everything = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [one(task), one(optimized), one({"Type": "Map", "ItemProcessor": one({"Type": "Pass"})})],
                "Next": "Broken",
            },
            "Broken": {
                "Type": "Parallel",
                "Branches": [bad, one({"Type": "Map", "ItemProcessor": one({"Type": "Wait", "Seconds": 9})})],
                "Catch": [{"ErrorEquals": ["Bad"], "Next": "Choose"}],
                "Next": "Choose",
            },
            "Choose": {"Type": "Choice", "Choices": [{"Variable": "$.Error", "IsPresent": True, "Next": "Wait"}]},
            "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }
    interpreter = Interpreter(VirtualClock(), invoke)
    ran = interpreter.start(everything, [1, 2])
    failed = interpreter.start(bad)
    stopped = interpreter.start(one({"Type": "Wait", "Seconds": 60}))
    timed_out = interpreter.start({**one({"Type": "Wait", "Seconds": 60}), "TimeoutSeconds": 30})
    interpreter.run(limit=10)
    interpreter.stop(stopped)
    interpreter.run()
    assert [e.status for e in (ran, failed, stopped, timed_out)] == ["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"]
    seen = {kind for execution in interpreter.executions for kind in execution.event_types}
    assert seen <= known, sorted(seen - known)
    lambda_function = {f"LambdaFunction{e}" for e in ("Scheduled", "Started", "Succeeded", "Failed")}
    task_events = {f"Task{e}" for e in ("Scheduled", "Started", "Succeeded", "Failed", "StateEntered", "StateExited")}
    states = {
        f"{t}State{e}" for t in ("Pass", "Wait", "Choice", "Succeed", "Map", "Parallel") for e in ("Entered", "Exited")
    }
    parts = {"MapStateStarted", "MapStateSucceeded", "MapIterationStarted", "MapIterationSucceeded", "FailStateEntered"}
    parts |= {"ParallelStateStarted", "ParallelStateSucceeded", "ParallelStateFailed"}
    ends = {f"Execution{e}" for e in ("Started", "Succeeded", "Failed", "Aborted", "TimedOut")}
    assert seen == lambda_function | task_events | states | parts | ends


def test_the_history_limit_fails_an_execution_that_loops_without_waiting() -> None:
    definition = {
        "StartAt": "Again",
        "States": {
            "Again": {"Type": "Pass", "Next": "Loop?"},
            "Loop?": {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": True, "Next": "Again"}]},
        },
    }
    _, execution = run(definition, {"go": True})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert len(execution.history) == 25_000 and execution.transitions == 12_499


def test_counters_of_state_transitions_and_lambda_invocations() -> None:
    log, execution = mapped(1, ITEMS)
    # Map + per item (Begin, Wait, End) = 1 + 3 x 3 states entered.
    assert execution.transitions == 10 and execution.invocations == 6 == len(log.entries)


def test_an_execution_name_is_used_once() -> None:
    interpreter = Interpreter(VirtualClock())
    interpreter.start(one({"Type": "Succeed"}, end=False), name="once")
    with pytest.raises(ValueError, match="ExecutionAlreadyExists"):
        interpreter.start(one({"Type": "Succeed"}, end=False), name="once")


WAIT = {"Type": "Wait", "Seconds": 1}
DEFINITION_ERRORS: list[tuple[dict[str, Any], str]] = [
    ({"StartAt": "S", "States": {"S": {"Type": "Sleep", "End": True}}}, r"state 'S': Type 'Sleep'"),
    ({"StartAt": "S", "States": {"S": WAIT}}, r"state 'S': field Next or End"),
    ({"StartAt": "S", "States": {"S": {**WAIT, "Next": "Nowhere"}}}, r"state 'S': field Next: 'Nowhere'"),
    ({"StartAt": "X", "States": {"S": {**WAIT, "End": True}}}, r"StartAt 'X'"),
    (
        one({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage"}),
        r"state 'S': field Resource: .*not simulated",
    ),
    (one({"Type": "Pass", "Assign": {"x": 1}}), r"state 'S': field Assign: workflow variables"),
    (one({"Type": "Pass", "QueryLanguage": "JSONata"}), r"state 'S': field QueryLanguage"),
    (one({**WAIT, "SecondsPath": "$.s"}), r"state 'S': field Seconds, SecondsPath"),
    (one({"Type": "Pass", "ResultPath": "$$.State"}), r"state 'S': field ResultPath: cannot point into the context"),
    (
        one(
            {
                "Type": "Map",
                "ItemProcessor": {
                    # ExecutionType is required of a Distributed Map
                    # (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html).
                    "ProcessorConfig": {"Mode": "DISTRIBUTED"},
                    "StartAt": "P",
                    "States": {"P": {"Type": "Succeed"}},
                },
            }
        ),
        r"state 'S': field ItemProcessor.ProcessorConfig.ExecutionType: None: only STANDARD",
    ),
    (
        one({"Type": "Map", "ItemReader": {}, "ItemProcessor": {}}),
        r"state 'S': field ItemReader: a Distributed Map reading its items from S3",
    ),
    (
        one({"Type": "Parallel", "Branches": [{"StartAt": "P", "States": {"P": {"Type": "Pass"}}}]}),
        r"state 'P': field Next or End",
    ),
    (
        one({"Type": "Pass", "Retry": [{"ErrorEquals": ["States.ALL"]}]}),
        r"state 'S': field Retry: not a field of a Pass state",
    ),
    (
        one(
            {
                "Type": "Parallel",
                "Branches": [one({"Type": "Succeed"}, end=False)],
                "Retry": [{"ErrorEquals": ["States.ALL", "X"]}],
            }
        ),
        r"state 'S': field Retry\[0\]\.ErrorEquals: States.ALL must be alone",
    ),
    (
        {
            "StartAt": "C",
            "States": {"C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "StringEquals": 1, "Next": "C"}]}},
        },
        r"state 'C': field Choices\[0\]\.StringEquals: 1 is not a string operand",
    ),
    (
        {
            "StartAt": "C",
            "States": {"C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "StringSoundsLike": "x", "Next": "C"}]}},
        },
        r"state 'C': field Choices\[0\]\.StringSoundsLike: not a comparison operator",
    ),
    ({**one({"Type": "Succeed"}, end=False), "TimeoutSeconds": 0}, r"the state machine: TimeoutSeconds"),
]


@pytest.mark.parametrize(("definition", "message"), DEFINITION_ERRORS, ids=[m for _, m in DEFINITION_ERRORS])
def test_a_definition_the_interpreter_cannot_run_is_refused_naming_the_state_and_field(
    definition: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Interpreter(VirtualClock(), lambda f, p: p).start(definition)


def test_a_task_needs_an_invoke() -> None:
    with pytest.raises(ValueError, match=r"state 'S': field Resource: the interpreter was given no invoke"):
        Interpreter(VirtualClock()).start(one({"Type": "Task", "Resource": FUNCTION}))

"""Checks a definition before an execution starts, so that a malformed definition, or a feature
the simulation's interpreter does not implement (JSONata, variables, a Distributed Map's S3
reader and writer, activity or SDK tasks...), is a :class:`ValueError` naming the state and the
field instead of an execution that runs differently from Step Functions. Each state type takes
the fields its page of the Amazon States Language reference lists
(https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html and the
state pages it links), less those not implemented here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from . import asl_choice, asl_io, asl_paths

_IO = {"InputPath", "OutputPath"}
_FLOW = {"Next", "End"}
_RESULT = {"Parameters", "ResultSelector", "ResultPath"}
_ERRORS = {"Retry", "Catch"}
_DISTRIBUTED = {"Label", "ToleratedFailureCount", "ToleratedFailurePercentage"}
"""The fields only a Distributed Map takes that the simulation runs."""
FIELDS: dict[str, set[str]] = {
    "Pass": _IO | _FLOW | {"Parameters", "Result", "ResultPath"},
    "Task": _IO | _FLOW | _RESULT | _ERRORS | {"Resource", "TimeoutSeconds", "HeartbeatSeconds"},
    "Choice": _IO | {"Choices", "Default"},
    "Wait": _IO | _FLOW | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
    "Succeed": _IO,
    "Fail": {"Error", "Cause", "ErrorPath", "CausePath"},
    "Parallel": _IO | _FLOW | _RESULT | _ERRORS | {"Branches"},
    "Map": _IO
    | _FLOW
    | _RESULT
    | _ERRORS
    | {"ItemsPath", "ItemSelector", "ItemProcessor", "Iterator", "MaxConcurrency", "MaxConcurrencyPath"}
    | _DISTRIBUTED,
}
_COMMON = {"Type", "Comment", "QueryLanguage"}
_WHY = {
    "Assign": "workflow variables are not simulated",
    "Arguments": "JSONata is not simulated",
    "Output": "JSONata is not simulated",
    "Credentials": "cross-account task credentials are not simulated",
    "ItemReader": "a Distributed Map reading its items from S3 is not simulated (give them with ItemsPath)",
    "ItemBatcher": "a Distributed Map's item batches are not simulated",
    "ResultWriter": "a Distributed Map writing its results to S3 is not simulated",
    "ToleratedFailureCountPath": "a tolerated failure threshold is not simulated",
    "ToleratedFailurePercentagePath": "a tolerated failure threshold is not simulated",
}

LAMBDA_FUNCTION = re.compile(r"arn:[\w-]+:lambda:[\w-]+:\d{12}:function:[\w-]+(:[\w$-]+)?")
LAMBDA_INVOKE = re.compile(r"arn:[\w-]+:states:::lambda:invoke")


def check(definition: Any, *, can_invoke: bool) -> None:
    """A :class:`ValueError` for the first problem of ``definition`` found, else nothing."""
    _machine(definition, "the state machine", top=True, can_invoke=can_invoke)


def _machine(machine: Any, where: str, *, top: bool, can_invoke: bool) -> None:
    if not isinstance(machine, Mapping):
        raise ValueError(f"{where}: a definition is an object with StartAt and States")
    allowed = {"StartAt", "States", "Comment"} | (
        {"Version", "TimeoutSeconds", "QueryLanguage"} if top else {"ProcessorConfig"}
    )
    for field in machine:
        if field not in allowed:
            raise ValueError(f"{where}: field {field} is not supported by the simulation's interpreter")
    if machine.get("QueryLanguage", "JSONPath") != "JSONPath":
        raise ValueError(f"{where}: QueryLanguage {machine['QueryLanguage']!r}: only JSONPath is simulated")
    states = machine.get("States")
    if not isinstance(states, Mapping) or not states:
        raise ValueError(f"{where}: States must be a non-empty object")
    if machine.get("StartAt") not in states:
        raise ValueError(f"{where}: StartAt {machine.get('StartAt')!r} is not one of its states")
    if top and "TimeoutSeconds" in machine:
        _positive_int(machine["TimeoutSeconds"], f"{where}: TimeoutSeconds")
    for name, spec in states.items():
        _state(str(name), spec, states, can_invoke=can_invoke)


def _state(name: str, spec: Any, states: Mapping[str, Any], *, can_invoke: bool) -> None:
    where = f"state {name!r}"
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where}: a state is an object")
    kind = spec.get("Type")
    if kind not in FIELDS:
        raise ValueError(f"{where}: Type {kind!r} is not a state type the simulation supports ({', '.join(FIELDS)})")
    for field in spec:
        if field not in FIELDS[kind] | _COMMON:
            why = _WHY.get(field, f"not a field of a {kind} state the simulation supports")
            raise ValueError(f"{where}: field {field}: {why}")
    if spec.get("QueryLanguage", "JSONPath") != "JSONPath":
        raise ValueError(f"{where}: field QueryLanguage: only JSONPath is simulated")
    if _FLOW <= FIELDS[kind]:
        _flow(spec, where, states)
    for field in ("InputPath", "OutputPath", "ResultPath"):
        if spec.get(field) is not None:
            _path(spec[field], f"{where}: field {field}", data_only=field == "ResultPath")
    for field in ("ItemsPath", "SecondsPath", "TimestampPath", "MaxConcurrencyPath"):
        if field in spec:
            _path(spec[field], f"{where}: field {field}")
    for field in ("Parameters", "ItemSelector", "ResultSelector"):
        if field in spec:
            asl_io.check_template(spec[field], f"{where}: field {field}")
    _error_lists(spec, where)
    for index, retrier in enumerate(spec.get("Retry", [])):
        _retrier(retrier, f"{where}: field Retry[{index}]")
    for index, catcher in enumerate(spec.get("Catch", [])):
        _catcher(catcher, f"{where}: field Catch[{index}]", states)
    specific = {"Task": _task, "Choice": _choice, "Wait": _wait, "Fail": _fail, "Parallel": _parallel, "Map": _map}
    if kind in specific:
        specific[kind](spec, where, states, can_invoke)


def _flow(spec: Mapping[str, Any], where: str, states: Mapping[str, Any]) -> None:
    if ("Next" in spec) == bool(spec.get("End")):
        raise ValueError(f"{where}: field Next or End: a {spec['Type']} state takes exactly one of them")
    if "Next" in spec and spec["Next"] not in states:
        raise ValueError(f"{where}: field Next: {spec['Next']!r} is not a state of this machine")


def _path(value: Any, where: str, *, data_only: bool = False) -> None:
    try:
        path = asl_paths.parse(value)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    if data_only and path.context:
        raise ValueError(f"{where}: cannot point into the context object")


def _positive_int(value: Any, where: str, *, minimum: int = 1) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{where}: {value!r} is not an integer >= {minimum}")


def _error_lists(spec: Mapping[str, Any], where: str) -> None:
    for field in ("Retry", "Catch"):
        if field in spec and not isinstance(spec[field], list):
            raise ValueError(f"{where}: field {field}: takes a list")
        for index, entry in enumerate(spec.get(field, [])):
            names = entry.get("ErrorEquals") if isinstance(entry, Mapping) else None
            if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
                raise ValueError(f"{where}: field {field}[{index}].ErrorEquals: a non-empty list of error names")
            last = index == len(spec[field]) - 1
            if asl_paths.ALL in names and (len(names) > 1 or not last):
                raise ValueError(f"{where}: field {field}[{index}].ErrorEquals: States.ALL must be alone and last")


def _retrier(retrier: Any, where: str) -> None:
    if not isinstance(retrier, Mapping):
        raise ValueError(f"{where}: a retrier is an object")
    allowed = {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy"}
    for field in retrier:
        if field not in allowed | {"Comment"}:
            raise ValueError(f"{where}.{field}: not a retrier field")
    if "IntervalSeconds" in retrier:
        _positive_int(retrier["IntervalSeconds"], f"{where}.IntervalSeconds")
    if "MaxAttempts" in retrier:
        _positive_int(retrier["MaxAttempts"], f"{where}.MaxAttempts", minimum=0)
    if "MaxDelaySeconds" in retrier:
        _positive_int(retrier["MaxDelaySeconds"], f"{where}.MaxDelaySeconds")
    rate = retrier.get("BackoffRate", 2.0)
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or rate < 1.0:
        raise ValueError(f"{where}.BackoffRate: {rate!r} is not a number >= 1.0")
    if retrier.get("JitterStrategy", "NONE") not in ("NONE", "FULL"):
        raise ValueError(f"{where}.JitterStrategy: {retrier['JitterStrategy']!r} is not NONE or FULL")


def _catcher(catcher: Any, where: str, states: Mapping[str, Any]) -> None:
    if not isinstance(catcher, Mapping):
        raise ValueError(f"{where}: a catcher is an object")
    for field in catcher:
        if field not in ("ErrorEquals", "Next", "ResultPath", "Comment"):
            raise ValueError(f"{where}.{field}: not a catcher field")
    if catcher.get("Next") not in states:
        raise ValueError(f"{where}.Next: {catcher.get('Next')!r} is not a state of this machine")
    if catcher.get("ResultPath") is not None:
        _path(catcher["ResultPath"], f"{where}.ResultPath", data_only=True)


def _task(spec: Mapping[str, Any], where: str, states: Mapping[str, Any], can_invoke: bool) -> None:
    resource = spec.get("Resource")
    if not isinstance(resource, str):
        raise ValueError(f"{where}: field Resource: a Task needs a Resource ARN")
    if LAMBDA_INVOKE.fullmatch(resource):
        parameters = spec.get("Parameters")
        if not isinstance(parameters, Mapping) or not {"FunctionName", "FunctionName.$"} & set(parameters):
            raise ValueError(f"{where}: field Parameters: lambda:invoke needs Parameters.FunctionName")
    elif not LAMBDA_FUNCTION.fullmatch(resource):
        raise ValueError(
            f"{where}: field Resource: {resource!r} is not simulated (a Lambda function ARN, or "
            "arn:<partition>:states:::lambda:invoke)"
        )
    if not can_invoke:
        raise ValueError(f"{where}: field Resource: the interpreter was given no invoke to run Lambda tasks with")
    for field in ("TimeoutSeconds", "HeartbeatSeconds"):
        if field in spec:
            _positive_int(spec[field], f"{where}: field {field}")


def _choice(spec: Mapping[str, Any], where: str, states: Mapping[str, Any], _: bool) -> None:
    choices = spec.get("Choices")
    if not isinstance(choices, list) or not choices:
        raise ValueError(f"{where}: field Choices: a non-empty list of rules")
    for index, rule in enumerate(choices):
        asl_choice.check(rule, f"{where}: field Choices[{index}]", top=True, states=states)
    if "Default" in spec and spec["Default"] not in states:
        raise ValueError(f"{where}: field Default: {spec['Default']!r} is not a state of this machine")


def _wait(spec: Mapping[str, Any], where: str, states: Mapping[str, Any], _: bool) -> None:
    given = [f for f in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if f in spec]
    if len(given) != 1:
        raise ValueError(f"{where}: field Seconds, SecondsPath, Timestamp or TimestampPath: exactly one, not {given}")
    if "Seconds" in spec:
        _positive_int(spec["Seconds"], f"{where}: field Seconds", minimum=0)
    if "Timestamp" in spec and asl_choice.timestamp(spec["Timestamp"]) is None:
        raise ValueError(f"{where}: field Timestamp: {spec['Timestamp']!r} is not an RFC 3339 timestamp")


def _fail(spec: Mapping[str, Any], where: str, states: Mapping[str, Any], _: bool) -> None:
    for field in ("Error", "Cause"):
        if field in spec and f"{field}Path" in spec:
            raise ValueError(f"{where}: field {field}Path: takes the place of {field}, not both")
        if field in spec and not isinstance(spec[field], str):
            raise ValueError(f"{where}: field {field}: a string")
        if f"{field}Path" in spec:
            asl_io.check_expression(spec[f"{field}Path"], f"{where}: field {field}Path")


def _parallel(spec: Mapping[str, Any], where: str, states: Mapping[str, Any], can_invoke: bool) -> None:
    branches = spec.get("Branches")
    if not isinstance(branches, list) or not branches:
        raise ValueError(f"{where}: field Branches: a non-empty list of state machines")
    for index, branch in enumerate(branches):
        _machine(branch, f"{where}: field Branches[{index}]", top=False, can_invoke=can_invoke)


def _map(spec: Mapping[str, Any], where: str, states: Mapping[str, Any], can_invoke: bool) -> None:
    if ("ItemProcessor" in spec) == ("Iterator" in spec):
        raise ValueError(f"{where}: field ItemProcessor (or the older Iterator): exactly one of them")
    if "ItemSelector" in spec and "Parameters" in spec:
        raise ValueError(f"{where}: field ItemSelector: takes the place of Parameters, not both")
    field = "ItemProcessor" if "ItemProcessor" in spec else "Iterator"
    processor = spec[field]
    if not isinstance(processor, Mapping):
        raise ValueError(f"{where}: field {field}: a state machine (StartAt, States)")
    config = processor.get("ProcessorConfig", {})
    if not isinstance(config, Mapping):
        raise ValueError(f"{where}: field {field}.ProcessorConfig: an object")
    mode = config.get("Mode", "INLINE")
    if mode == "DISTRIBUTED" and field == "ItemProcessor":
        # Child executions are Standard workflows here; Express ones ("at least once", no
        # history of their own) are not simulated
        # (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html).
        if config.get("ExecutionType") != "STANDARD":
            raise ValueError(
                f"{where}: field ItemProcessor.ProcessorConfig.ExecutionType: {config.get('ExecutionType')!r}: "
                "only STANDARD child executions are simulated"
            )
        extra = set(config) - {"Mode", "ExecutionType"}
    elif mode == "INLINE":
        extra = set(config) - {"Mode"}
        inline_only = _DISTRIBUTED & set(spec)
        if inline_only:
            raise ValueError(f"{where}: field {min(inline_only)}: only a Distributed Map takes it")
    elif mode == "DISTRIBUTED":
        raise ValueError(f"{where}: field Iterator: a Distributed Map takes ItemProcessor")
    else:
        raise ValueError(f"{where}: field {field}.ProcessorConfig.Mode: {mode!r}: INLINE or DISTRIBUTED")
    if extra:
        raise ValueError(f"{where}: field {field}.ProcessorConfig.{min(extra)}: not simulated")
    _machine(processor, f"{where}: field {field}", top=False, can_invoke=can_invoke)
    if "MaxConcurrency" in spec:
        _positive_int(spec["MaxConcurrency"], f"{where}: field MaxConcurrency", minimum=0)
    if "Label" in spec and (not isinstance(spec["Label"], str) or not spec["Label"] or len(spec["Label"]) > 40):
        raise ValueError(f"{where}: field Label: a string of 1 to 40 characters")
    for tolerance in ("ToleratedFailureCount", "ToleratedFailurePercentage"):
        if spec.get(tolerance, 0) != 0:
            # What a map run that tolerates failures outputs for the failed items is not
            # simulated: the threshold is 0, the default, or the definition is refused.
            raise ValueError(f"{where}: field {tolerance}: only 0 (no failure tolerated) is simulated")

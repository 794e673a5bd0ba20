"""Every Step Functions state machine the library writes validates with AWS's own Amazon States
Language validator, the ``amazon-states-language-service`` npm package (the validator of AWS
Toolkit's Step Functions editor: https://github.com/aws/amazon-states-language-service).

The definitions are taken from synthesized templates, resolved as CloudFormation would resolve
them (``Fn::Join`` of ARNs), and validated by one Node.js process for the whole session
(``asl_validate.cjs``). :func:`validate_definitions` does it for any template.
"""

from __future__ import annotations

import atexit
import copy
import functools
import json
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypedDict

import aws_cdk as cdk
import pytest

from export_constructs import ExportDestination, RdsSnapshotExportJob
from export_constructs.testing.assembly import StackTemplate, read_assembly
from export_constructs.testing.resolver import Pseudo, Resolver

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("asl_validate.cjs")
PACKAGE = "amazon-states-language-service"
#: How long one validation may take (real seconds) before the Node.js process is taken as hung.
CALL_TIMEOUT = 60.0
STATE_MACHINE = "AWS::StepFunctions::StateMachine"
#: LSP severities (https://microsoft.github.io/language-server-protocol/specifications/lsp/3.17/specification/#diagnosticSeverity).
SEVERITIES = {1: "Error", 2: "Warning", 3: "Information", 4: "Hint"}
ERROR = 1
#: Diagnostics below Error severity that are accepted, by exact message, each with the reason.
#: Empty: no definition of the library draws one. The service raises its own findings and the
#: schema's to Error anyway (getLanguageService in
#: https://github.com/aws/amazon-states-language-service/blob/main/src/service.ts).
ACCEPTED_WARNINGS: Mapping[str, str] = {}


class Diagnostic(TypedDict):
    """One LSP diagnostic as ``asl_validate.cjs`` answers it."""

    severity: int
    message: str
    range: dict[str, dict[str, int]]
    code: int | str | None
    source: str | None


class ValidatorUnavailable(RuntimeError):
    """Node.js or the pinned validator package is missing."""


def check_installation() -> str:
    """The ``node`` executable, once the validator is installed as package.json pins it.

    Raises:
        ValidatorUnavailable: what is missing, and that ``npm ci`` installs it.
    """
    node = shutil.which("node")
    if node is None:
        raise ValidatorUnavailable("the ASL validation needs Node.js: `node` is not on PATH")
    pinned = json.loads((REPO / "package.json").read_text())["devDependencies"].get(PACKAGE)
    manifest = REPO / "node_modules" / PACKAGE / "package.json"
    if pinned is None:
        problem = f"package.json does not pin {PACKAGE}"
    elif not manifest.is_file():
        problem = f"{PACKAGE} is not installed"
    elif (found := json.loads(manifest.read_text())["version"]) != pinned:
        problem = f"{PACKAGE} {found} is installed but package.json pins {pinned}"
    else:
        return node
    raise ValidatorUnavailable(
        f"{problem}: run `npm ci` in {REPO} (`make test` does) to install the pinned npm packages"
    )


class AslValidator:
    """One Node.js process running ``asl_validate.cjs``: :meth:`validate` sends it a definition
    and reads back its diagnostics."""

    def __init__(self) -> None:
        node = check_installation()
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self._process = subprocess.Popen(
            [node, str(SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self._lock = threading.Lock()
        self._count = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put("")  # end of output: the process has exited

    def _failure(self, what: str) -> RuntimeError:
        self._stderr.seek(0)
        return RuntimeError(f"{SCRIPT.name} {what}: {self._stderr.read().strip() or '(nothing on stderr)'}")

    def validate(self, definition: str) -> list[Diagnostic]:
        """The validator's diagnostics of ``definition`` (ASL JSON text), in its order."""
        assert self._process.stdin is not None
        with self._lock:
            self._count += 1
            request_id = self._count
            try:
                self._process.stdin.write(json.dumps({"id": request_id, "definition": definition}) + "\n")
                self._process.stdin.flush()
                line = self._lines.get(timeout=CALL_TIMEOUT)
            except BrokenPipeError:
                line = ""
            except queue.Empty:
                raise self._failure(f"answered nothing in {CALL_TIMEOUT:.0f} s") from None
        if not line:
            raise self._failure(f"exited with code {self._process.wait()}")
        answer = json.loads(line)
        if answer["id"] != request_id or "error" in answer:
            raise RuntimeError(f"{SCRIPT.name} failed on definition {request_id}: {answer}")
        diagnostics: list[Diagnostic] = answer["diagnostics"]
        return diagnostics

    def close(self) -> None:
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._stderr.close()


@functools.cache
def shared_validator() -> AslValidator:
    """The session's one validator process (Node.js and the service's schema load slowly)."""
    validator = AslValidator()
    atexit.register(validator.close)
    return validator


def definition_text(template: Mapping[str, Any], logical_id: str, resolver: Resolver) -> str:
    """The definition of the state machine ``logical_id`` as Step Functions receives it: the
    resolved ``DefinitionString`` (or ``Definition``, as JSON) with its ``DefinitionSubstitutions``
    made (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-stepfunctions-statemachine.html).
    """
    properties = template["Resources"][logical_id]["Properties"]
    if "DefinitionString" in properties:
        text = str(resolver.resolve(properties["DefinitionString"]))
    elif "Definition" in properties:
        text = json.dumps(resolver.resolve(properties["Definition"]))
    else:
        raise ValueError(f"{logical_id}: no DefinitionString or Definition to validate (DefinitionS3Location?)")
    for name, value in resolver.resolve(properties.get("DefinitionSubstitutions", {})).items():
        text = text.replace("${" + name + "}", str(value))
    return text


def validate_definitions(
    template: Mapping[str, Any], stack_name: str = "Stack", validator: AslValidator | None = None
) -> dict[str, list[Diagnostic]]:
    """The validator's diagnostics of every ``AWS::StepFunctions::StateMachine`` of ``template``
    (a synthesized CloudFormation template), by logical id; ``[]`` where a definition is valid.
    Intrinsics resolve to plausible values of a stack ``stack_name`` (:class:`Resolver`)."""
    resolver = Resolver(template, Pseudo(stack_name))
    validator = validator or shared_validator()
    return {
        logical_id: validator.validate(definition_text(template, logical_id, resolver))
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == STATE_MACHINE
    }


def _near(text: str, where: Mapping[str, Mapping[str, int]]) -> str:
    """The text a diagnostic's range covers (positions are UTF-16 units: the same as Python's
    characters for these ASCII definitions), with some context."""
    lines = text.split("\n")
    start, end = where["start"], where["end"]
    line = lines[start["line"]] if start["line"] < len(lines) else ""
    stop = end["character"] if end["line"] == start["line"] else len(line)
    return line[max(0, start["character"] - 30) : stop + 10]


def refused(diagnostics: Mapping[str, list[Diagnostic]], texts: Mapping[str, str] | None = None) -> list[str]:
    """The diagnostics that fail a definition, one readable line each: every Error, and every
    other one whose message :data:`ACCEPTED_WARNINGS` gives no reason for."""
    rows = []
    for logical_id, found in diagnostics.items():
        for d in found:
            if d["severity"] != ERROR and d["message"] in ACCEPTED_WARNINGS:
                continue
            start = d["range"]["start"]
            near = f" near {_near(texts[logical_id], d['range'])!r}" if texts and logical_id in texts else ""
            severity = SEVERITIES.get(d["severity"], str(d["severity"]))
            rows.append(f"{logical_id}: {severity} at {start['line']}:{start['character']}: {d['message']}{near}")
    return rows


# -- the library's state machines -----------------------------------------------------------


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, StackTemplate]:
    """The sample app's stack (six services, each job waiting in its custom resource: the
    Provider framework's waiter) and a stack with an RDS export of the default 6-hour timeout
    (the wait condition and the long-wait tracker's state machine), synthesized once."""
    from sample_app.app import build_app

    outdir = tmp_path_factory.mktemp("asl-cdk.out")
    app, _ = build_app(cdk.App(outdir=str(outdir)), nag=False)
    long_wait = cdk.Stack(app, "LongRdsExport")
    RdsSnapshotExportJob(
        long_wait,
        "OrdersExport",
        source_arn=f"arn:{cdk.Aws.PARTITION}:rds:{long_wait.region}:{long_wait.account}:snapshot:shop-db-2026-12-01",
        destination=ExportDestination(long_wait, "Exports"),
        prefix="rds/orders/",
    )
    app.synth()
    return {stack.name: stack for stack in read_assembly(outdir)}


@pytest.fixture(scope="module")
def validator() -> AslValidator:
    try:
        return shared_validator()
    except ValidatorUnavailable as missing:
        pytest.fail(str(missing), pytrace=False)


def machines(stack: StackTemplate) -> dict[str, str]:
    """Each state machine's logical id -> its definition text."""
    resolver = Resolver(stack.template, Pseudo(stack.name))
    return {
        k: definition_text(stack.template, k, resolver)
        for k, r in stack.resources.items()
        if r["Type"] == STATE_MACHINE
    }


def test_the_stacks_have_the_waiter_the_tracker_and_the_runner(stacks: dict[str, StackTemplate]) -> None:
    """What the validation below covers: the waiter (the Provider framework's, polling
    isComplete) in both stacks, the tracker (the library's own) in the long-wait one and the
    recurring exports' runner in the sample."""
    assert set(stacks) == {"ExportConstructsSample", "LongRdsExport"}
    for name, stack in stacks.items():
        starts = {k: json.loads(text)["StartAt"] for k, text in machines(stack).items()}
        waiters = [k for k, start in starts.items() if start == "framework-isComplete-task"]
        trackers = [k for k in starts if k.startswith("ExportJobProviderTrackerStateMachine")]
        assert len(waiters) == 1, (name, starts)
        assert len(trackers) == (1 if name == "LongRdsExport" else 0), (name, starts)
        # The recurring exports' run state machine (a distributed map of windows) in the sample.
        runners = [k for k in starts if k.startswith("ExportJobProviderRunnerStateMachine")]
        assert len(runners) == (1 if name == "ExportConstructsSample" else 0), (name, starts)


@pytest.mark.parametrize("stack_name", ["ExportConstructsSample", "LongRdsExport"])
def test_every_state_machine_validates(
    stacks: dict[str, StackTemplate], validator: AslValidator, stack_name: str
) -> None:
    stack = stacks[stack_name]
    diagnostics = validate_definitions(stack.template, stack.name, validator)
    assert diagnostics, f"{stack_name} has no state machine"
    problems = refused(diagnostics, machines(stack))
    assert not problems, "\n".join(problems)


# -- the check can fail ---------------------------------------------------------------------


def _broken(stack: StackTemplate, logical_id: str, change: Any) -> dict[str, Any]:
    """A copy of ``stack``'s template whose state machine ``logical_id`` has the definition
    ``change(definition)`` as a plain ``DefinitionString``."""
    template = copy.deepcopy(dict(stack.template))
    definition = stack.definition(logical_id, Resolver(stack.template, Pseudo(stack.name)))
    broken = change(copy.deepcopy(dict(definition)))
    template["Resources"][logical_id]["Properties"]["DefinitionString"] = json.dumps(broken)
    return template


def _next_to_a_missing_state(definition: dict[str, Any]) -> dict[str, Any]:
    definition["States"]["Wait"]["Next"] = "Pol"
    return definition


def _task_without_resource(definition: dict[str, Any]) -> dict[str, Any]:
    del definition["States"]["Poll"]["Resource"]
    return definition


def _wait_of_text_seconds(definition: dict[str, Any]) -> dict[str, Any]:
    definition["States"]["Wait"]["Seconds"] = "60"
    return definition


def _start_at_a_missing_state(definition: dict[str, Any]) -> dict[str, Any]:
    definition["StartAt"] = "Start"
    return definition


@pytest.mark.parametrize(
    ("change", "messages"),
    [
        (_next_to_a_missing_state, ['The value of "Next" property must be the name of an existing state.']),
        (_task_without_resource, ['Missing property "Resource".']),
        (_wait_of_text_seconds, ["Incorrect type. Expected one of integer, JSONata expression."]),
        (_start_at_a_missing_state, ['The value of "StartAt" property must be the name of an existing state.']),
    ],
)
def test_a_broken_tracker_definition_is_refused(
    stacks: dict[str, StackTemplate], validator: AslValidator, change: Any, messages: list[str]
) -> None:
    """The same path as the real definitions, on a tracker definition broken on purpose."""
    stack = stacks["LongRdsExport"]
    (tracker,) = [k for k in machines(stack) if k.startswith("ExportJobProviderTrackerStateMachine")]
    broken = _broken(stack, tracker, change)
    diagnostics = validate_definitions(broken, stack.name, validator)
    assert [d["message"] for d in diagnostics[tracker]] == messages
    assert {d["severity"] for d in diagnostics[tracker]} == {ERROR}
    text = definition_text(broken, tracker, Resolver(broken, Pseudo(stack.name)))
    rows = refused(diagnostics, {tracker: text})
    assert len(rows) == len(messages), rows
    assert all(row.startswith(f"{tracker}: Error at 0:") and " near '" in row for row in rows), rows
    assert not any(found for k, found in diagnostics.items() if k != tracker), "the waiter is untouched"


def test_text_that_is_not_strict_json_is_refused(validator: AslValidator) -> None:
    """Step Functions takes strict JSON: a trailing comma is an error, not a warning."""
    diagnostics = validator.validate('{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true,}}}')
    assert [(d["severity"], d["message"]) for d in diagnostics] == [(ERROR, "Trailing comma")]


def test_a_missing_package_is_named_with_npm_ci(tmp_path: Path) -> None:
    """The script run where no node_modules holds the package (two folders below ``tmp_path``,
    its own idea of the repository) says so and names ``npm ci``."""
    script = tmp_path / "tests" / "constructs" / SCRIPT.name
    script.parent.mkdir(parents=True)
    shutil.copy(SCRIPT, script)
    node = shutil.which("node")
    assert node is not None, "`node` is not on PATH"
    ran = subprocess.run([node, str(script)], input="", capture_output=True, text=True, timeout=60, check=False)
    assert ran.returncode == 3, ran
    assert f"{PACKAGE} is not installed: run `npm ci` in {tmp_path}" in ran.stderr

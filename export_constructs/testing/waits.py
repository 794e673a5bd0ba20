"""The long-wait path in the simulation: a receiver for wait-condition signals on loopback (the
handles' URLs point at it), and a small interpreter of the tracker's state machine (Task,
Choice, Wait, Succeed, Fail) that runs the executions the fake Step Functions recorded, on the
virtual clock."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .fakes.stepfunctions import Execution
from .fakes.stepfunctions import Fake as StepFunctionsFake

Invoke = Callable[[str, Any], Any]
"""Invoke a Lambda function of the template (by its ARN) with a payload; return its answer."""


class SignalReceiver:
    """Records the signals PUT to ``/<handle logical id>``, as CloudFormation's pre-signed
    handle URLs would receive them."""

    def __init__(self) -> None:
        self.signals: dict[str, list[dict[str, Any]]] = {}
        self.problems: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                handle = self.path.split("?", 1)[0].strip("/")
                try:
                    body = json.loads(raw)
                    missing = {"Status", "Reason", "UniqueId", "Data"} - set(body)
                    if missing or body["Status"] not in ("SUCCESS", "FAILURE"):
                        raise ValueError(f"not a wait condition signal: {body!r}")
                except ValueError as error:
                    receiver.problems.append(str(error))
                    self.send_response(400)
                else:
                    receiver.signals.setdefault(handle, []).append(body)
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> SignalReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def url(self, handle: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/{handle}?X-Amz-Signature=simulated"


@dataclass
class Waits:
    """What the long-wait path needs: the fake Step Functions and the signal receiver."""

    stepfunctions: StepFunctionsFake
    signals: SignalReceiver


@dataclass
class Run:
    """One execution being interpreted."""

    execution: Execution
    definition: Mapping[str, Any]
    state: str
    data: Any


def _path_get(data: Any, path: str) -> Any:
    node = data
    for part in path.removeprefix("$").strip(".").split("."):
        if not part:
            continue
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _path_set(data: Any, path: str | None, value: Any) -> Any:
    if path is None or path == "$":
        return value
    parts = path.removeprefix("$.").split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return data


class Interpreter:
    """Runs Step Functions executions of Task (Lambda), Choice (BooleanEquals, StringEquals),
    Wait (Seconds), Succeed and Fail states, as far as the tracker's definition needs."""

    def __init__(self, invoke: Invoke) -> None:
        self._invoke = invoke
        self.runs: dict[str, Run] = {}

    def start(self, execution: Execution, definition: Mapping[str, Any]) -> None:
        """Run ``execution`` from its definition's first state (the caller starts each once)."""
        self.runs[execution.arn] = Run(execution, definition, definition["StartAt"], json.loads(execution.input))

    def tick(self) -> float:
        """Run every live execution until it waits or ends; return how long they wait."""
        waits = []
        for run in self.runs.values():
            if run.execution.status != "RUNNING":
                continue
            wait = self._advance(run)
            if wait:
                waits.append(wait)
        return max(waits, default=0.0)

    def _advance(self, run: Run) -> float:
        for _ in range(100):  # a bound: the tracker's loop always reaches a Wait or an end
            spec = run.definition["States"][run.state]
            kind = spec["Type"]
            if kind == "Task":
                resource = spec["Resource"]
                function = spec.get("Parameters", {}).get("FunctionName", resource)
                try:
                    result = self._invoke(function, run.data)
                except Exception as error:
                    run.execution.status = "FAILED"
                    run.execution.cause = f"{run.state} failed: {error}"
                    return 0.0
                run.data = _path_set(run.data, spec.get("ResultPath", "$"), result)
            elif kind == "Choice":
                nxt = spec.get("Default")
                for choice in spec.get("Choices", []):
                    value = _path_get(run.data, choice["Variable"])
                    if ("BooleanEquals" in choice and value is choice["BooleanEquals"]) or (
                        "StringEquals" in choice and value == choice["StringEquals"]
                    ):
                        nxt = choice["Next"]
                        break
                if nxt is None:
                    run.execution.status = "FAILED"
                    return 0.0
                run.state = nxt
                continue
            elif kind == "Wait":
                run.state = spec["Next"]
                return float(spec["Seconds"])
            elif kind == "Succeed":
                run.execution.status = "SUCCEEDED"
                return 0.0
            elif kind == "Fail":
                run.execution.status = "FAILED"
                return 0.0
            else:
                raise ValueError(f"state type {kind} is not simulated")
            if spec.get("End"):
                run.execution.status = "SUCCEEDED"
                return 0.0
            run.state = spec["Next"]
        raise RuntimeError(f"{run.execution.name} did not reach a Wait or an end")

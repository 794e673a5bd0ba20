"""The long-wait path in the simulation: a receiver for wait-condition signals on loopback (the
handles' URLs point at it), and what the path needs together (:class:`Waits`). The tracker's
executions, which the fake Step Functions records, run in :mod:`.asl`'s interpreter."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .fakes.stepfunctions import Fake as StepFunctionsFake


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

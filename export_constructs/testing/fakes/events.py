"""A fake of Amazon EventBridge's PutEvents (JSON 1.1, botocore's model ``events``), for the
events a recurring export's run sends: it records each entry, with the bus it went to, after
authorizing ``events:PutEvents`` on that bus (the default bus when an entry names none)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .base import IamRequest, ServiceError
from .protocol import BotocoreFake


@dataclass(frozen=True)
class Event:
    """One entry PutEvents accepted."""

    bus: str
    source: str
    detail_type: str
    detail: dict[str, Any]
    time: float
    """The virtual instant it was put."""


class Fake(BotocoreFake):
    name = "EventBridge"
    model_name = "events"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.events: list[Event] = []

    def _bus_arn(self, name: str | None) -> str:
        if name and name.startswith("arn:"):
            return name
        return f"arn:{self.partition}:events:{self.region}:{self.account}:event-bus/{name or 'default'}"

    def iam_request(self, operation: str, params: Any) -> IamRequest:
        if operation != "PutEvents":
            raise ServiceError("UnknownOperationException", f"{operation} is not simulated")
        buses = sorted({self._bus_arn(entry.get("EventBusName")) for entry in params["Entries"]})
        if len(buses) != 1:  # one request per bus is what the run sends; more is not simulated
            raise ServiceError("ValidationException", f"entries for several buses in one request: {buses}")
        return IamRequest({"event-bus": buses[0]})

    def op_PutEvents(self, params: dict[str, Any]) -> dict[str, Any]:
        answers = []
        for entry in params["Entries"]:
            try:
                detail = json.loads(entry.get("Detail", "{}"))
            except ValueError:
                self.problems.append(f"PutEvents: Detail is not JSON: {entry.get('Detail')!r}")
                answers.append({"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."})
                continue
            self.events.append(
                Event(
                    self._bus_arn(entry.get("EventBusName")),
                    str(entry.get("Source", "")),
                    str(entry.get("DetailType", "")),
                    detail,
                    self.clock.elapsed,
                )
            )
            answers.append({"EventId": f"event-{len(self.events)}"})
        failed = sum(1 for a in answers if "ErrorCode" in a)
        return {"FailedEntryCount": failed, "Entries": answers}


__all__ = ["Event", "Fake"]

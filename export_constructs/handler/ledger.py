"""The window ledger of recurring exports: one DynamoDB item per export and source, so that no
window is skipped or exported twice.

An item's ``Watermark`` (epoch ms) says that every window before it was exported: the task of
each COMPLETED. It moves only forward, from one window's start to its end, with a conditional
write: two writers cannot both move it, and nothing moves it past a window that is missing. A
failed or cancelled window leaves it where it is, so the next run exports that window again.
``FlightStart`` / ``FlightTask`` name the task started for the window at the watermark, so a run
that lost track of it (a crashed execution, a retried invocation) adopts it instead of starting
a second export. ``Paused`` keeps runs from starting the source's windows; writing an earlier
``Watermark`` exports those windows again (a backfill).

One more item per export (its ``Source`` is ``<export id># run lock``) is the run lock: one run of an
export at a time, so two runs never work on the same window. A run that finds the lock held by a
live run ends without exporting; the lock expires when the run's state machine would have timed
out (so the next run of a daily schedule, a day later, takes it). An operator who stopped a run
frees it at once by deleting that item.

Conditional writes: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .adapters.base import ClientFactory, error_code

#: The table's partition key (a string): ``<export id>#<source>``.
KEY = "Source"
WATERMARK = "Watermark"
PAUSED = "Paused"
FLIGHT_START = "FlightStart"
FLIGHT_TASK = "FlightTask"
LAST_TASK = "LastTask"
LAST_ERROR = "LastError"
FAILURES = "Failures"
UPDATED = "Updated"
OWNER = "Owner"
EXPIRES = "Expires"
_CONDITION_FAILED = "ConditionalCheckFailedException"
#: The expressions' placeholders for the item's attribute names.
_NAMES = {
    "#w": WATERMARK,
    "#fs": FLIGHT_START,
    "#ft": FLIGHT_TASK,
    "#t": LAST_TASK,
    "#e": LAST_ERROR,
    "#n": FAILURES,
    "#u": UPDATED,
    "#o": OWNER,
    "#x": EXPIRES,
}
_PLACEHOLDER = re.compile(r"#\w+")


@dataclass(frozen=True)
class Entry:
    """What the ledger says of one source of one export."""

    watermark: int
    """Every window that ends by this instant (epoch ms) was exported."""
    paused: bool = False
    flight_start: int | None = None
    """The start of the window whose task :attr:`flight_task` is (None: no task in flight)."""
    flight_task: str = ""
    last_error: str = ""
    failures: int = 0
    """How many of the source's tasks failed (never reset)."""


def lock_key(export_id: str) -> str:
    """The run lock's item of export ``export_id``: a space is in no source's name (log groups,
    ARNs), so it is no source's item."""
    return f"{export_id}# run lock"


def key_of(export_id: str, source: str) -> str:
    """The item of ``source`` in export ``export_id``."""
    return f"{export_id}#{source}"


class Ledger:
    """The ledger in table ``table``, through the client factory's ``dynamodb`` client."""

    def __init__(self, client_factory: ClientFactory, table: str) -> None:
        self._client_factory = client_factory
        self.table = table

    @property
    def _client(self) -> Any:
        return self._client_factory("dynamodb")

    def entry(self, key: str) -> Entry | None:
        """The source's entry, read strongly consistent (a run sees every earlier write); None
        when the source has none yet."""
        item = self._client.get_item(TableName=self.table, Key={KEY: {"S": key}}, ConsistentRead=True).get("Item")
        if not item or WATERMARK not in item:
            return None
        flight = item.get(FLIGHT_START, {}).get("N")
        return Entry(
            watermark=int(item[WATERMARK]["N"]),
            paused=bool(item.get(PAUSED, {}).get("BOOL", False)),
            flight_start=int(flight) if flight is not None else None,
            flight_task=str(item.get(FLIGHT_TASK, {}).get("S", "")),
            last_error=str(item.get(LAST_ERROR, {}).get("S", "")),
            failures=int(item.get(FAILURES, {}).get("N", "0")),
        )

    def begin(self, key: str, watermark: int, now: str) -> None:
        """Give a new source its first watermark (unless another writer gave it one first)."""
        self._conditional(
            Key={KEY: {"S": key}},
            UpdateExpression="SET #w = :w, #u = :now",
            ConditionExpression="attribute_not_exists(#w)",
            ExpressionAttributeValues={":w": {"N": str(watermark)}, ":now": {"S": now}},
        )

    def started(self, key: str, start: int, task: str, now: str, replaces: str = "") -> bool:
        """Note the task started for the window at ``start``, while the watermark is there and no
        other task is in flight for it (but ``replaces``, one that failed): False otherwise, and
        the task in flight stays the one the ledger names."""
        return self._conditional(
            Key={KEY: {"S": key}},
            UpdateExpression="SET #fs = :start, #ft = :task, #u = :now",
            ConditionExpression=(
                "#w = :start AND (attribute_not_exists(#ft) OR #fs <> :start OR #ft = :task OR #ft = :old)"
            ),
            ExpressionAttributeValues={
                ":start": {"N": str(start)},
                ":task": {"S": task},
                ":old": {"S": replaces or task},
                ":now": {"S": now},
            },
        )

    def advance(self, key: str, start: int, end: int, task: str, now: str) -> bool:
        """Move the watermark from ``start`` to ``end``: the window ``[start, end)`` was exported
        by ``task``. False (nothing changes) when it is not at ``start``: another writer recorded
        the window already, or the ledger was rewound or moved by hand."""
        return self._conditional(
            Key={KEY: {"S": key}},
            UpdateExpression="SET #w = :end, #t = :task, #u = :now REMOVE #fs, #ft, #e",
            ConditionExpression="#w = :start",
            ExpressionAttributeValues={
                ":end": {"N": str(end)},
                ":start": {"N": str(start)},
                ":task": {"S": task},
                ":now": {"S": now},
            },
        )

    def failed(self, key: str, start: int, task: str, reason: str, now: str) -> bool:
        """Note that ``task``, the window at ``start``'s task in flight, failed: the watermark
        stays, the task is forgotten (the next attempt starts a new one), the failure is counted.
        False when the ledger names another task in flight (a later run's: it stays)."""
        return self._conditional(
            Key={KEY: {"S": key}},
            UpdateExpression="SET #e = :reason, #u = :now ADD #n :one REMOVE #fs, #ft",
            ConditionExpression="#w = :start AND (attribute_not_exists(#ft) OR #ft = :task)",
            ExpressionAttributeValues={
                ":start": {"N": str(start)},
                ":task": {"S": task},
                ":reason": {"S": reason},
                ":now": {"S": now},
                ":one": {"N": "1"},
            },
        )

    # -- the run lock -------------------------------------------------------------------------

    def lock(self, export_id: str, owner: str, now_ms: int, expires_ms: int) -> str | None:
        """Take the export's run lock for ``owner`` (an execution) until ``expires_ms``; None when
        taken (or already ``owner``'s), else the live run that holds it."""
        key = lock_key(export_id)
        taken = self._conditional(
            Key={KEY: {"S": key}},
            UpdateExpression="SET #o = :owner, #x = :expires",
            ConditionExpression="attribute_not_exists(#o) OR #x <= :now OR #o = :owner",
            ExpressionAttributeValues={
                ":owner": {"S": owner},
                ":expires": {"N": str(expires_ms)},
                ":now": {"N": str(now_ms)},
            },
        )
        if taken:
            return None
        item = self._client.get_item(TableName=self.table, Key={KEY: {"S": key}}, ConsistentRead=True).get("Item")
        return str((item or {}).get(OWNER, {}).get("S", "another run"))

    def unlock(self, export_id: str, owner: str) -> None:
        """Release the run lock if ``owner`` holds it: its item goes (a snapshot export has a
        lock per snapshot, which would otherwise stay for good)."""
        try:
            self._client.delete_item(
                TableName=self.table,
                Key={KEY: {"S": lock_key(export_id)}},
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": OWNER},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except Exception as error:
            if error_code(error) != _CONDITION_FAILED:
                raise

    def _conditional(self, **request: Any) -> bool:
        """One conditional UpdateItem: True if written, False if its condition did not hold. The
        attribute names are those of :data:`_NAMES` its expressions use (DynamoDB refuses unused
        ones)."""
        used = set(_PLACEHOLDER.findall(request["UpdateExpression"] + " " + request["ConditionExpression"]))
        names = {placeholder: name for placeholder, name in _NAMES.items() if placeholder in used}
        try:
            self._client.update_item(TableName=self.table, ExpressionAttributeNames=names, **request)
        except Exception as error:
            if error_code(error) == _CONDITION_FAILED:
                return False
            raise
        return True

"""The window ledger (``handler/ledger.py``) against the DynamoDB fake, whose requests moto
executes: every conditional write is evaluated by an implementation of DynamoDB's condition
expressions, not by these tests.

Besides one test per rule (a source begins once; the watermark moves only from where it is; a
task is noted or forgotten only at the watermark; the run lock), a property test plays random
interleavings of two or three runs of one export over a sequence of windows, with runs dying at
any point and locks expiring, and checks after every step that the windows recorded are a
contiguous prefix, each recorded once, by a task that COMPLETED, with the watermark at the end
of the last; and that once the outages stop, runs alone finish every window.

Budget: a small derandomized one in ``make test``; ``EXPORT_CONSTRUCTS_FUZZ_EXAMPLES=500`` explores
at random, that many examples, and shrinks what it finds.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from export_constructs.handler.ledger import (
    EXPIRES,
    FAILURES,
    KEY,
    LAST_ERROR,
    LAST_TASK,
    OWNER,
    WATERMARK,
    Entry,
    Ledger,
    key_of,
    lock_key,
)
from export_constructs.testing.authorize import AccountPolicies, Authorizer, Role
from export_constructs.testing.fakes.dynamodb import Fake
from export_constructs.testing.fakes.server import ACCESS_KEY, SECRET_KEY
from export_constructs.testing.iam import shared_simulator

ACCOUNT, REGION, TABLE = "123456789012", "us-east-1", "ExportLedger"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
NOW = "2026-11-22T11:00:00Z"

#: Examples of the property test: a local run sets more (and explores at random).
LOCAL_EXAMPLES = int(os.environ.get("EXPORT_CONSTRUCTS_FUZZ_EXAMPLES", "0"))

_names = itertools.count(1)


def fresh(prefix: str) -> str:
    """A name no other test of the module's shared table uses."""
    return f"{prefix}-{next(_names)}"


@pytest.fixture(scope="module")
def fake() -> Iterator[Fake]:
    with Fake(region=REGION, account=ACCOUNT) as service:
        assert isinstance(service, Fake)
        service.create_table(TABLE, KEY)
        yield service
        assert service.problems == []


def client_of(fake: Fake, token: str | None = None) -> Any:
    """A DynamoDB client of the fake (one attempt: a refusal is seen as it is)."""
    return boto3.client(
        "dynamodb",
        endpoint_url=fake.url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture(scope="module")
def ledger(fake: Fake) -> Ledger:
    client = client_of(fake)
    return Ledger(lambda service: client, TABLE)


def item(fake: Fake, key: str) -> dict[str, Any]:
    """The item ``key`` as the table holds it (read from moto, not through the ledger)."""
    (found,) = [i for i in fake.items(TABLE) if i[KEY] == {"S": key}]
    return found


# -- one rule at a time --------------------------------------------------------------------------


def test_a_source_begins_once(fake: Fake, ledger: Ledger) -> None:
    key = key_of(fresh("begin"), "logs")
    assert ledger.entry(key) is None
    ledger.begin(key, 1000, NOW)
    ledger.begin(key, 500, NOW)  # a second writer's first watermark changes nothing
    assert ledger.entry(key) == Entry(watermark=1000)
    assert item(fake, key)[WATERMARK] == {"N": "1000"}


def test_two_writers_advance_from_the_watermark_and_exactly_one_wins(fake: Fake, ledger: Ledger) -> None:
    key = key_of(fresh("race"), "logs")
    ledger.begin(key, 1000, NOW)
    barrier = threading.Barrier(2)
    won: dict[str, bool] = {}

    def writer(task: str) -> None:
        client = client_of(fake)
        mine = Ledger(lambda service: client, TABLE)
        barrier.wait()
        won[task] = mine.advance(key, 1000, 2000, task, NOW)

    threads = [threading.Thread(target=writer, args=(task,)) for task in ("task-a", "task-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(won.values()) == [False, True]
    (winner,) = [task for task, advanced in won.items() if advanced]
    assert ledger.entry(key) == Entry(watermark=2000)
    assert item(fake, key)[LAST_TASK] == {"S": winner}
    # Recorded once: the loser cannot record the window again, nor can anyone skip one.
    assert not ledger.advance(key, 1000, 2000, "task-c", NOW)
    assert not ledger.advance(key, 3000, 4000, "task-c", NOW)
    assert ledger.entry(key) == Entry(watermark=2000)


def test_a_task_is_noted_only_at_the_watermark_and_forgotten_when_its_window_moves_on(ledger: Ledger) -> None:
    key = key_of(fresh("started"), "logs")
    assert not ledger.started(key, 1000, "task-1", NOW)  # no entry: no watermark to match
    ledger.begin(key, 1000, NOW)
    assert not ledger.started(key, 2000, "task-1", NOW)
    assert ledger.entry(key) == Entry(watermark=1000)
    assert ledger.started(key, 1000, "task-1", NOW)
    assert ledger.entry(key) == Entry(watermark=1000, flight_start=1000, flight_task="task-1")
    assert ledger.advance(key, 1000, 2000, "task-1", NOW)
    assert ledger.entry(key) == Entry(watermark=2000)
    assert not ledger.started(key, 1000, "task-2", NOW)  # a window already recorded


def test_a_second_task_for_a_window_is_not_noted_over_the_one_in_flight(ledger: Ledger) -> None:
    """A run that started a task while another's was in flight (a lock that expired under a
    live run) finds the ledger naming the first: it adopts that one; only a task that failed
    is replaced, and only the run whose task it is can mark it failed."""
    key = key_of(fresh("in-flight"), "logs")
    ledger.begin(key, 1000, NOW)
    assert ledger.started(key, 1000, "task-1", NOW)
    assert ledger.started(key, 1000, "task-1", NOW)  # the same task again: idempotent
    assert not ledger.started(key, 1000, "task-2", NOW)
    assert not ledger.failed(key, 1000, "task-2", "another run's task", NOW)
    assert ledger.entry(key) == Entry(watermark=1000, flight_start=1000, flight_task="task-1")
    assert ledger.started(key, 1000, "task-3", NOW, replaces="task-1")  # task-1 failed
    assert ledger.entry(key) == Entry(watermark=1000, flight_start=1000, flight_task="task-3")


def test_a_failed_window_keeps_the_watermark_forgets_the_task_and_is_counted(fake: Fake, ledger: Ledger) -> None:
    key = key_of(fresh("failed"), "logs")
    ledger.begin(key, 1000, NOW)
    assert not ledger.failed(key, 2000, "task-0", "not at the watermark", NOW)
    assert FAILURES not in item(fake, key)
    assert ledger.started(key, 1000, "task-1", NOW)
    assert ledger.failed(key, 1000, "task-1", "task-1 FAILED", NOW)
    assert ledger.entry(key) == Entry(watermark=1000, last_error="task-1 FAILED", failures=1)
    assert ledger.started(key, 1000, "task-2", NOW)
    assert ledger.failed(key, 1000, "task-2", "task-2 CANCELLED", NOW)
    assert item(fake, key)[FAILURES] == {"N": "2"}
    assert ledger.started(key, 1000, "task-3", NOW)
    assert ledger.advance(key, 1000, 2000, "task-3", NOW)
    assert ledger.entry(key) == Entry(watermark=2000, failures=2)  # the error goes with the window, the count stays
    assert LAST_ERROR not in item(fake, key)
    assert not ledger.failed(key, 1000, "task-3", "a late report of an earlier window", NOW)
    assert ledger.entry(key) == Entry(watermark=2000, failures=2)


def test_the_run_lock(fake: Fake, ledger: Ledger) -> None:
    export = fresh("lock")
    assert ledger.lock(export, "run-1", 1000, 5000) is None  # taken
    assert ledger.lock(export, "run-2", 2000, 6000) == "run-1"  # refused while live
    assert ledger.lock(export, "run-2", 4999, 9000) == "run-1"  # live until its expiry instant
    assert ledger.lock(export, "run-1", 4000, 8000) is None  # re-entrant, and extended
    assert item(fake, lock_key(export))[EXPIRES] == {"N": "8000"}
    assert ledger.lock(export, "run-2", 7000, 9000) == "run-1"
    # Taken at its expiry instant: a lock held until the run's timeout (a day) is free for the
    # next run of a daily schedule.
    assert ledger.lock(export, "run-2", 8000, 12000) is None
    assert item(fake, lock_key(export))[OWNER] == {"S": "run-2"}
    ledger.unlock(export, "run-1")  # not the owner: nothing changes
    assert ledger.lock(export, "run-3", 9000, 13000) == "run-2"
    ledger.unlock(export, "run-2")
    assert lock_key(export) not in {i["Source"]["S"] for i in fake.items(TABLE)}  # the item goes with it
    ledger.unlock(export, "run-2")  # released already: nothing to do
    assert ledger.lock(export, "run-3", 9000, 13000) is None
    assert ledger.entry(lock_key(export)) is None  # the lock is no source


def test_a_role_without_update_item_on_the_table_is_denied(fake: Fake) -> None:
    policies = AccountPolicies(ACCOUNT, REGION, "aws")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }

    def role(name: str, actions: list[str]) -> str:
        arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        statement = {"Effect": "Allow", "Action": actions, "Resource": TABLE_ARN}
        policies.roles[arn] = Role(arn, trust, [("Ledger", {"Version": "2012-10-17", "Statement": [statement]})])
        return arn

    authorizer = Authorizer(shared_simulator(), policies)
    authorizer.sessions["writer-token"] = role("Writer", ["dynamodb:GetItem", "dynamodb:UpdateItem"])
    authorizer.sessions["reader-token"] = reader = role("Reader", ["dynamodb:GetItem"])
    key = key_of(fresh("authorized"), "logs")
    fake.authorizer = authorizer
    try:
        writing, reading = client_of(fake, "writer-token"), client_of(fake, "reader-token")
        writer = Ledger(lambda service: writing, TABLE)
        writer.begin(key, 1000, NOW)
        readers = Ledger(lambda service: reading, TABLE)
        assert readers.entry(key) == Entry(watermark=1000)
        with pytest.raises(ClientError) as denied:
            readers.advance(key, 1000, 2000, "task-1", NOW)
        assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
        assert f"{reader} dynamodb:UpdateItem on {TABLE_ARN}" in authorizer.problems[-1]
        assert writer.entry(key) == Entry(watermark=1000)  # nothing was written
        assert writer.advance(key, 1000, 2000, "task-1", NOW)
    finally:
        fake.authorizer = None
    assert authorizer.allowed >= 4
    assert len(authorizer.problems) == 1


# -- the property: random interleavings of runs, with outages -------------------------------------

PERIOD = 100
FIRST = 1000
LOCK_MS = 1000
COMPLETED, FAILED, CANCELLED, CRASHES = "COMPLETED", "FAILED", "CANCELLED", "run crashes before recording"
#: How a new task ends (half of them COMPLETED).
OUTCOMES = st.sampled_from([COMPLETED, COMPLETED, FAILED, CANCELLED])
#: Whether a run dies once its task has ended, before recording it (one in six).
CRASH = st.sampled_from([*[None] * 5, CRASHES])


@dataclass
class World:
    """What the runs share besides the ledger: the clock, the tasks started and the model's view
    of the ledger (checked against the table after every step)."""

    ledger: Ledger
    table: str
    export: str
    windows: list[tuple[int, int]]
    now: int = 0
    tasks: dict[str, tuple[int, str]] = field(default_factory=dict)
    """Each task started: (its window's start, how it ended)."""
    advanced: list[tuple[int, str]] = field(default_factory=list)
    """Each advance that succeeded: (the window's start, the task), in order."""
    holder: tuple[str, int] | None = None
    """Who holds the run lock, until when (as the runs were told)."""
    task_ids: Iterator[int] = field(default_factory=itertools.count)

    @property
    def key(self) -> str:
        return key_of(self.export, "logs")


Draw = Callable[[st.SearchStrategy[Any]], Any]


def run(world: World, owner: str, draw: Draw) -> Iterator[str]:
    """One run (an execution) of the export: lock; then, window after window, plan (read the
    entry), note a new task (or adopt the one in flight), see how it ended, record it. Yields
    after each ledger call, so that the runs' calls interleave; a run dies when the caller stops
    iterating it."""
    ledger, key = world.ledger, world.key
    holder = ledger.lock(world.export, owner, world.now, world.now + LOCK_MS)
    if holder is not None:
        assert world.holder is not None and world.holder[0] == holder and world.holder[1] > world.now
        yield "lock refused"
        return
    if world.holder is not None and world.holder[0] != owner:
        assert world.holder[1] <= world.now, f"{owner} took the lock {world.holder[0]} holds until {world.holder[1]}"
    world.holder = (owner, world.now + LOCK_MS)
    yield "lock"
    starts = [start for start, _ in world.windows]
    while True:
        entry = ledger.entry(key)
        yield "plan"
        if entry is None:
            ledger.begin(key, FIRST, str(world.now))
            yield "begin"
            continue
        if entry.watermark == world.windows[-1][1]:
            break
        assert entry.watermark in starts, f"the watermark {entry.watermark} is at no window's start"
        start = entry.watermark
        end = start + PERIOD
        if entry.flight_start == start and entry.flight_task:
            task = entry.flight_task  # adopted: a run before this one started it
            outcome = world.tasks[task][1]
        else:
            task = f"task-{next(world.task_ids)}"
            outcome = draw(OUTCOMES)
            world.tasks[task] = (start, outcome)
            noted = ledger.started(key, start, task, str(world.now))
            yield "started"
            if not noted:
                continue  # the watermark moved on: plan again
        if draw(CRASH) is not None:
            return  # dies before recording the end of its task
        if outcome == COMPLETED:
            if ledger.advance(key, start, end, task, str(world.now)):
                world.advanced.append((start, task))
            yield "advance"
        else:
            ledger.failed(key, start, task, f"{task} {outcome}", str(world.now))
            yield "failed"
            break  # a failed window ends the run; the next one exports it again
    ledger.unlock(world.export, owner)
    if world.holder is not None and world.holder[0] == owner:
        world.holder = None
    yield "unlock"


def check(world: World, fake: Fake) -> None:
    """The ledger's invariants, and the table as the model has it."""
    starts = [start for start, _ in world.advanced]
    assert starts == [start for start, _ in world.windows[: len(starts)]], f"not a contiguous prefix: {starts}"
    for start, task in world.advanced:
        assert world.tasks[task] == (start, COMPLETED), f"{task} advanced the window at {start}"
    # Read from moto directly, not through the ledger under test.
    items = {i[KEY]["S"]: i for i in fake.items(world.table)}
    source = items.get(world.key)
    if world.advanced:
        assert source is not None and source[WATERMARK] == {"N": str(world.windows[len(starts) - 1][1])}
        assert source[LAST_TASK] == {"S": world.advanced[-1][1]}
    elif source is not None:
        assert source[WATERMARK] == {"N": str(FIRST)}
    lock = [items[k] for k in items if k == lock_key(world.export)]
    if world.holder is None:
        assert all(OWNER not in i for i in lock) or all(int(i[EXPIRES]["N"]) <= world.now for i in lock)
    else:
        (held,) = lock
        assert (held[OWNER]["S"], int(held[EXPIRES]["N"])) == world.holder


def interleaving_budget() -> settings:
    phases = list(Phase) if LOCAL_EXAMPLES else [Phase.explicit, Phase.generate]
    return settings(
        max_examples=LOCAL_EXAMPLES or 25,
        derandomize=not LOCAL_EXAMPLES,
        database=None,  # nothing written into the work tree
        deadline=None,
        phases=phases,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    )


@interleaving_budget()
@given(windows=st.integers(2, 5), slots=st.integers(2, 3), data=st.data())
def test_interleaved_runs_record_each_window_once_in_order(
    fake: Fake, windows: int, slots: int, data: st.DataObject
) -> None:
    # A table of its own: the checks read it whole after every step.
    table = fresh("Ledger")
    fake.create_table(table, KEY)
    client = client_of(fake)
    ledger = Ledger(lambda service: client, table)
    world = World(ledger, table, "export", [(FIRST + i * PERIOD, FIRST + (i + 1) * PERIOD) for i in range(windows)])
    executions = itertools.count(1)

    def draw(strategy: st.SearchStrategy[Any]) -> Any:
        return data.draw(strategy)

    def spawn() -> Iterator[str]:
        return run(world, f"exec-{next(executions)}", draw)

    runs: list[Iterator[str] | None] = [spawn() for _ in range(slots)]
    for _ in range(data.draw(st.integers(10, 60), label="steps")):
        slot = data.draw(st.integers(0, slots - 1), label="slot")
        action = data.draw(st.sampled_from(["step"] * 6 + ["dies", "time passes", "lock expires"]), label="action")
        current = runs[slot]
        if action == "time passes":
            world.now += LOCK_MS // 4
        elif action == "lock expires":
            world.now += LOCK_MS + 1
        elif action == "dies" or current is None:
            runs[slot] = spawn()  # the next scheduled execution
        elif next(current, None) is None:
            runs[slot] = None
        else:
            check(world, fake)  # after each ledger call
    # The outages stop: every run in flight is dead, locks expire, and runs alone finish every
    # window (a window that fails ends a run; there are at most two failures a window).
    world.now += LOCK_MS + 1

    def no_outage(strategy: st.SearchStrategy[Any]) -> Any:
        return COMPLETED if strategy is OUTCOMES else None

    for _ in range(3 * windows + 2):
        for _step in run(world, f"exec-{next(executions)}", no_outage):
            check(world, fake)
        if len(world.advanced) == windows:
            break
    assert [start for start, _ in world.advanced] == [start for start, _ in world.windows]
    end = world.ledger.entry(world.key)
    assert end is not None
    # Everything but the failures counted on the way (never reset).
    assert (end.watermark, end.flight_start, end.flight_task, end.last_error, end.paused) == (
        world.windows[-1][1],
        None,
        "",
        "",
        False,
    )

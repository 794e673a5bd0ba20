"""One run of a recurring export: the tasks of the run state machine.

EventBridge Scheduler starts one execution per run, with the export's description (``Export``:
its service, sources, the windows' period and time zone, the settle time, the S3 prefix
template, the ledger table) and the run's scheduled time (``Time``). The execution calls:

- ``plan``: take the export's run lock, then list the windows due, oldest first: for each source,
  every whole window from its watermark (or the export's start) that ended ``SettleMs`` before
  the run's time, at most ``MaxWindows`` per source; a paused source has none;
- ``advance``, once per window and again after each wait the answer asks for: start the window's
  task through the service's adapter (the one-shot exports' code), or adopt the one already
  started for it; look at it; when it has ended, record it in the ledger and send its event;
- ``report``: count the outcomes, put the metrics, release the lock.

Nothing here waits: the state machine does, so a window that waits for the account's quota or for
its task costs one look per poll interval and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from . import consts
from .adapters.base import BucketNotOwned, JobNotFound, JobSpec, JobState, Phase, error_code, shorten
from .consts import CATCHUP_ALL, CATCHUP_LATEST
from .engine import Engine
from .event import Arn
from .ledger import Entry, Ledger, key_of
from .windows import Period, Zone, iso

LOG = logging.getLogger("export_constructs")

#: The EventBridge source and detail types of the events a run sends, one per window.
EVENT_SOURCE = "export-constructs"
EXPORTED = "Export Window Exported"
FAILED = "Export Window Failed"
#: The CloudWatch namespace and metrics of the runs (dimension ``Export``), written as embedded
#: metric format log lines: no API call, no permission
#: (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
NAMESPACE = "ExportConstructs"
WINDOWS_BEHIND = "WindowsBehind"
FAILED_WINDOWS = "FailedWindows"
EXPORTED_WINDOWS = "ExportedWindows"

#: The step states ``advance`` answers: wait ``Wait`` seconds and ask again, or done.
WAIT = "WAIT"
DONE = "DONE"
#: A window's outcomes.
OUTCOME_EXPORTED = "exported"
OUTCOME_FAILED = "failed"
OUTCOME_SKIPPED = "skipped"
OUTCOME_PAUSED = "paused"
OUTCOME_ALREADY = "exported before"

#: A flight that is a claim, not a task id: ``?<task name>`` (see ``Runner._claim``).
CLAIM = "?"
#: What one window may take of a run's state (its window in the plan, its result in the map's
#: results): a run plans at most :data:`PLAN_BUDGET` bytes of windows, so its states stay far
#: below Step Functions' 256 KiB (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
RESULT_REASON_CHARS = 300
PLAN_BUDGET = 96 * 1024

PLACEHOLDERS = ("source", "snapshot", "yyyy", "MM", "dd", "HH")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")

Emit = Callable[[str], None]


def render_prefix(template: str, source: str, local: datetime, snapshot: str = "") -> str:
    """The S3 prefix of one window: ``{source}`` (without a leading ``/``), ``{snapshot}`` (a
    snapshot export's) and the window start's ``{yyyy}``, ``{MM}``, ``{dd}``, ``{HH}`` in the
    schedule's time zone."""
    values = {
        "source": source.lstrip("/"),
        "snapshot": snapshot,
        "yyyy": f"{local.year:04d}",
        "MM": f"{local.month:02d}",
        "dd": f"{local.day:02d}",
        "HH": f"{local.hour:02d}",
    }
    return _PLACEHOLDER.sub(lambda m: values[m[1]], template)


def window_name(
    export_id: str,
    source: str,
    start: int,
    end: int,
    max_length: int = 512,
    label: str | None = None,
    attempt: int = 0,
) -> str:
    """The task name of one window of one source, the same for every attempt:
    ``<source, readable>-<start, UTC>-<hash of export, source and window>``, at most
    ``max_length`` characters (the readable part gives way: Personalize's job names take 63). The
    readable part is made of ``label`` (the adapter's ``source_label``: a dataset ARN's name), or
    else of the source. A retried snapshot export (``attempt`` > 0) has a name of its own: RDS
    keeps every task's identifier."""
    retried = f"|{attempt}" if attempt else ""
    digest = hashlib.sha256(f"{export_id}|{source}|{start}|{end}{retried}".encode()).hexdigest()[:12]
    stamp = datetime.fromtimestamp(start / 1000, UTC).strftime("%Y%m%dT%H%M")
    room = max(0, min(40, max_length - len(stamp) - len(digest) - 2))
    shown = source if label is None else label
    # Stripped again after the cut: RDS identifiers hold no "--" (the joins add one "-").
    readable = re.sub(r"[^A-Za-z0-9]+", "-", shown).strip("-")[-room:].strip("-") if room else ""
    return f"{readable}-{stamp}-{digest}" if readable else f"{stamp}-{digest}"


class Runner:
    """The run state machine's tasks (see the module docstring), on an :class:`Engine`'s adapters,
    clients and clock. ``emit`` writes a log line as it is (embedded metric format)."""

    def __init__(self, engine: Engine, emit: Emit = print) -> None:
        self._engine = engine
        self._emit = emit

    def run(self, event: Mapping[str, Any]) -> dict[str, Any]:
        action = str(event.get("Action", ""))
        if action == "plan":
            return self.plan(event)
        if action == "advance":
            try:
                return self.advance(event)
            except Exception as error:
                # The state machine catches it and the window fails for this run; its ledger
                # entry (a task in flight, a claim) stays for the next run. Say so on the bus.
                self._errored(event, error)
                raise
        if action == "report":
            return self.report(event)
        raise ValueError(f"unknown action {action!r}: plan, advance or report")

    # -- plan ---------------------------------------------------------------------------------

    def plan(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The run's windows: ``{"Windows": [{"Source", "Start", "End"}...], "Behind": n,
        "Locked": bool}``."""
        export = event["Export"]
        if export.get("Snapshot"):
            return self._plan_snapshot(event)
        ledger = self._ledger(export)
        now = self._run_time(event)
        holder = ledger.lock(str(export["Id"]), str(event["Run"]), now, now + int(export["LockMs"]))
        if holder is not None:
            LOG.info("%s: the run %s is still going; this run exports nothing", export["Id"], holder)
            return {"Windows": [], "Behind": 0, "Locked": False, "Holder": holder}
        period = _period(export)
        until = now - int(export["SettleMs"])
        windows: list[dict[str, Any]] = []
        behind = 0
        for source in export["Sources"]:
            key = key_of(str(export["Id"]), source)
            entry = ledger.entry(key)
            if entry is None:
                ledger.begin(key, _first(export, period, until), iso(now))
                entry = ledger.entry(key)
                assert entry is not None
            due: list[tuple[int, int, int]] = [(s, e, s) for s, e in period.windows(entry.watermark, until)]
            if due and export.get("Catchup", CATCHUP_ALL) == CATCHUP_LATEST:
                # Each task exports everything the source holds: the missed periods are one window
                # from the watermark to the latest period's end, named and prefixed as that period.
                due = [(entry.watermark, due[-1][1], due[-1][0])]
            behind += len(due)
            if entry.paused:
                LOG.info("%s is paused: %d windows wait", key, len(due))
                continue
            windows += [_window(source, *w) for w in due[: int(export["MaxWindows"])]]
        windows.sort(key=lambda w: (w["Start"], w["Source"]))
        windows = _within_budget(windows)
        LOG.info("%s: %d windows due, %d in this run", export["Id"], behind, len(windows))
        self._metrics(export, now, {WINDOWS_BEHIND: behind})
        return {"Windows": windows, "Behind": behind, "Locked": True}

    def _plan_snapshot(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The one window of a snapshot export's run (started by the snapshot's event): the
        snapshot, when it is of one of the export's sources and was neither exported nor failed
        before (a failed one is exported again only when the run's export says ``Retry``: the
        retry command of its failure event)."""
        export = event["Export"]
        trigger = export["Snapshot"]
        adapter = self._engine.adapter(str(export["Service"]))
        idle: dict[str, Any] = {"Windows": [], "Behind": 0, "Locked": False}
        if trigger.get("BackupJob"):  # AWS Backup's event names its job, which names the snapshot
            made = adapter.backup_snapshot(str(trigger["BackupJob"]))
            if made is None:
                LOG.info("%s: the backup job %s made no RDS snapshot", export["Id"], trigger["BackupJob"])
                return idle
            arn, source, created = made
        else:
            arn, event_id = str(trigger["Arn"]), str(trigger.get("Event", ""))
            automated = consts.RDS_SNAPSHOT_EVENTS.get(event_id, ("", True))[1]
            found = adapter.snapshot(arn, automated=automated)
            if found is None:
                LOG.info("%s: the snapshot %s does not exist (any more): nothing to export", export["Id"], arn)
                return idle
            source, created = found
        sources = {str(s).lower() for s in export["Sources"]}
        if source.lower() not in sources:
            LOG.info("%s: %s is a snapshot of %s, not one of this export's sources", export["Id"], arn, source)
            return idle
        ledger, now = self._ledger(export), self._run_time(event)
        holder = ledger.lock(_lock_id(export), str(event["Run"]), now, now + int(export["LockMs"]))
        if holder is not None:
            LOG.info("%s: the run %s exports %s already", export["Id"], holder, arn)
            return {**idle, "Holder": holder}
        key = key_of(str(export["Id"]), arn)
        entry = ledger.entry(key)
        if entry is None:
            ledger.begin(key, 0, iso(now))
            entry = ledger.entry(key)
            assert entry is not None
        if entry.watermark >= 1:
            LOG.info("%s: %s was exported before (%s)", export["Id"], arn, key)
            return {**idle, "Locked": True}
        if entry.failures and not export.get("Retry"):
            LOG.warning("%s: the export of %s failed before (%s); not retried without Retry", export["Id"], arn, key)
            return {**idle, "Locked": True}
        window = {"Source": arn, "Start": 0, "End": 1, "Label": created, "Of": source}
        if entry.failures:
            window["Attempt"] = entry.failures
        return {"Windows": [window], "Behind": 1, "Locked": True}

    # -- advance ------------------------------------------------------------------------------

    def advance(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """One step of one window: ``{"State": "WAIT", "Wait": s, ...}`` to be asked again after
        ``Wait`` seconds with this answer as ``Step``, or ``{"State": "DONE", "Outcome": ...}``."""
        export, window, step = event["Export"], event["Window"], dict(event.get("Step") or {})
        source, start, end = str(window["Source"]), int(window["Start"]), int(window["End"])
        adapter = self._engine.adapter(str(export["Service"]))
        task = str(step.get("Task") or "")
        if not task:
            ledger = self._ledger(export)
            entry = ledger.entry(key_of(str(export["Id"]), source))
            done = _settled(entry, start, end)
            if done is not None:
                return _done(done)
            assert entry is not None
            spec = self._spec(export, window)
            key = key_of(str(export["Id"]), source)
            try:
                found = self._adopt(adapter, entry, start, spec) or self._try_start(
                    adapter, spec, lambda: self._claim(ledger, key, start, spec, entry)
                )
            except _Claimed:
                # Another run noted a task for this window meanwhile: look again next poll.
                return self._queued(export, adapter, window, step, event)
            except _Refused as refused:  # the service refused the task for good: the window failed
                error = refused.__cause__ or refused
                LOG.warning("%s: the task could not start: %s", spec.name, error)
                state = JobState(Phase.FAILED, "NOT STARTED", reason=f"the task could not start: {error}")
                run = str(event.get("Run") or "")
                claim = CLAIM + spec.name
                return self._ended(export, adapter, window, claim, state, run)
            if found is None:
                return self._queued(export, adapter, window, step, event)
            task, observed = found
            if task != entry.flight_task:
                now = self._engine.now().isoformat()
                ledger.started(key, start, task, now, replaces=CLAIM + spec.name)
            step = {"StartedAt": self._engine.now().isoformat()}
            if observed is None:  # just started: look after a poll interval
                return {**step, "State": WAIT, "Wait": int(export["PollSeconds"]), "Task": task}
            state = observed
        else:
            try:
                state = adapter.describe(task)
            except JobNotFound:
                state = JobState(Phase.FAILED, "GONE", reason=f"the task {task} does not exist any more")
        if state.phase is Phase.RUNNING:
            return self._running(export, adapter, task, state, step)
        run = str(event.get("Run") or "")
        timed_out = str(step.get("TimedOut") or "")
        return self._ended(export, adapter, window, task, state, run, timed_out)

    def _adopt(self, adapter: Any, entry: Entry, start: int, spec: JobSpec) -> tuple[str, JobState] | None:
        """The task the ledger names for this window, if it has not failed. A claim (a run
        ended between claiming the window and noting its task) is looked up by the task's
        name, as a one-shot start finds its task: it may have been created, even completed."""
        if entry.flight_start != start or not entry.flight_task:
            return None
        if entry.flight_task.startswith(CLAIM):
            found = adapter.find(spec)
            if found is None or found[1].phase is Phase.FAILED:
                return None
            LOG.info("%s: adopting %s (%s), found by name after a claim", spec.name, found[0], found[1].status)
            return str(found[0]), found[1]
        try:
            state = adapter.describe(entry.flight_task)
        except JobNotFound:
            return None
        if state.phase is Phase.FAILED:
            return None
        LOG.info("%s: adopting %s (%s), named in the ledger", spec.name, entry.flight_task, state.status)
        return entry.flight_task, state

    def _claim(self, ledger: Ledger, key: str, start: int, spec: JobSpec, entry: Entry) -> None:
        """Claim the window in the ledger before its task starts, so that a run that dies before
        noting the task lets the next one find it by name rather than start a second."""
        claim = CLAIM + spec.name
        if entry.flight_task != claim and not ledger.started(
            key, start, claim, self._engine.now().isoformat(), replaces=entry.flight_task
        ):
            raise _Claimed(key)

    def _try_start(self, adapter: Any, spec: JobSpec, claim: Callable[[], None]) -> tuple[str, JobState | None] | None:
        """Adopt the window's running task (a retried invocation's), or claim the window and
        start its task; None while the account's quota is full (the adapter sees its slots
        taken, or the service refuses)."""
        running, full = adapter.look_before_start(spec)
        if running is not None:
            LOG.info("%s: adopting the running %s", spec.name, running[0])
            task, state = running
            return str(task), state
        if full:
            LOG.info("%s: the account's export slots are taken: waiting", spec.name)
            return None
        claim()
        try:
            adapter.confirm_bucket_owner(spec)
        except BucketNotOwned as error:
            raise _Refused(spec.name) from error
        try:
            return str(adapter.start_new(spec)), None
        except Exception as error:
            code = adapter.quota_refusal(error)
            if code is None and _refused_for_good(error):
                raise _Refused(spec.name) from error
            if code is None:
                raise  # throttled, a server error, no answer: the task may exist; the claim stays
            LOG.info("%s: the service's quota is full (%s): waiting", spec.name, code)
            return None

    def _queued(
        self,
        export: Mapping[str, Any],
        adapter: Any,
        window: Mapping[str, Any],
        step: Mapping[str, Any],
        event: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Wait for a slot of the account's quota, at most the export's ``QueueSeconds`` (where
        it has them: a run must end, and report, before its state machine times out); past
        them the window fails with a reason saying so."""
        now = self._engine.now()
        since = str(step.get("QueuedSince") or now.isoformat())
        limit = export.get("QueueSeconds")
        waited = (now - datetime.fromisoformat(since)).total_seconds()
        if limit is not None and waited > int(limit):
            reason = (
                f"the task waited {waited / 3600:.1f} h for one of the account's export slots (the quota) and "
                "did not start: the run must end within its 24 hours"
            )
            LOG.warning("%s %s: %s", export["Id"], window["Source"], reason)
            state = JobState(Phase.FAILED, "NOT STARTED", reason=reason)
            claim = CLAIM + self._spec(export, window).name
            return self._ended(export, adapter, window, claim, state, str(event.get("Run") or ""))
        return {"State": WAIT, "Wait": int(export["PollSeconds"]), "Queued": True, "QueuedSince": since}

    def _running(
        self, export: Mapping[str, Any], adapter: Any, task: str, state: JobState, step: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Wait for a running task; past the export's task timeout, ask the service to stop it
        (once) and wait until it has ended: a task that cannot be stopped is waited for, since
        what it writes would be exported again by the window's next attempt."""
        answer = {**step, "State": WAIT, "Wait": int(export["PollSeconds"]), "Task": task}
        started = datetime.fromisoformat(str(step.get("StartedAt") or self._engine.now().isoformat()))
        limit = int(export["TimeoutSeconds"])
        if not step.get("TimedOut") and self._engine.now() - started > timedelta(seconds=limit):
            stopping = adapter.stop(task, state)
            answer["TimedOut"] = f"the task did not end within {limit} s (its status was {state.status})"
            LOG.warning("%s: %s%s", task, answer["TimedOut"], "; stopping it" if stopping else "")
        return answer

    def _ended(
        self,
        export: Mapping[str, Any],
        adapter: Any,
        window: Mapping[str, Any],
        task: str,
        state: JobState,
        run: str,
        timed_out: str = "",
    ) -> dict[str, Any]:
        """Record the ended task of ``window`` and send its event."""
        source, start, end = str(window["Source"]), int(window["Start"]), int(window["End"])
        key, now = key_of(str(export["Id"]), source), self._engine.now()
        ledger = self._ledger(export)
        detail = {
            **_subject(export, window),
            "task": "" if task.startswith(CLAIM) else task,
            "uri": adapter.output_uri(self._request(export, window)),
        }
        if state.phase is Phase.SUCCEEDED:
            if not ledger.advance(key, start, end, task, now.isoformat()):
                LOG.warning("%s %s: the ledger moved meanwhile; recorded by another writer", source, iso(start))
                return _done(OUTCOME_ALREADY, task)
            self._send(export, EXPORTED, detail)
            return _done(OUTCOME_EXPORTED, task)
        reason = shorten(timed_out or str(state.reason or f"the task ended {state.status}"))
        ledger.failed(key, start, task, reason, now.isoformat())
        retry = _retry_hint(run, snapshot=bool(export.get("Snapshot")))
        self._send(export, FAILED, {**detail, "status": state.status, "reason": reason, "retry": retry})
        return _done(OUTCOME_FAILED, "" if task.startswith(CLAIM) else task, reason)

    # -- report -------------------------------------------------------------------------------

    def report(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Count the run's outcomes, put the metrics and release the lock: ``{"Exported": n,
        "Failed": n, "Summary": text}``."""
        export, plan = event["Export"], event["Plan"]
        results: Sequence[Mapping[str, Any]] = event.get("Results") or []
        outcomes = [str(r.get("Outcome", "")) for r in results]
        exported, failed = outcomes.count(OUTCOME_EXPORTED), outcomes.count(OUTCOME_FAILED)
        now = self._run_time(event)
        if event.get("Failure"):  # the plan, or the map, failed: one failure more
            failed += 1
            if export.get("Snapshot"):  # nothing else would tell of this snapshot
                self._failed_run(export, str(event["Failure"]), str(event.get("Run") or ""))
        if plan.get("Locked"):
            counts = {EXPORTED_WINDOWS: exported, FAILED_WINDOWS: failed}
            if not export.get("Snapshot"):  # a snapshot's run knows of no other snapshot behind
                counts[WINDOWS_BEHIND] = max(0, int(plan.get("Behind", 0)) - exported)
            self._metrics(export, now, counts)
            self._ledger(export).unlock(_lock_id(export), str(event["Run"]))
        failures = [
            f"{r.get('Source')}{'' if export.get('Snapshot') else ' ' + iso(int(r.get('Start', 0)))}: "
            f"{r.get('Reason', '')}"
            for r in results
            if r.get("Outcome") == OUTCOME_FAILED
        ]
        if event.get("Failure"):
            failures.insert(0, f"the run could not go on: {event['Failure']}")
        summary = f"{exported} windows exported, {failed} failed"
        if failures:
            summary = shorten(summary + ": " + "; ".join(failures))
        return {"Exported": exported, "Failed": failed, "Summary": summary}

    # -- helpers ------------------------------------------------------------------------------

    def _failed_run(self, export: Mapping[str, Any], failure: str, run: str) -> None:
        """The failure event of a snapshot's run that could not go on (its plan or its map
        failed), best effort."""
        trigger = export["Snapshot"]
        detail = {
            "export": export["Id"],
            "snapshot": str(trigger.get("Arn") or ""),
            "backupJob": str(trigger.get("BackupJob") or ""),
            "task": "",
            "status": "ERRORED",
            "reason": shorten(f"the run could not go on: {failure}"),
            "retry": _retry_hint(run, snapshot=True),
        }
        try:
            self._send(export, FAILED, {k: v for k, v in detail.items() if v or k == "task"})
        except Exception:
            LOG.exception("could not send the failure event of a run")

    def _run_time(self, event: Mapping[str, Any]) -> int:
        """The run's scheduled time (Scheduler's ``<aws.scheduler.scheduled-time>``), else now. A
        snapshot's run has no schedule: now (its event's time repeats in a retried run, which
        must find an expired lock expired, and its metrics count when the outcome came)."""
        scheduled = event.get("Time")
        if scheduled and not event["Export"].get("Snapshot"):
            return int(datetime.fromisoformat(str(scheduled).replace("Z", "+00:00")).timestamp() * 1000)
        return int(self._engine.now().timestamp() * 1000)

    def _ledger(self, export: Mapping[str, Any]) -> Ledger:
        return Ledger(self._engine.client_factory, str(export["Ledger"]))

    def _request(self, export: Mapping[str, Any], window: Mapping[str, Any]) -> dict[str, Any]:
        """The request of ``window``'s task: named and prefixed by its ``Label`` (the start of the
        period it stands for, or a snapshot's creation), of its ``Of`` (a snapshot's source)."""
        adapter = self._engine.adapter(str(export["Service"]))
        source, start, end = str(window["Source"]), int(window["Start"]), int(window["End"])
        local = Zone.from_json(export["Zone"]).local(int(window.get("Label", start)))
        of = str(window.get("Of") or "")
        if of:
            prefix = render_prefix(str(export["Prefix"]), adapter.source_label(of), local, adapter.source_label(source))
        else:
            prefix = render_prefix(str(export["Prefix"]), adapter.source_label(source), local)
        result: dict[str, Any] = adapter.for_window(export["Request"], source, start, end, prefix)
        return result

    def _spec(self, export: Mapping[str, Any], window: Mapping[str, Any]) -> JobSpec:
        # A name prefix of the export's (Personalize's) lets the run's role be granted its own jobs only.
        head = str(export.get("NamePrefix") or "")
        adapter = self._engine.adapter(str(export["Service"]))
        room = adapter.name_max_length - len(head)
        source, label = str(window["Source"]), int(window.get("Label", window["Start"]))
        # A snapshot's task reads as its database's: the stamp is the snapshot's creation.
        readable = adapter.source_label(str(window.get("Of") or source))
        name = window_name(
            str(export["Id"]), source, label, int(window["End"]), room, readable, int(window.get("Attempt", 0))
        )
        return JobSpec(
            name=head + name,
            request=self._request(export, window),
            stack=Arn.parse(str(export["Stack"])),
            requested_at=self._engine.now(),
            timeout_seconds=int(export["TimeoutSeconds"]),
            bucket_owner=export.get(consts.PROP_BUCKET_OWNER) or None,
        )

    def _errored(self, event: Mapping[str, Any], error: BaseException) -> None:
        """The failure event of a window whose step raised (best effort: a bus that refuses it
        must not hide the error itself)."""
        try:
            export, window = event["Export"], event["Window"]
            reason = shorten(f"the run could not go on with this window: {type(error).__name__}: {error}")
            detail = {
                **_subject(export, window),
                "task": str((event.get("Step") or {}).get("Task") or ""),
                "status": "ERRORED",
                "reason": reason,
                "retry": _retry_hint(str(event.get("Run") or ""), snapshot=bool(export.get("Snapshot"))),
            }
            self._send(export, FAILED, detail)
        except Exception:
            LOG.exception("could not send the failure event of a window")

    def _send(self, export: Mapping[str, Any], detail_type: str, detail: Mapping[str, Any]) -> None:
        """One event on the export's bus (default: the account's default bus)."""
        entry = {"Source": EVENT_SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail)}
        if export.get("EventBus"):
            entry["EventBusName"] = str(export["EventBus"])
        answer = self._engine.client_factory("events").put_events(Entries=[entry])
        if answer.get("FailedEntryCount"):
            LOG.error("EventBridge refused the event %s: %s", detail_type, answer.get("Entries"))

    def _metrics(self, export: Mapping[str, Any], now_ms: int, values: Mapping[str, int]) -> None:
        """One embedded-metric-format line with ``values`` (dimension ``Export``)."""
        self._emit(
            json.dumps(
                {
                    "_aws": {
                        "Timestamp": now_ms,
                        "CloudWatchMetrics": [
                            {
                                "Namespace": NAMESPACE,
                                "Dimensions": [["Export"]],
                                "Metrics": [{"Name": name, "Unit": "Count"} for name in values],
                            }
                        ],
                    },
                    "Export": str(export["Id"]),
                    **values,
                }
            )
        )


class _Refused(Exception):
    """The service refused to start the task (a client error that is no throttling): no task."""


def _refused_for_good(error: BaseException) -> bool:
    """Whether ``error`` says the request was refused and nothing started: an AWS client error
    (HTTP 4xx) other than throttling. Anything else (5xx, throttling, no answer) may hide a task
    that was created."""
    response = getattr(error, "response", None)
    if not isinstance(response, Mapping):
        return False
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    code = error_code(error)
    throttled = "Throttl" in code or code in ("TooManyRequestsException", "RequestLimitExceeded", "SlowDown")
    return 400 <= status < 500 and not throttled


class _Claimed(Exception):
    """Another run noted a task (or a claim) for the window since this one read the ledger."""


def _done(outcome: str, task: str = "", reason: str = "") -> dict[str, Any]:
    """A window's last answer: the state machine's ``Outcome`` state reads each of these keys.
    The reason is cut to :data:`RESULT_REASON_CHARS` here: the run's results hold one per window
    in a state of at most 256 KiB (the full reason is in the window's event)."""
    return {"State": DONE, "Outcome": outcome, "Task": task, "Reason": reason[:RESULT_REASON_CHARS]}


def _window(source: str, start: int, end: int, label: int) -> dict[str, Any]:
    """A window of the plan; ``Label``: the start of the period it is named and prefixed by, when
    that is not ``Start`` (a latest-only catch-up's window)."""
    window: dict[str, Any] = {"Source": source, "Start": start, "End": end}
    if label != start:
        window["Label"] = label
    return window


def _within_budget(windows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The oldest windows whose plan entries and results fit :data:`PLAN_BUDGET` (the rest wait
    for the next run)."""
    taken: list[dict[str, Any]] = []
    size = 0
    for window in windows:
        size += len(json.dumps(window)) + len(str(window["Source"])) + RESULT_REASON_CHARS + 100
        if size > PLAN_BUDGET and taken:
            break
        taken.append(window)
    return taken


def _retry_hint(run: str, snapshot: bool = False) -> str:
    """What to run to export a failed window again now, rather than at the next run: the same
    run again (its input holds the export and the run's time, so it plans the same windows). A
    snapshot has no next run: its run again, with the export's ``Retry`` set, exports it under a
    new task name (the export's description reaches every task of the run; the run's input
    around it does not)."""
    if snapshot:
        again = "The snapshot is not exported again by itself."
        sooner = "To retry, once this run has ended"
        extra = " | jq -c '.Export.Retry = true'"
    else:
        again = "The next run exports this window again (the ledger's watermark stays at its start)."
        sooner = "To retry sooner, once this run has ended (it holds the export's run lock until then)"
        extra = ""
    if ":execution:" not in run:
        return again
    head, _, rest = run.partition(":execution:")
    machine = f"{head}:stateMachine:{rest.split(':', 1)[0].split('/', 1)[0]}"
    return (
        f"{again} {sooner}: aws stepfunctions start-execution --state-machine-arn {machine} --input "
        f'"$(aws stepfunctions describe-execution --execution-arn {run} --query input --output text{extra})"'
    )


def _lock_id(export: Mapping[str, Any]) -> str:
    """The run lock's id: the export's, or its trigger's (each snapshot's run is its own: the
    snapshot's, or the AWS Backup job's that made it)."""
    trigger = export.get("Snapshot")
    if not trigger:
        return str(export["Id"])
    return f"{export['Id']}#{trigger.get('Arn') or 'backup job ' + str(trigger.get('BackupJob'))}"


def _subject(export: Mapping[str, Any], window: Mapping[str, Any]) -> dict[str, Any]:
    """What a window's event is about: the export, the source and the window (a snapshot
    export's: the source and the snapshot)."""
    if window.get("Of"):
        return {"export": export["Id"], "source": window["Of"], "snapshot": window["Source"]}
    start, end = int(window["Start"]), int(window["End"])
    return {
        "export": export["Id"],
        "source": window["Source"],
        "window": {"start": iso(start), "end": iso(end), "startMillis": start, "endMillis": end},
    }


def _settled(entry: Entry | None, start: int, end: int) -> str | None:
    """Why the window needs no task now (None: it does)."""
    if entry is None:
        return OUTCOME_SKIPPED  # the source's entry was deleted since the plan
    if entry.paused:
        return OUTCOME_PAUSED
    if entry.watermark >= end:
        return OUTCOME_ALREADY
    if entry.watermark != start:
        return OUTCOME_SKIPPED  # an earlier window of the source is missing: exported first, next run
    return None


def _period(export: Mapping[str, Any]) -> Period:
    return Period(str(export["Period"]), Zone.from_json(export["Zone"]))


def _first(export: Mapping[str, Any], period: Period, until: int) -> int:
    """Where a new source begins: the export's start, or else the last window that has settled
    (so the first run exports one window per source)."""
    if export.get("StartMs") is not None:
        return period.floor(int(export["StartMs"]))
    return period.floor(period.floor(until) - 1)

"""The deploy table of ``make bench`` (issue 15): N Forecast export jobs in one stack, deployed in
the offline simulation on its virtual clock, against the service's quota of Q concurrent jobs.

For N = 1, 10 and 50, with the provider's default ``max_concurrent`` (Forecast's quota: the jobs
run in 3 lanes, the others wait in CloudFormation) and with ``max_concurrent`` None (all start at
once; the service's refusals queue them): the virtual time until every job resource is created, against the limit
ceil(N / Q) x D (D: the time one job takes on its own); per job, the Lambda invocations (onEvent
and every isComplete), the Step Functions state transitions of the provider's waiter (one per
isComplete attempt, a retry being a transition, and one to end: an estimate from the waiter's
definition, which the simulation does not execute state by state) and the Forecast API calls.

``python -m bench.deploy`` prints the table alone.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Sequence

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

DEPLOY_JOBS = (1, 10, 50)
QUOTA = 3  # Forecast's documented quota of parallel export jobs (the fake enforces it)
INTERVAL_SECONDS = 30  # the provider's query interval


def _simulate(jobs: int, lanes: bool) -> object:
    import aws_cdk as cdk

    from export_constructs import ExportDestination, ExportJobProvider, ForecastExportJob
    from export_constructs.testing import simulate

    stack = cdk.Stack(cdk.App(), "DeployBench")
    if not lanes:
        ExportJobProvider(stack, ExportJobProvider.ID, max_concurrent={"Forecast": None})
    destination = ExportDestination(stack, "Exports")
    forecast = f"arn:{stack.partition}:forecast:{stack.region}:{stack.account}:forecast/demand"
    for n in range(jobs):
        ForecastExportJob(stack, f"Demand{n}", destination=destination, forecast_arn=forecast)
    return simulate(stack, delete=False)


def table(log: Callable[[str], None] = lambda _: None, counts: Sequence[int] = DEPLOY_JOBS) -> tuple[list[str], bool]:
    """The table's Markdown lines, and whether every N met ceil(N/Q) x D plus two intervals."""
    rows, ok = [], True
    duration = 0.0
    for jobs, lanes in [(n, lanes) for lanes in (True, False) for n in counts]:
        log(f"deploy: simulating {jobs} Forecast job(s), max_concurrent {QUOTA if lanes else None}")
        result = _simulate(jobs, lanes)
        creates = [s for s in result.steps if s.request_type == "Create"]  # type: ignore[attr-defined]
        failed = [s for s in creates if s.status != "SUCCESS"]
        if failed:
            raise RuntimeError(f"{len(failed)} of {jobs} jobs failed: {failed[0].reason}")
        complete = max(s.started_at + s.simulated_seconds for s in creates)
        if jobs == 1 or not duration:
            duration = complete
        limit = math.ceil(jobs / QUOTA) * duration
        within = complete <= limit + 2 * INTERVAL_SECONDS
        ok = ok and within
        invocations = sum(1 + s.polls for s in creates) / jobs
        transitions = sum(s.polls + 1 for s in creates) / jobs
        calls = [c for c in result.calls if c.service == "Forecast"]  # type: ignore[attr-defined]
        refused = sum(1 for c in calls if c.error == "LimitExceededException")
        queued = max(s.started_at + int(s.data.get("QueuedSeconds", "0")) for s in creates)
        rows.append(
            f"| {QUOTA if lanes else 'None'} | {jobs} | {complete:.0f} s | {limit:.0f} s "
            f"| {'yes' if within else 'NO'} | {queued:.0f} s "
            f"| {invocations:.1f} | {transitions:.1f} | {len(calls) / jobs:.1f} | {refused / jobs:.1f} |"
        )
    lines = [
        f"Deploy on the simulation's virtual clock: N Forecast export jobs in one stack, quota Q = {QUOTA} "
        f"concurrent jobs, D = {duration:.0f} s (one job alone), query interval {INTERVAL_SECONDS} s:",
        "",
        "| max_concurrent | N | stack complete | ceil(N/Q) x D | within + 2 intervals | longest wait to start "
        "| Lambda invocations / job | waiter state transitions / job (est.) | Forecast API calls / job "
        "| of which refused (quota) / job |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
        *rows,
    ]
    return lines, ok


def main() -> int:
    lines, ok = table(lambda message: print(message, file=sys.stderr, flush=True))
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""``python -m export_constructs.testing [cdk.out] [--scenario SCENARIO | SERVICE=SCENARIO ...]``:
simulate a synthesized app's export jobs offline and print their lifecycle line by line.

A CI gate: the exit code is 0 when every event succeeded and the fake services found no problem
in the handler's requests, 1 when an event failed or a problem was found (the last line says
which), and 2 for a usage error (an unknown service or scenario, no cloud assembly, or - with
``EXPORT_CONSTRUCTS_AUTHORIZE=1`` - no Node.js or iam-simulate packages: the message gives the
``npm install`` line)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._text import plural
from ..handler import consts
from .assembly import EXPORT_JOB_TYPE, StackTemplate, read_assembly
from .fakes.jobs import Scenario
from .iam import AuthorizationUnavailable
from .results import SimulationResult
from .simulate import _check_services, _scenario_of, simulate


def _scenario_argument(text: str) -> tuple[str, Scenario]:
    """``[SERVICE=]SCENARIO`` as (service or "", scenario)."""
    service, _, value = text.rpartition("=")
    try:
        return service, _scenario_of(value, f" in {text!r}")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: list[str] | None = None) -> int:
    """Run the simulation the command line asks for; return the exit code (0 all green, 1 an
    event failed or a problem was found); exit with 2 on a usage error."""
    parser = argparse.ArgumentParser(prog="python -m export_constructs.testing", description=__doc__)
    parser.add_argument("assembly", nargs="?", default="cdk.out", help="cloud assembly folder (default: cdk.out)")
    parser.add_argument(
        "--scenario",
        action="append",
        default=[],
        type=_scenario_argument,
        metavar="[SERVICE=]SCENARIO",
        help=f"one of {', '.join(s.value for s in Scenario)}, for all services or one (repeatable)",
    )
    parser.add_argument(
        "--missing-source",
        action="append",
        default=[],
        metavar="SOURCE",
        help="a source that does not exist (an ARN, a log group name or a Pinpoint application id; repeatable): "
        "its job fails as the service answers a missing source. Every other source of the account and Region exists",
    )
    parser.add_argument("--keep", action="store_true", help="do not delete the stack at the end")
    args = parser.parse_args(argv)
    try:
        stacks = read_assembly(Path(args.assembly))
    except FileNotFoundError as error:
        parser.error(str(error))
    services = [service for stack in stacks for service in stack.services()]
    chosen: dict[str, Scenario] = {}
    default = Scenario.SUCCESS
    for service, scenario in args.scenario:
        if service:
            try:
                _check_services(
                    [service], services, f"the stacks in {args.assembly}", f" in --scenario {service}={scenario}"
                )
            except ValueError as error:
                parser.error(str(error))
            chosen[service] = scenario
        else:
            default = scenario
    try:
        result = simulate(
            args.assembly,
            scenario={service: chosen.get(service, default) for service in services},
            delete=not args.keep,
            log=print,
            missing_sources=args.missing_source,
        )
    except AuthorizationUnavailable as error:  # a set-up step is missing: a usage error, not a failed check
        parser.error(str(error))
    for problem in result.problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    failed = result.failures
    print(
        f"simulated {plural(len(result.steps), 'event')} of {plural(export_jobs(stacks), 'export job')}: "
        f"{len(result.steps) - len(failed)} succeeded, {len(failed)} failed; "
        f"{plural(len(result.calls), 'API call')}, {plural(len(result.problems), 'problem')} in them"
    )
    if result.authorization:
        print(f"authorization (iam-simulate): {result.authorization}")
    print(_verdict(result))
    return 0 if result.ok else 1


def export_jobs(stacks: list[StackTemplate]) -> int:
    """How many export jobs the stacks hold: their job resources, not the result resources that
    read a long-waiting job's attributes (nor its wait condition)."""
    return sum(
        1
        for stack in stacks
        for resource in stack.resources.values()
        if str(resource.get("Type", "")).startswith(EXPORT_JOB_TYPE)
        and resource.get("Properties", {}).get(consts.PROP_MODE) != consts.MODE_REPORT
    )


def _verdict(result: SimulationResult) -> str:
    """The last line: PASSED, or FAILED with each failed event (path, event, reason) and the
    number of problems."""
    failed = [s for s in result.failures if s.status == "FAILED"]
    cancelled = len(result.failures) - len(failed)
    why = []
    if failed:
        events = "; ".join(
            f"{s.path} {s.request_type} [{s.phase}]: {' '.join(s.reason.split()) or 'no reason'}" for s in failed
        )
        why.append(f"{plural(len(failed), 'event')} failed: {events}")
    if cancelled:
        why.append(f"{plural(cancelled, 'event')} cancelled because of it")
    if result.problems:
        why.append(
            f"the fake services found {plural(len(result.problems), 'problem')} in the handler's requests "
            "(PROBLEM lines)"
        )
    if not why:
        return "PASSED: every event succeeded and the fake services found no problem"
    return "FAILED: " + ", and ".join(why)


if __name__ == "__main__":
    sys.exit(main())

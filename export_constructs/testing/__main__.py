"""``python -m export_constructs.testing [cdk.out] [--scenario SCENARIO | SERVICE=SCENARIO ...]``:
simulate a synthesized app's export jobs offline and print their lifecycle line by line."""

from __future__ import annotations

import argparse
import sys

from .fakes.base import Scenario
from .simulate import simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m export_constructs.testing", description=__doc__)
    parser.add_argument("assembly", nargs="?", default="cdk.out", help="cloud assembly folder (default: cdk.out)")
    parser.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="[SERVICE=]SCENARIO",
        help=f"one of {', '.join(s.value for s in Scenario)}, for all services or one (repeatable)",
    )
    parser.add_argument("--keep", action="store_true", help="do not delete the stack at the end")
    args = parser.parse_args(argv)
    chosen: dict[str, Scenario] = {}
    default = Scenario.SUCCESS
    for item in args.scenario:
        service, _, value = item.rpartition("=")
        try:
            scenario = Scenario(value)
        except ValueError:
            parser.error(f"unknown scenario {value!r}")
        if service:
            chosen[service] = scenario
        else:
            default = scenario
    result = simulate(
        args.assembly,
        scenario=lambda service: chosen.get(service, default),
        delete=not args.keep,
        log=print,
    )
    for problem in result.problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    failed = [s for s in result.steps if s.status == "FAILED"]
    print(
        f"simulated {len(result.steps)} events of {len({s.logical_id for s in result.steps})} export jobs: "
        f"{len(result.steps) - len(failed)} succeeded, {len(failed)} failed; "
        f"{len(result.calls)} API calls, {len(result.problems)} problems in them"
    )
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())

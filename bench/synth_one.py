"""Synthesize one benchmark configuration in this (fresh) process and print its figures as one
line of JSON: ``python -m bench.synth_one --mode library --jobs 100 --outdir DIR``.

Modes: ``empty`` (an app with one empty stack; imports aws-cdk-lib only, as any CDK app does),
``library`` (:func:`bench.jobs.library_stack`) and ``handwritten``
(:func:`bench.jobs.handwritten_stack`). The parent process times the whole process; the times
printed here are in-process: imports, building the constructs, and ``app.synth()``.
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()

import argparse  # noqa: E402 - the clock starts before any import
import json  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=("empty", "library", "handwritten"), required=True)
    parser.add_argument("--jobs", type=int, default=0)
    parser.add_argument("--outdir", type=Path, required=True)
    args = parser.parse_args(argv)

    import aws_cdk as cdk

    if args.mode == "empty":
        imported = time.perf_counter()
        app = cdk.App(outdir=str(args.outdir))
        stack = cdk.Stack(app, "Bench", env=cdk.Environment(account="123456789012", region="us-east-1"))
    else:
        from bench import jobs

        imported = time.perf_counter()
        app = cdk.App(outdir=str(args.outdir))
        stack = jobs.MODES[args.mode](app, args.jobs)
    built = time.perf_counter()
    app.synth()
    synthesized = time.perf_counter()

    template_path = args.outdir / f"{stack.artifact_id}.template.json"
    template = json.loads(template_path.read_text())
    print(
        json.dumps(
            {
                "mode": args.mode,
                "jobs": args.jobs,
                "resources": len(template.get("Resources", {})),
                "template_bytes": template_path.stat().st_size,
                "import_s": imported - _STARTED,
                "build_s": built - imported,
                "synth_s": synthesized - built,
                "in_process_s": synthesized - _STARTED,
            }
        )
    )


if __name__ == "__main__":
    main()

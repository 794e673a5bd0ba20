"""``make bench``: synthesize an empty app, 1/10/100/200 export jobs with the library and 1/10/25
the hand-written way, each in a fresh Python process, and print one table with the targets; then
the deploy table (:mod:`bench.deploy`) and the recurring-export table (:mod:`bench.recurring`),
both on the simulation's virtual clock.

Run ``python -m bench --help`` for the options. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

# The targets.
MAX_FIRST_JOB_RESOURCES = 25
MAX_RESOURCES_PER_JOB = 2
MAX_BYTES_PER_JOB = 1_536
MAX_RESOURCES = 500
MAX_TEMPLATE_BYTES = 1_000_000
MAX_SYNTH_RATIO_AT_100 = 1.5
#: 50 KB for the one-shot handler; the same asset now also runs the recurring exports (runs,
#: ledger, windows: ~37 KB of source), hence 64 KB.
MAX_ASSET_BYTES = 64 * 1024

LIBRARY_JOBS = (1, 10, 100, 200)
HANDWRITTEN_JOBS = (1, 10, 25)
#: Job counts whose template sizes give each service's per-job cost: 1-3 while a service's
#: prefixes are listed, 20-23 across the point where they collapse (more than 20).
STEP_COUNTS = (1, 2, 3, 20, 21, 22, 23)


@dataclass(frozen=True)
class Config:
    mode: str
    jobs: int

    @property
    def label(self) -> str:
        return "empty app" if self.mode == "empty" else f"{self.mode} x{self.jobs}"


@dataclass
class Result:
    resources: int = 0
    template_bytes: int = 0
    walls: list[float] = field(default_factory=list)
    in_process: list[float] = field(default_factory=list)
    outdir: Path | None = None

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def fastest(self) -> float:
        return min(self.walls)

    @property
    def synth(self) -> float:
        return statistics.median(self.in_process)

    def paired_ratio(self, baseline: Result) -> float:
        """The median over rounds of this wall / the baseline's wall in the same round: a slow
        stretch of a shared machine weighs on both sides of each ratio."""
        return statistics.median(w / b for w, b in zip(self.walls, baseline.walls, strict=True))


def run_config(config: Config, outdir: Path) -> tuple[float, dict[str, float]]:
    """One fresh process; its wall time and the figures it prints."""
    command = [
        sys.executable,
        "-m",
        "bench.synth_one",
        "--mode",
        config.mode,
        "--jobs",
        str(config.jobs),
        "--outdir",
        str(outdir),
    ]
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    # The warm-up writes the library's bytecode, as installing a wheel does (aws-cdk-lib's is
    # written when pip installs it): otherwise a shell with PYTHONDONTWRITEBYTECODE set would
    # time recompiling export_constructs in every library run and in no empty-app run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{config.label} failed:\n{done.stderr[-4000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return wall, figures


def measure(configs: Sequence[Config], runs: int, workdir: Path, log: Callable[[str], None]) -> dict[Config, Result]:
    """``runs`` rounds over every configuration in turn (so a slow moment of the machine is
    spread over all of them), after one untimed warm-up of each."""
    results = {c: Result() for c in configs}
    for round_ in range(runs + 1):
        for config in configs:
            outdir = workdir / f"{config.mode}-{config.jobs}-{round_}"
            wall, figures = run_config(config, outdir)
            result = results[config]
            if round_ == 0:  # warm-up: file caches, bytecode; keeps its cloud assembly
                result.resources = int(figures["resources"])
                result.template_bytes = int(figures["template_bytes"])
                result.outdir = outdir
                log(f"  warm-up {config.label}: {wall:.1f} s")
                continue
            assert (result.resources, result.template_bytes) == (figures["resources"], figures["template_bytes"])
            result.walls.append(wall)
            result.in_process.append(figures["in_process_s"])
        if round_:
            log(f"  round {round_}/{runs} done")
    return results


# -- per-service steps ---------------------------------------------------------------------------


def service_steps() -> dict[str, dict[int, tuple[int, int]]]:
    """service -> {jobs: (resources, template bytes)} for single-service stacks."""
    import aws_cdk as cdk

    from bench import jobs

    sizes: dict[str, dict[int, tuple[int, int]]] = {}
    for service in jobs.BUILDERS:
        sizes[service] = {}
        for count in STEP_COUNTS:
            app = cdk.App()
            stack = jobs.library_stack(app, count, [service])
            template = app.synth().get_stack_by_name(stack.stack_name).template
            sizes[service][count] = (len(template["Resources"]), len(json.dumps(template, indent=1)))
    return sizes


# -- the handler asset ---------------------------------------------------------------------------


def handler_asset(outdir: Path) -> Path:
    """The handler's code asset folder in a cloud assembly (the zip asset holding handler/entry.py)."""
    for manifest in outdir.glob("*.assets.json"):
        for asset in json.loads(manifest.read_text()).get("files", {}).values():
            source = asset["source"]
            folder = outdir / str(source["path"])
            if source.get("packaging") == "zip" and (folder / "handler" / "entry.py").is_file():
                return folder
    raise SystemExit(f"no handler asset in {outdir}")


def asset_sizes(folder: Path) -> tuple[int, int, int]:
    """(files, bytes uncompressed, bytes zipped with deflate level 9, as cdk-assets packs it)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            archive.write(path, path.relative_to(folder).as_posix())
    return len(files), sum(p.stat().st_size for p in files), len(buffer.getvalue())


_IMPORT_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)")


def import_time_us(folder: Path, runs: int) -> tuple[float, list[str]]:
    """Median over ``runs`` cold imports (``python -B -X importtime``, no bytecode cache, as in
    Lambda's read-only code folder) of ``import handler.entry``: the summed cumulative
    microseconds of its top-level imports. Also the modules it imported, slowest first."""
    totals: list[float] = []
    modules: list[tuple[int, str]] = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-B", "-X", "importtime", "-c", "import handler.entry"],
            cwd=folder,
            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
            capture_output=True,
            text=True,
            check=True,
        )
        total = 0
        modules = []
        for match in _IMPORT_LINE.finditer(done.stderr):
            cumulative, indent, name = int(match[2]), match[3], match[4]
            if name == "handler" or name.startswith("handler."):
                modules.append((cumulative, name))
                if len(indent) <= 1:  # a top-level import (the column is "| <indent><module>")
                    total += cumulative
        totals.append(total)
    top = [f"{name} {us / 1000:.1f} ms" for us, name in sorted(modules, reverse=True)[:4]]
    return statistics.median(totals), top


# -- the report ----------------------------------------------------------------------------------


def machine() -> str:
    def out(*command: str) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return "?"

    memory = next((line.split()[1] for line in out("free", "-h").splitlines() if line.startswith("Mem:")), "?")
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line]
        cpu = models[0] if models else cpu
    return (
        f"{platform.machine()}, {out('nproc')} CPUs ({cpu}), {memory} RAM, "
        f"{platform.system()} {platform.release()}; Python {platform.python_version()}, "
        f"Node.js {out('node', '--version')}, load average {os.getloadavg()[0]:.1f} at the start"
    )


def kb(n: float) -> str:
    return f"{n / 1024:,.1f} KB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per configuration (median; default 5)")
    parser.add_argument("--markdown", type=Path, help="also write the report as Markdown to this file")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    configs = [
        Config("empty", 0),
        *(Config("library", n) for n in LIBRARY_JOBS),
        *(Config("handwritten", n) for n in HANDWRITTEN_JOBS),
    ]
    host = machine()
    log(f"Machine: {host}")
    log(f"Synthesizing {len(configs)} configurations, {args.runs} timed runs each (+1 warm-up), one process each")
    with tempfile.TemporaryDirectory(prefix="export-constructs-bench-") as tmp:
        results = measure(configs, args.runs, Path(tmp), log)
        folder = handler_asset(results[Config("library", 1)].outdir or Path(tmp))
        files, raw, zipped = asset_sizes(folder)
        import_us, slowest = import_time_us(folder, runs=5)
    log("Measuring each service's per-job template cost")
    steps = service_steps()

    lines: list[str] = []
    checks: list[tuple[str, bool]] = []

    def check(text: str, ok: bool) -> None:
        checks.append((text, ok))

    empty = results[Config("empty", 0)]
    header = (
        "| configuration | resources | template | resources/job | bytes/job "
        "| synth wall (median) | x empty app | x empty, per round (median) | fastest run, x empty "
        "| in-process (median) |"
    )
    lines += [header, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for config in configs:
        r = results[config]
        per_res = per_bytes = ""
        if config.jobs == 1:
            per_res = f"+{r.resources - empty.resources} (first job)"
            per_bytes = f"+{kb(r.template_bytes - empty.template_bytes)}"
        elif config.jobs > 1:
            first = results[Config(config.mode, 1)]
            per_res = f"{(r.resources - first.resources) / (config.jobs - 1):.2f}"
            per_bytes = f"{(r.template_bytes - first.template_bytes) / (config.jobs - 1):,.0f} B"
        lines.append(
            f"| {config.label} | {r.resources} | {kb(r.template_bytes)} | {per_res} | {per_bytes} "
            f"| {r.wall:.2f} s | {r.wall / empty.wall:.2f} | {r.paired_ratio(empty):.2f} "
            f"| {r.fastest:.2f} s, {r.fastest / empty.fastest:.2f} "
            f"| {r.synth:.2f} s |"
        )
    lines.append("")
    lines.append(
        "resources/job and bytes/job: (N-job stack - 1-job stack) / (N - 1), services taken in turn; "
        "for 1 job, the stack with the destination and one job minus the empty stack."
    )

    lines += ["", "Per-job template cost by service (single-service stacks, shared destination):", ""]
    lines += [
        "| service | first job | jobs 2-3, each | jobs 2-20, mean | job 21 (prefixes collapse) | jobs 22-23, each |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for service, sizes in steps.items():

        def step(a: int, b: int, sizes: dict[int, tuple[int, int]] = sizes) -> tuple[float, float]:
            return (
                (sizes[b][0] - sizes[a][0]) / (b - a),
                (sizes[b][1] - sizes[a][1]) / (b - a),
            )

        listed = [step(1, 2), step(2, 3)]
        collapsed = [step(21, 22), step(22, 23)]
        mean_listed = step(1, 20)
        lines.append(
            f"| {service} | +{sizes[1][0] - empty.resources} res, {kb(sizes[1][1] - empty.template_bytes)} "
            f"| {', '.join(f'+{r:.0f} res {b:,.0f} B' for r, b in listed)} "
            f"| {mean_listed[1]:,.0f} B | {step(20, 21)[1]:+,.0f} B "
            f"| {', '.join(f'+{r:.0f} res {b:,.0f} B' for r, b in collapsed)} |"
        )
        # A long wait (RDS's default timeout) brings its wait condition, handle and result resource.
        from bench import jobs

        long_wait = service in jobs.LONG_WAIT_SERVICES
        max_resources = MAX_RESOURCES_PER_JOB + (jobs.LONG_WAIT_EXTRA_RESOURCES if long_wait else 0)
        max_bytes = jobs.MAX_BYTES_PER_LONG_JOB if long_wait else MAX_BYTES_PER_JOB
        what = " (a long wait)" if long_wait else ""
        check(
            f"{service}: each further job adds <= {max_resources} resources{what}",
            all(r <= max_resources for r, _ in [*listed, *collapsed]),
        )
        check(
            f"{service}: each further job adds <= {max_bytes / 1024:.1f} KB once its prefixes collapse (> 20 jobs)",
            all(b <= max_bytes for _, b in collapsed),
        )
        check(
            f"{service}: each further job adds <= {max_bytes / 1024:.1f} KB while its prefixes are listed (jobs 2-20)",
            all(b <= max_bytes for _, b in listed) and mean_listed[1] <= max_bytes,
        )

    first = results[Config("library", 1)]
    check(
        f"first job's fixed overhead <= {MAX_FIRST_JOB_RESOURCES} resources ({first.resources - empty.resources})",
        first.resources - empty.resources <= MAX_FIRST_JOB_RESOURCES,
    )
    for n in LIBRARY_JOBS[1:]:
        r = results[Config("library", n)]
        mean_res = (r.resources - first.resources) / (n - 1)
        mean_bytes = (r.template_bytes - first.template_bytes) / (n - 1)
        if n >= 100:
            check(
                f"{n} jobs: <= {MAX_RESOURCES_PER_JOB} resources and <= 1.5 KB per job "
                f"({mean_res:.2f}, {mean_bytes:,.0f} B)",
                mean_res <= MAX_RESOURCES_PER_JOB and mean_bytes <= MAX_BYTES_PER_JOB,
            )
    biggest = results[Config("library", max(LIBRARY_JOBS))]
    check(
        f"{max(LIBRARY_JOBS)} jobs: < {MAX_RESOURCES} resources and < 1 MB ({biggest.resources}, "
        f"{kb(biggest.template_bytes)})",
        biggest.resources < MAX_RESOURCES and biggest.template_bytes < MAX_TEMPLATE_BYTES,
    )
    hundred = results[Config("library", 100)]
    # Both estimates must hold: the ratio of the medians and the median of the per-round ratios.
    ratio = max(hundred.wall / empty.wall, hundred.paired_ratio(empty))
    check(
        f"100-job synth <= {MAX_SYNTH_RATIO_AT_100}x the empty app ({hundred.wall / empty.wall:.2f}x of the "
        f"medians, {hundred.paired_ratio(empty):.2f}x per round)",
        ratio <= MAX_SYNTH_RATIO_AT_100,
    )
    fixed = first.wall - empty.wall
    per_job_ms = (hundred.wall - first.wall) / 99 * 1000
    check(f"handler asset <= 64 KB zipped ({kb(zipped)})", zipped <= MAX_ASSET_BYTES)
    from . import deploy, recurring, snapshots

    deploy_lines, deploy_ok = deploy.table(log)
    check("deploy: N jobs over a quota of Q complete within ceil(N/Q) x D plus two query intervals", deploy_ok)
    recurring_lines, recurring_checks = recurring.table(log)
    checks += recurring_checks
    snapshot_lines, snapshot_checks = snapshots.table(log)
    checks += snapshot_checks

    lines += [
        "",
        f"Handler asset: {files} files, {kb(raw)} uncompressed, {kb(zipped)} zipped "
        f"(deflate level 9); `{folder.name}` in the cloud assembly.",
        f"Handler cold import (`python -B -X importtime -c 'import handler.entry'`, median of 5): "
        f"{import_us / 1000:.1f} ms ({', '.join(slowest)}). boto3 is imported on the first call, not here.",
        "",
        f"Synth time: the first job costs {fixed:.2f} s over the empty app (loading aws-cdk-lib's Lambda, IAM, "
        f"S3, KMS, Logs and Step Functions modules, building the provider, CloudFormation validation of those "
        f"resources); each further job {per_job_ms:.0f} ms. 100 jobs take "
        f"{hundred.wall / first.wall:.2f}x the 1-job app; one hand-written job takes "
        f"{results[Config('handwritten', 1)].wall / empty.wall:.2f}x the empty app.",
        "",
        "Targets:",
        *(f"- [{'x' if ok else ' '}] {text}" for text, ok in checks),
        "",
        f"Machine: {host}; load average {os.getloadavg()[0]:.1f} at the end",
        f"Timed runs: {args.runs} per configuration after one warm-up, rounds interleaved; "
        "wall = the whole `python -m bench.synth_one` process (jsii start-up included).",
    ]
    lines += ["", *deploy_lines, "", *recurring_lines, "", *snapshot_lines]
    report = "\n".join(lines)
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n")
    missed = [text for text, ok in checks if not ok]
    if missed:
        print(f"\n{len(missed)} target(s) missed.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

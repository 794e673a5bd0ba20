"""Prints a short summary of a synthesized cloud assembly: ``python -m sample_app.summary cdk.out``."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from export_constructs._text import plural
from export_constructs.handler import consts

from .app import NAG_PACKS


def summarize(outdir: Path) -> str:
    lines: list[str] = []
    for template_path in sorted(outdir.glob("*.template.json")):
        template = json.loads(template_path.read_text())
        resources = template.get("Resources", {})
        size = template_path.stat().st_size
        # An export job is its job resource; a long wait's result resource reads the job's attributes.
        jobs = {
            logical_id: r
            for logical_id, r in resources.items()
            if r["Type"].startswith(f"Custom::{consts.RESOURCE_TYPE_PREFIX}")
            and r.get("Properties", {}).get(consts.PROP_MODE) != consts.MODE_REPORT
        }
        lines.append(
            f"{template_path.name}: {plural(len(jobs), 'export job')}, {plural(len(resources), 'resource')}, "
            f"{size:,} bytes"
        )
        for logical_id, resource in sorted(jobs.items()):
            service = resource["Type"].removeprefix(f"Custom::{consts.RESOURCE_TYPE_PREFIX}")
            timeout = resource["Properties"].get(consts.PROP_TIMEOUT_SECONDS)
            long_wait = resource["Properties"].get(consts.PROP_MODE) == consts.MODE_SIGNAL
            how = ", on a wait condition" if long_wait else ""
            lines.append(f"  export job {logical_id}: {service}, timeout {timeout} s{how}")
        counts = Counter(r["Type"] for r in resources.values())
        lines.extend(f"  {count:3d} x {kind}" for kind, count in sorted(counts.items()))
    packs = ", ".join(p.__name__ for p in NAG_PACKS)
    report = outdir / "validation-report.json"
    findings = 0
    if report.exists():
        for plugin in json.loads(report.read_text()).get("pluginReports", []):
            findings += len(plugin.get("violations", []))
    verdict = "no unacknowledged findings" if findings == 0 else f"{plural(findings, 'finding')}, see {report}"
    lines.append(f"cdk-nag ({packs}): {verdict}")
    return "\n".join(lines)


def main() -> None:
    outdir = Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")
    print(summarize(outdir))


if __name__ == "__main__":
    main()

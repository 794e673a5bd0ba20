"""The version scheme: ``pyproject.toml``'s version is the newest release section of
``CHANGELOG.md`` (``## <version> - <date>``), released as the tag ``v<version>``; the README's
install lines name that tag and that wheel."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADING = re.compile(r"^## (?P<version>\d+\.\d+\.\d+) - (?P<date>\d{4}-\d{2}-\d{2})$", re.MULTILINE)


def version() -> str:
    value: str = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    return value


def releases() -> list[tuple[str, str]]:
    """(version, date) of each release section, newest first."""
    return [(m["version"], m["date"]) for m in HEADING.finditer((ROOT / "CHANGELOG.md").read_text())]


def key(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split("."))


def test_the_version_is_the_newest_release_in_the_changelog() -> None:
    assert releases(), "CHANGELOG.md has no `## <version> - <date>` section"
    assert releases()[0][0] == version(), f"pyproject.toml says {version()}, CHANGELOG.md's newest is {releases()[0]}"


def test_release_sections_are_unique_and_newest_first() -> None:
    found = releases()
    assert [key(v) for v, _ in found] == sorted({key(v) for v, _ in found}, reverse=True)
    assert [d for _, d in found] == sorted((d for _, d in found), reverse=True)


def test_only_unreleased_precedes_the_newest_release() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    before = text[: HEADING.search(text).start()]  # type: ignore[union-attr]
    assert re.findall(r"^## .*$", before, re.MULTILINE) == ["## Unreleased"]


def test_the_readme_installs_this_release() -> None:
    readme = (ROOT / "README.md").read_text()
    assert f'pip install "export_constructs @ git+<repository URL>@v{version()}"' in readme
    assert f"export_constructs-{version()}-py3-none-any.whl" in readme
    assert not re.findall(rf"export_constructs-(?!{re.escape(version())}-)\d+\.\d+\.\d+", readme)


def test_every_release_tag_has_its_changelog_section() -> None:
    """Tags are made by whoever releases; each must name a version the CHANGELOG describes."""
    listed = subprocess.run(["git", "tag", "--list", "v*"], cwd=ROOT, capture_output=True, text=True, check=False)
    released = {v for v, _ in releases()}
    tags = [t for t in listed.stdout.split() if re.fullmatch(r"v\d+\.\d+\.\d+", t)]
    assert not [t for t in tags if t[1:] not in released]

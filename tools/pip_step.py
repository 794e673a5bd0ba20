"""One set-up step of the Makefile as one line: what pip installs, how far it got, how it ended.

``python tools/pip_step.py LABEL PYTHON PIP_ARGS...`` runs ``PYTHON -m pip install PIP_ARGS...``
and prints ``LABEL`` first. On a terminal the line then follows pip (``resolving: 41 packages,
downloading aws_cdk_lib-2.275.0-py3-none-any.whl (45.1 MB)``), rewritten in place; in a log
(CI) nothing more until the end. It ends with what was installed and how long it took
(``done in 74 s: 112 packages``). When pip fails, its whole output is printed.

setuptools' editable-install banner (a ``BuildBackendWarning`` the build backend prints on every
``pip install -e``) is filtered out at its source with ``PYTHONWARNINGS``. Standard library only:
it runs before the venv exists.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

_COLLECTING = re.compile(r"^\s*Collecting (\S+)")
_DOWNLOADING = re.compile(r"^\s*Downloading (\S+?)(?: \((.+)\))?\s*$")
_INSTALLED = re.compile(r"^Successfully installed (.+)$")


def main(argv: list[str]) -> int:
    label, python, *pip_args = argv
    tty = sys.stdout.isatty()
    started = time.monotonic()
    env = dict(os.environ)
    env["PYTHONWARNINGS"] = ",".join(filter(None, [env.get("PYTHONWARNINGS"), "ignore:Editable installation"]))
    print(label, flush=True)
    process = subprocess.Popen(
        [python, "-m", "pip", "install", "--progress-bar", "off", *pip_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    output: list[str] = []
    collected = 0
    installed = ""
    width = shutil.get_terminal_size().columns - 1
    for line in process.stdout:
        output.append(line)
        if match := _COLLECTING.match(line):
            collected += 1
            status = f"  resolving: {collected} packages, {match[1]}"
        elif match := _DOWNLOADING.match(line):
            size = f" ({match[2]})" if match[2] else ""
            status = f"  resolving: {collected} packages, downloading {match[1].rsplit('/', 1)[-1]}{size}"
        elif line.startswith("Installing collected packages"):
            status = f"  installing {collected} packages" if collected else "  installing"
        elif match := _INSTALLED.match(line):
            installed = match[1]
            continue
        else:
            continue
        if tty:
            print(f"\r{status[:width]:<{width}}", end="", flush=True)
    code = process.wait()
    if tty:
        print(f"\r{'':<{width}}\r", end="")
    seconds = time.monotonic() - started
    if code != 0:
        sys.stdout.write("".join(output))
        print(f"  FAILED after {seconds:.0f} s (pip exit code {code}): see pip's output above", flush=True)
        return code
    count = len(installed.split())
    what = f"{count} package{'s' if count != 1 else ''} installed" if count else "already up to date"
    print(f"  done in {seconds:.0f} s: {what}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

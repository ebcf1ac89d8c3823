"""Run the benchmarks: `python -m tests.benchmarks [NAME ...]` (what `make bench` runs).

Each `bench_*.py` module of this package has a `main() -> int`; each runs in
its own Python process, one after the other, because benchmarks configure
Django differently (their own databases and index prefixes) before setting it
up. NAME arguments keep the modules whose name contains one of them, e.g.
`make bench BENCH_ARGS=search`.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def discover(filters: list[str]) -> list[str]:
    names = sorted(path.stem for path in PACKAGE.glob("bench_*.py"))
    if filters:
        names = [name for name in names if any(word in name for word in filters)]
    return names


def main(argv: list[str]) -> int:
    names = discover(argv)
    if not names:
        print(f"No benchmark matches {argv!r}; available: {', '.join(discover([])) or 'none'}")
        return 2
    failed: list[str] = []
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        started = time.monotonic()
        code = f"import sys; from tests.benchmarks import {name} as bench; sys.exit(bench.main() or 0)"
        result = subprocess.run([sys.executable, "-c", code], cwd=PACKAGE.parent.parent, check=False)
        status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
        print(f"=== {name}: {status} in {time.monotonic() - started:.0f}s ===", flush=True)
        if result.returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

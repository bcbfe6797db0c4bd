"""Where a tap's time goes: one sync of the large streams under pyinstrument, top functions.

Run by hand (not a test); pyinstrument is not a project dependency:

    .venv/bin/pip install pyinstrument
    .venv/bin/python -m benchmarks.profile --api crm --size 10000 [--out DIR]

The sandbox runs in its own process (``benchmarks.remote``) as in ``benchmarks.bench``.
Prints the functions with the most time spent in them (self) and under them (total);
``--out`` also keeps pyinstrument's HTML and pstats files there.
"""

from __future__ import annotations

import argparse
import os
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.bench import CALLTRACKER, CRM, compile_bytecode, write_tap_files
from benchmarks.remote import REPO, RemoteSandbox

VENV_BIN = Path(sys.executable).parent


def profile(api_name: str, size: int, out: Path, interval: float, *, slow: bool = False) -> Path:
    api = CRM if api_name == "crm" else CALLTRACKER
    spec = {"size": 5, "sizes": dict.fromkeys(api.large, size)}
    kwargs = {"crm": spec} if api is CRM else {"calltracker": spec}
    stats = out / f"{api.name}-{size}.pstats"
    with (
        RemoteSandbox(**kwargs, answer_once=not slow) as sandbox,
        tempfile.TemporaryDirectory() as tmp,
    ):
        config, catalog = write_tap_files(api, sandbox.info, api.large, Path(tmp))
        tap = [str(VENV_BIN / api.tap), "--config", str(config), "--catalog", str(catalog)]
        if not slow:
            # An unprofiled run first builds every answer: the profiled one is served from
            # memory, as in benchmarks.bench.
            subprocess.run(tap, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        command = [
            str(VENV_BIN / "pyinstrument"),
            "-i",
            str(interval),
            "-r",
            "pstats",
            "-o",
            str(stats),
            *tap,
        ]
        with open(os.devnull, "wb") as devnull, open(out / f"{api.name}.stderr", "wb") as err:
            subprocess.run(command, stdout=devnull, stderr=err, cwd=REPO, check=True)
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api", choices=["crm", "calltracker"], default="crm")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--interval", type=float, default=0.001)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--slow-server", action="store_true", help="build every answer anew")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="tap-profile-"))
    out.mkdir(parents=True, exist_ok=True)
    compile_bytecode([VENV_BIN.parent])
    stats_path = profile(args.api, args.size, out, args.interval, slow=args.slow_server)
    stats = pstats.Stats(str(stats_path))
    stats.strip_dirs()
    print(f"# {args.api}, {args.size:,} records per large stream (pstats: {stats_path})")
    for key, title in (("tottime", "self"), ("cumulative", "total")):
        print(f"\n## by {title} time")
        stats.sort_stats(key).print_stats(args.top)


if __name__ == "__main__":
    main()

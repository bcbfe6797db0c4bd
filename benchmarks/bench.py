"""Side-by-side benchmark: each tap vs a raw requests loop vs dlt's rest_api_source, plus rate limits.

Run by hand (not a test): ``.venv/bin/python -m benchmarks.bench`` (see benchmarks/README.md).
Everything talks to a sandbox API on 127.0.0.1 served from a separate process. Prints
Markdown tables; ``--out FILE`` also writes them to a file.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.remote import REPO, RemoteSandbox

VENV_BIN = Path(sys.executable).parent
# The taps run from a venv holding what meltano.yml's ``pip_url: -e .`` installs, without
# the test extras: jsonschema[format-nongpl] there brings rfc3987-syntax, whose grammar
# the SDK's ``import jsonschema`` compiles at start-up (about 1 s no user pays).
TAP_VENV = REPO / "benchmarks" / ".venv-tap"
TAP_BIN = TAP_VENV / "bin"
DLT_VENV = REPO / "benchmarks" / ".venv-dlt"
DLT_PYTHON = DLT_VENV / "bin" / "python"
DLT_VERSION = "1.31.0"
# Seconds any one measured process may run before the benchmark gives up on it.
RUN_TIMEOUT = 900


@dataclass
class API:
    name: str  # sandbox API name, also the tap's config prefix in RemoteSandbox.info
    tap: str  # CLI executable
    large: tuple[str, ...]  # the large streams, N records each
    user_key: str
    password_key: str
    throttle_status: int  # what the API answers when rate limiting
    rate_stream: str  # stream synced under a rate limit
    rate_records: int  # its size there: about 200 pages
    rate_config: dict[str, t.Any] = field(default_factory=dict)


CRM = API(
    name="crm",
    tap="tap-crm",
    large=("contacts", "deals", "notes"),
    user_key="username",
    password_key="password",  # noqa: S106 - a setting's name
    throttle_status=403,
    rate_stream="contacts",
    rate_records=20_000,  # 200 pages of 100
    # The CRM sends no rate-limit headers: the setting is the lever (20 per 2 s = 10/s).
    rate_config={"max_requests_per_second": 10},
)
CALLTRACKER = API(
    name="calltracker",
    tap="tap-calltracker",
    large=("calls", "contacts"),
    user_key="api_id",
    password_key="api_token",  # noqa: S106 - a setting's name
    throttle_status=429,
    rate_stream="calls",
    rate_records=9_950,  # 199 pages of 50, under the 10,000 cap: no window splits
    # Paced from the X-AircallApi-* headers alone.
    rate_config={"max_requests_per_second": 0},
)


@dataclass
class Run:
    seconds: float
    records: int
    max_rss_kb: int
    errors: list[str]
    cpu_seconds: float = 0.0  # user + system time of the process: steadier than wall time

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


@dataclass
class Measured:
    seconds: float  # wall time
    code: int  # exit code
    max_rss_kb: int  # peak resident set size of the child (ru_maxrss)
    cpu_seconds: float  # user + system CPU time of the child


def run_measured(
    command: list[str], stderr_path: Path, env: dict[str, str] | None = None
) -> Measured:
    """Run with stdout to /dev/null; wall time, exit code and the child's own resource usage."""
    with open(os.devnull, "wb") as devnull, open(stderr_path, "wb") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=devnull, stderr=stderr, cwd=REPO, env=env)
        deadline = started + RUN_TIMEOUT
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.01)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(seconds, process.returncode, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)


# -- the three readers ---------------------------------------------------------------


def write_tap_files(
    api: API, info: dict, streams: t.Iterable[str], workdir: Path, **extra: t.Any
) -> tuple[Path, Path]:
    """A config and a catalog that selects only ``streams``."""
    config = {**info[f"{api.name}_config"], **extra}
    config_path = workdir / f"{api.name}-config.json"
    config_path.write_text(json.dumps(config))
    discovered = subprocess.run(
        [str(TAP_BIN / api.tap), "--config", str(config_path), "--discover"],
        capture_output=True,
        check=True,
        cwd=REPO,
    )
    catalog = json.loads(discovered.stdout)
    wanted = set(streams)
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] in wanted
    catalog_path = workdir / f"{api.name}-catalog-{'-'.join(sorted(wanted))}.json"
    catalog_path.write_text(json.dumps(catalog))
    return config_path, catalog_path


RECORD_COUNT = re.compile(rb'"metric":"record_count","value":(\d+)')
ERROR_LINE = re.compile(rb"\| (?:ERROR|CRITICAL) +\|.*")


def run_tap(
    api: API, config: Path, catalog: Path, workdir: Path, code_from: Path | None = None
) -> Run:
    """The tap's CLI; ``code_from``: a checkout whose packages are imported instead of ours."""
    stderr_path = workdir / f"{api.name}-tap.stderr"
    command = [str(TAP_BIN / api.tap), "--config", str(config), "--catalog", str(catalog)]
    env = None
    if code_from is not None:
        # PYTHONPATH comes before the editable install's path entry in sys.path.
        env = {**os.environ, "PYTHONPATH": str(code_from)}
    measured = run_measured(command, stderr_path, env)
    log = stderr_path.read_bytes()
    # record_count counters are logged as increments (every 60 s and at the end).
    records = sum(int(n) for n in RECORD_COUNT.findall(log))
    errors = [m.decode(errors="replace")[:200] for m in ERROR_LINE.findall(log)]
    if measured.code:
        errors.append(f"exit code {measured.code}")
    return Run(measured.seconds, records, measured.max_rss_kb, errors, measured.cpu_seconds)


def run_reader(python: Path, script: str, api: API, info: dict, workdir: Path) -> Run:
    """The raw loop or dlt: same arguments, summary JSON with counts per resource."""
    config = info[f"{api.name}_config"]
    summary = workdir / f"{api.name}-{Path(script).stem}-summary.json"
    summary.unlink(missing_ok=True)
    command = [
        str(python),
        *script.split(),
        api.name,
        config["api_url"],
        config[api.user_key],
        config[api.password_key],
        str(summary),
        *api.large,
    ]
    measured = run_measured(command, workdir / f"{api.name}-{Path(script).stem}.stderr")
    errors = [f"exit code {measured.code}"] if measured.code else []
    records = 0
    if summary.exists():
        for name, result in json.loads(summary.read_text())["resources"].items():
            records += result["records"]
            if result["error"]:
                errors.append(f"{name}: {result['error']}")
    return Run(measured.seconds, records, measured.max_rss_kb, errors, measured.cpu_seconds)


# -- throughput --------------------------------------------------------------------


@dataclass
class Throughput:
    api: str
    size: int
    runs: dict[str, list[Run]]
    # Median and 90th percentile of the server's time to build one answer, in ms.
    serve_ms: tuple[float, float] = (float("nan"), float("nan"))


def measure_throughput(  # noqa: PLR0917
    apis: list[API],
    size: int,
    repeat: int,
    with_dlt: bool,
    workdir: Path,
    baseline: Path | None = None,
    *,
    answer_once: bool = True,
) -> list[Throughput]:
    """``answer_once``: the sandbox builds each answer once (in an untimed warm-up run of
    every reader) and serves it from memory after, so the readers' own cost shows."""
    crm_spec = {"size": 5, "sizes": dict.fromkeys(CRM.large, size)}
    call_spec = None
    if CALLTRACKER in apis:
        call_spec = {"size": 5, "sizes": dict.fromkeys(CALLTRACKER.large, size)}
    log(f"building the sandbox with {size:,} records per large stream ...")
    results = []
    with RemoteSandbox(crm=crm_spec, calltracker=call_spec, answer_once=answer_once) as sandbox:
        for api in apis:
            config, catalog = write_tap_files(api, sandbox.info, api.large, workdir)
            readers: dict[str, t.Callable[[], Run]] = {
                "tap": functools.partial(run_tap, api, config, catalog, workdir),
                "raw": functools.partial(
                    run_reader,
                    Path(sys.executable),
                    "-m benchmarks.raw_loop",
                    api,
                    sandbox.info,
                    workdir,
                ),
            }
            if baseline is not None:
                readers["before"] = functools.partial(
                    run_tap, api, config, catalog, workdir, code_from=baseline
                )
            if with_dlt:
                readers["dlt"] = functools.partial(
                    run_reader, DLT_PYTHON, "benchmarks/dlt_run.py", api, sandbox.info, workdir
                )
            runs: dict[str, list[Run]] = {name: [] for name in readers}
            names = list(readers)
            if answer_once:
                for name in names:
                    warm = readers[name]()
                    log(f"{api.name} N={size:,} {name}: warm-up, {warm.records:,} records")
            sandbox.clear_log()
            for attempt in range(repeat):
                # Rotate the order so no reader always runs right after the same one.
                for name in names[attempt % len(names) :] + names[: attempt % len(names)]:
                    run = readers[name]()
                    runs[name].append(run)
                    log(
                        f"{api.name} N={size:,} {name}: {run.records:,} records in "
                        f"{run.seconds:.1f} s = {run.rate:,.0f}/s, CPU {run.cpu_seconds:.1f} s, "
                        f"peak RSS "
                        f"{run.max_rss_kb / 1024:.0f} MB {'; '.join(run.errors)[:300]}"
                    )
            served = sorted(sandbox.serve_seconds(api.name))
            serve_ms = (float("nan"), float("nan"))
            if served:
                serve_ms = (
                    1000 * statistics.median(served),
                    1000 * served[int(0.9 * (len(served) - 1))],
                )
            results.append(Throughput(api.name, size, runs, serve_ms))
    return results


# -- rate limit --------------------------------------------------------------------


@dataclass
class RateLimited:
    api: str
    pages: int
    throttles: int
    max_throttles_per_window: int
    wall: float
    span: float
    ideal: float
    errors: list[str]


def measure_rate_limit(api: API, limit: int, window: float, workdir: Path) -> RateLimited:
    spec = {"size": 5, "sizes": {api.rate_stream: api.rate_records}}
    kwargs = {"crm": spec} if api is CRM else {"calltracker": spec}
    with RemoteSandbox(**kwargs) as sandbox:
        config, catalog = write_tap_files(
            api, sandbox.info, [api.rate_stream], workdir, **api.rate_config
        )
        sandbox.clear_log()
        # Start at a window boundary, as a tap that has been idle for a while would.
        time.sleep(window - time.time() % window)
        sandbox.rate_limit(limit=limit, window=window, api=api.name)
        run = run_tap(api, config, catalog, workdir)
        log_entries = sandbox.statuses(api.name)
    pages = sum(1 for status, _ in log_entries if status == 200)
    throttled = [at for status, at in log_entries if status == api.throttle_status]
    per_window = [
        len(list(group)) for _, group in itertools.groupby(int(at // window) for at in throttled)
    ]
    span = log_entries[-1][1] - log_entries[0][1] if log_entries else 0.0
    return RateLimited(
        api=api.name,
        pages=pages,
        throttles=len(throttled),
        max_throttles_per_window=max(per_window, default=0),
        wall=run.seconds,
        span=span,
        ideal=pages / limit * window,
        errors=run.errors,
    )


# -- report ------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def throughput_table(results: list[Throughput]) -> list[str]:
    """One row per API and size: medians of rates, their ratios, CPU time and peak RSS."""
    with_before = any("before" in r.runs for r in results)
    head = "| API | N per stream | server ms per answer (median, p90) | tap records | tap rec/s "
    head += "| raw (loop) rec/s "
    head += "| dlt rec/s (records read) | **tap/loop** | **tap/dlt** |"
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    if with_before:
        head += " before rec/s | before/loop | before/dlt |"
        rule += "---:|---:|---:|"
    head += " tap CPU s | tap peak RSS | raw peak RSS | dlt peak RSS |"
    rule += "---:|---:|---:|---:|"
    if with_before:
        head += " before CPU s | before peak RSS |"
        rule += "---:|---:|"
    lines = [head, rule]
    for result in results:
        rates = {name: median([r.rate for r in runs]) for name, runs in result.runs.items()}
        raw_rate, dlt_rate = rates["raw"], rates.get("dlt", float("nan"))
        dlt = result.runs.get("dlt", [])
        dlt_cell = f"{dlt_rate:,.0f} ({dlt[0].records:,})" if dlt else "not run"
        row = (
            f"| {result.api} | {result.size:,} "
            f"| {result.serve_ms[0]:.2f}, {result.serve_ms[1]:.2f} "
            f"| {result.runs['tap'][0].records:,} "
            f"| {rates['tap']:,.0f} | {raw_rate:,.0f} | {dlt_cell} "
            f"| **{rates['tap'] / raw_rate:.2f}** | **{rates['tap'] / dlt_rate:.2f}** |"
        )
        if with_before:
            before = rates.get("before", float("nan"))
            row += f" {before:,.0f} | {before / raw_rate:.2f} | {before / dlt_rate:.2f} |"
        row += f" {_cpu(result, 'tap')} | {_rss(result, 'tap')} | {_rss(result, 'raw')} "
        row += f"| {_rss(result, 'dlt')} |"
        if with_before:
            row += f" {_cpu(result, 'before')} | {_rss(result, 'before')} |"
        lines.append(row)
    return lines


def _rss(result: Throughput, reader: str) -> str:
    runs = result.runs.get(reader)
    return f"{median([r.max_rss_kb for r in runs]) / 1024:.0f} MB" if runs else "-"


def _cpu(result: Throughput, reader: str) -> str:
    runs = result.runs.get(reader)
    return f"{median([r.cpu_seconds for r in runs]):.1f}" if runs else "-"


def rss_lines(results: list[Throughput]) -> list[str]:
    lines = []
    by_reader: dict[tuple[str, str], dict[int, float]] = {}
    for result in results:
        for reader in ("tap", "before"):
            if reader in result.runs:
                by_reader.setdefault((result.api, reader), {})[result.size] = median(
                    [r.max_rss_kb for r in result.runs[reader]]
                )
    for (api, reader), sizes in by_reader.items():
        if len(sizes) >= 2:
            small, large = min(sizes), max(sizes)
            growth = sizes[large] / sizes[small] - 1
            lines.append(
                f"- {api}: {reader} peak RSS {sizes[small] / 1024:.0f} MB at {small:,} -> "
                f"{sizes[large] / 1024:.0f} MB at {large:,} per stream ({growth:+.1%})"
            )
    return lines


def rate_table(results: list[RateLimited], limit: int, window: float) -> list[str]:
    lines = [
        f"Rate limit {limit} requests per {window:g} s window:",
        "",
        "| API | pages P | ideal P/limit x window | tap wall (whole process) "
        "| first->last request | wall/ideal | throttle answers | max per window |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.api} | {r.pages} | {r.ideal:.1f} s | {r.wall:.1f} s | {r.span:.1f} s "
            f"| {r.wall / r.ideal:.2f} | {r.throttles} | {r.max_throttles_per_window} |"
        )
    return lines


def errors_lines(throughput: list[Throughput], rate: list[RateLimited]) -> list[str]:
    lines: list[str] = []
    for result in throughput:
        for reader, runs in result.runs.items():
            seen = sorted({e for run in runs for e in run.errors})
            lines.extend(f"- {result.api} N={result.size:,} {reader}: {e}" for e in seen)
    for r in rate:
        lines.extend(f"- {r.api} rate-limited run: {e}" for e in sorted(set(r.errors)))
    return lines


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def ensure_tap_venv(dev_venv: bool) -> None:
    """benchmarks/.venv-tap with the taps as meltano.yml installs them (``-e .``)."""
    global TAP_BIN  # noqa: PLW0603 - one choice for the whole run
    if dev_venv:
        TAP_BIN = VENV_BIN
        return
    if (TAP_BIN / CRM.tap).exists():
        return
    log(f"creating {TAP_VENV.relative_to(REPO)} with the taps, no extras ...")
    subprocess.run([sys.executable, "-m", "venv", str(TAP_VENV)], check=True)
    subprocess.run(
        [str(TAP_BIN / "python"), "-m", "pip", "install", "-q", "-e", str(REPO)], check=True
    )


def compile_bytecode(venvs: list[Path], checkouts: t.Sequence[Path] = ()) -> None:
    """Write every reader's ``.pyc`` files once, before any run is timed.

    ``pip install`` compiles a package's bytecode and a first run writes ``__pycache__`` for
    editable code, so a user's process loads bytecode. Here PYTHONDONTWRITEBYTECODE may be set
    and a venv may have been copied (its ``.pyc`` then no longer match the sources' times):
    every run would compile its modules anew (0.3-0.5 s of a tap's 0.8 s start-up), a cost no
    user pays. ``compileall`` leaves up-to-date files as they are.
    """
    paths = [
        str(REPO / name) for name in ("tap_common", "tap_crm", "tap_calltracker", "benchmarks")
    ]
    for venv in venvs:
        paths += [str(path) for path in venv.glob("lib/python3*/site-packages")]
    log("compiling bytecode of the readers' modules ...")
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *paths],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def ensure_dlt_venv() -> bool:
    """Create benchmarks/.venv-dlt with dlt, apart from the project's dependencies."""
    if DLT_PYTHON.exists():
        return True
    log(f"creating {DLT_VENV.relative_to(REPO)} with dlt=={DLT_VERSION} ...")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(DLT_VENV)], check=True)
        subprocess.run(
            [str(DLT_PYTHON), "-m", "pip", "install", "-q", f"dlt=={DLT_VERSION}"], check=True
        )
    except subprocess.CalledProcessError as exc:
        log(f"could not install dlt ({exc}); dlt columns are skipped")
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5, help="runs per reader; medians reported")
    parser.add_argument("--apis", nargs="+", default=["crm", "calltracker"])
    parser.add_argument("--no-dlt", action="store_true")
    parser.add_argument("--no-rate-limit", action="store_true")
    parser.add_argument(
        "--slow-server",
        action="store_true",
        help="the sandbox builds every answer anew (by default each is built once, in an "
        "untimed warm-up run, and then served from memory)",
    )
    parser.add_argument("--rate-limit", type=int, default=20)
    parser.add_argument("--rate-window", type=float, default=2.0)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--dev-venv",
        action="store_true",
        help="run the taps from this venv (test extras included) instead of benchmarks/.venv-tap",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of an earlier commit (e.g. from `git archive`): its tap runs as a "
        "fourth reader, 'before', in the same interleaved rounds",
    )
    args = parser.parse_args()

    apis = [CRM] if "crm" in args.apis else []
    if "calltracker" in args.apis:
        apis.append(CALLTRACKER)
    ensure_tap_venv(args.dev_venv)
    with_dlt = not args.no_dlt and ensure_dlt_venv()
    compile_bytecode(
        [TAP_BIN.parent, VENV_BIN.parent] + ([DLT_VENV] if with_dlt else []),
        [args.baseline] if args.baseline else [],
    )
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="tap-bench-") as tmp:
        workdir = Path(tmp)
        throughput = []
        for size in args.sizes:
            throughput += measure_throughput(
                apis,
                size,
                args.repeat,
                with_dlt,
                workdir,
                args.baseline,
                answer_once=not args.slow_server,
            )
        rate = []
        if not args.no_rate_limit:
            for api in apis:
                log(
                    f"{api.name}: sync of {api.rate_records:,} {api.rate_stream} under a rate limit ..."
                )
                rate.append(measure_rate_limit(api, args.rate_limit, args.rate_window, workdir))

    lines = [
        f"Benchmark {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}, "
        f"{os.cpu_count()} cores shared with other work: medians of {args.repeat} runs; "
        "rec/s = records / wall time of the whole process (start-up included); taps run "
        f"from {TAP_BIN.parent.relative_to(REPO) if TAP_BIN.is_relative_to(REPO) else TAP_BIN.parent}.",
        "",
        *throughput_table(throughput),
        "",
        *rss_lines(throughput),
    ]
    if rate:
        lines += ["", *rate_table(rate, args.rate_limit, args.rate_window)]
    if problems := errors_lines(throughput, rate):
        lines += ["", "Errors and early stops:", *problems]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

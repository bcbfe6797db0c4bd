"""Waits and limits, measured: tap-crm's learned rate and tap-calltracker's 429-only headers.

Run by hand (not a test): ``.venv/bin/python -m benchmarks.limits`` (a few minutes).
Each tap runs as its own process, with default settings, against a sandbox in another
process (see ``benchmarks.remote``):

* tap-crm under the CRM's own throttle (a sliding window: ``L`` requests/s on average,
  bursts of ``2 L``, a plain-text 403 past it), the limit unknown to the tap, for
  ``L`` = 3, 10, 20. Targets: wall time <= 1.2 x requests / L + 2 s; throttle answers
  in at most 1 of 10 seconds.
* tap-crm without any throttle, 1,000 pages: default settings (the rate learned from
  5/s up) against ``max_requests_per_second: 0`` (unpaced). Target: within 10%.
* tap-crm's first seconds (``--first-seconds``): 80 and 800 pages under an unknown 10/s
  sliding window (bursts of 20), each in a fresh sandbox and a fresh tap process. Target:
  time over ideal (pages / 10 s) at most 1.2 for each, from the first request to the
  last (the span) and for the whole process (wall, start-up included).
* tap-calltracker under 20 requests per 2 s, ``X-AircallApi-*`` on 429 answers only,
  ``X-AircallApi-Reset`` as unix seconds, unix milliseconds and seconds from now.
  Target: complete, <= 1.15 x ideal.

Prints Markdown tables; ``--out FILE`` also writes them to a file.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.bench import API, CALLTRACKER, CRM, log, run_tap, write_tap_files
from benchmarks.remote import RemoteSandbox

# Settings the sandbox's ready-made configs set for fast tests: dropped, so each tap runs
# with its defaults.
TEST_ONLY_SETTINGS = ("max_requests_per_second", "backoff_factor")


@dataclass
class Measured:
    label: str
    records: int
    pages: int
    throttles: int
    throttled_seconds: int
    wall: float
    span: float
    errors: list[str]
    stderr: str


def tap_files(api: API, sandbox: RemoteSandbox, stream: str, workdir: Path, **extra) -> tuple:
    info = {**sandbox.info}
    config = {k: v for k, v in info[f"{api.name}_config"].items() if k not in TEST_ONLY_SETTINGS}
    info[f"{api.name}_config"] = {**config, **extra}
    return write_tap_files(api, info, [stream], workdir)


def measure(
    api: API, sandbox: RemoteSandbox, stream: str, workdir: Path, label: str, **extra
) -> Measured:
    config, catalog = tap_files(api, sandbox, stream, workdir, **extra)
    sandbox.clear_log()
    run = run_tap(api, config, catalog, workdir)
    entries = sandbox.statuses(api.name)
    stderr = (workdir / f"{api.name}-tap.stderr").read_text(errors="replace")
    throttled = [at for status, at in entries if status == api.throttle_status]
    span = entries[-1][1] - entries[0][1] if entries else 0.0
    return Measured(
        label=label,
        records=run.records,
        pages=sum(1 for status, _ in entries if status == 200),
        throttles=len(throttled),
        throttled_seconds=len({int(at) for at in throttled}),
        wall=run.seconds,
        span=span,
        errors=run.errors,
        stderr=stderr,
    )


def crm_throttled(limits: list[int], seconds: float, workdir: Path) -> list[tuple[int, Measured]]:
    results = []
    for limit in limits:
        pages = int(limit * seconds)
        spec = {"size": 5, "sizes": {"contacts": pages * 100}}
        log(f"crm: {pages} pages under a sliding window of {limit}/s, bursts of {2 * limit} ...")
        with RemoteSandbox(crm=spec) as sandbox:
            sandbox.sliding_window(average=limit, burst=2 * limit, api="crm")
            result = measure(CRM, sandbox, "contacts", workdir, f"{limit}/s")
        log(f"  {result.pages} pages in {result.wall:.1f} s, {result.throttles} throttles")
        results.append((limit, result))
    return results


def crm_unthrottled(pages: int, workdir: Path) -> list[Measured]:
    spec = {"size": 5, "sizes": {"contacts": pages * 100}}
    results = []
    with RemoteSandbox(crm=spec) as sandbox:
        for label, extra in (
            ("max_requests_per_second: 0", {"max_requests_per_second": 0}),
            ("default settings (learned)", {}),
            ("max_requests_per_second: 0", {"max_requests_per_second": 0}),
            ("default settings (learned)", {}),
        ):
            log(f"crm: {pages} pages, no throttle, {label} ...")
            results.append(measure(CRM, sandbox, "contacts", workdir, label, **extra))
            log(f"  {results[-1].pages} pages in {results[-1].wall:.1f} s")
    return results


def calltracker_429_only(limit: int, window: float, workdir: Path) -> list[Measured]:
    spec = {"size": 5, "sizes": {"calls": CALLTRACKER.rate_records}}
    results = []
    with RemoteSandbox(calltracker=spec) as sandbox:
        for form in ("unix", "millis", "relative"):
            sandbox.clear_faults()
            sandbox.rate_headers(on_429_only=True, reset_form=form)
            # Start at a window boundary, as a tap idle for a while would.
            time.sleep(window - time.time() % window)
            sandbox.rate_limit(limit=limit, window=window, api="calltracker")
            log(f"calltracker: headers on 429 only, Reset as {form} ...")
            results.append(measure(CALLTRACKER, sandbox, "calls", workdir, form))
            log(f"  {results[-1].pages} pages in {results[-1].wall:.1f} s")
    return results


def first_seconds(
    page_counts: list[int], limit: int, burst: int, workdir: Path
) -> list[tuple[int, Measured]]:
    results = []
    for pages in page_counts:
        spec = {"size": 5, "sizes": {"contacts": pages * 100}}
        log(f"crm: {pages} pages from a cold start under {limit}/s, bursts of {burst} ...")
        with RemoteSandbox(crm=spec) as sandbox:
            sandbox.sliding_window(average=limit, burst=burst, api="crm")
            result = measure(CRM, sandbox, "contacts", workdir, f"{pages} pages")
        log(f"  {result.pages} pages in {result.wall:.1f} s, {result.throttles} throttles")
        results.append((pages, result))
    return results


def report_first_seconds(runs: list[tuple[int, Measured]], limit: int, burst: int) -> list[str]:
    lines = [
        f"tap-crm from a cold start under an unknown {limit}/s sliding window "
        f"(bursts of {burst}), default settings; ideal = pages / {limit} s:",
        "",
        "| pages | throttle answers | per minute | first->last request | span/ideal "
        "| tap wall | wall/ideal | met (<= 1.2) |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for _, m in runs:
        ideal = m.pages / limit
        span_ratio, wall_ratio = m.span / ideal, m.wall / ideal
        per_minute = m.throttles / max(m.span, 1e-9) * 60
        lines.append(
            f"| {m.pages} | {m.throttles} | {per_minute:.1f} | {m.span:.1f} s | {span_ratio:.3f} "
            f"| {m.wall:.1f} s | {wall_ratio:.3f} "
            f"| {'yes' if wall_ratio <= 1.2 else 'span only' if span_ratio <= 1.2 else 'NO'} |"
        )
    lines += [f"- {m.label}: {e}" for _, m in runs for e in m.errors]
    return lines


def report(crm_limits, crm_free, calls, limit, window) -> list[str]:
    lines = [
        "tap-crm under the CRM's sliding-window throttle (average L/s, bursts of 2 L), "
        "default settings:",
        "",
        "| L | pages | throttle answers | seconds with one | tap wall | target 1.2 x P/L + 2 "
        "| met | seconds with a throttle / first->last s | met (<= 1/10) |",
        "|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for lim, m in crm_limits:
        target = 1.2 * m.pages / lim + 2
        share = m.throttled_seconds / max(m.span, 1e-9)
        lines.append(
            f"| {lim} | {m.pages} | {m.throttles} | {m.throttled_seconds} | {m.wall:.1f} s "
            f"| {target:.1f} s | {'yes' if m.wall <= target else 'NO'} "
            f"| {m.throttled_seconds}/{m.span:.0f} = {share:.2f} "
            f"| {'yes' if share <= 0.1 else 'NO'} |"
        )
    lines += [
        "",
        "tap-crm without a throttle:",
        "",
        "| settings | pages | tap wall |",
        "|---|---:|---:|",
    ]
    lines += [f"| {m.label} | {m.pages} | {m.wall:.1f} s |" for m in crm_free]
    off = [m.wall for m in crm_free if m.label.startswith("max_requests")]
    learned = [m.wall for m in crm_free if m.label.startswith("default")]
    if off and learned:
        ratio = min(learned) / min(off)
        lines.append(
            f"\nBest of each: learned / unpaced = {ratio:.3f} "
            f"({'within' if ratio <= 1.1 else 'NOT within'} 10%)."
        )
    lines += [
        "",
        f"tap-calltracker under {limit} requests per {window:g} s, headers on 429 only:",
        "",
        "| Reset form | records | pages | 429s | tap wall | first->last request "
        "| ideal P/limit x window | wall/ideal | span/ideal | met (<= 1.15) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for m in calls:
        ideal = m.pages / limit * window
        ratio = m.wall / ideal if ideal else float("nan")
        span_ratio = m.span / ideal if ideal else float("nan")
        lines.append(
            f"| {m.label} | {m.records} | {m.pages} | {m.throttles} | {m.wall:.1f} s "
            f"| {m.span:.1f} s | {ideal:.1f} s | {ratio:.3f} | {span_ratio:.3f} "
            f"| {'yes' if ratio <= 1.15 else 'span only' if span_ratio <= 1.15 else 'NO'} |"
        )
    errors = [f"- {m.label}: {e}" for _, m in crm_limits for e in m.errors]
    errors += [f"- {m.label}: {e}" for m in [*crm_free, *calls] for e in m.errors]
    if errors:
        lines += ["", "Errors:", *errors]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limits", type=int, nargs="+", default=[3, 10, 20])
    parser.add_argument("--seconds", type=float, default=40, help="ideal run time per limit")
    parser.add_argument("--pages", type=int, default=1000, help="pages of the unthrottled run")
    parser.add_argument("--only", choices=["crm", "calltracker"])
    parser.add_argument(
        "--first-seconds",
        type=int,
        nargs="*",
        metavar="PAGES",
        help="only tap-crm's first seconds: cold runs of PAGES pages (default 80 800) at 10/s",
    )
    parser.add_argument("--burst", type=int, default=20, help="the --first-seconds burst")
    parser.add_argument("--logs", type=Path, help="directory to keep each run's stderr in")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    limit, window = 20, 2.0
    if args.first_seconds is not None:
        with tempfile.TemporaryDirectory(prefix="tap-limits-") as tmp:
            runs = first_seconds(args.first_seconds or [80, 800], 10, args.burst, Path(tmp))
        text = "\n".join(report_first_seconds(runs, 10, args.burst)) + "\n"
        print(text)
        if args.out:
            args.out.write_text(text)
        return
    with tempfile.TemporaryDirectory(prefix="tap-limits-") as tmp:
        workdir = Path(tmp)
        crm_limits, crm_free, calls = [], [], []
        if args.only != "calltracker":
            crm_limits = crm_throttled(args.limits, args.seconds, workdir)
            crm_free = crm_unthrottled(args.pages, workdir)
        if args.only != "crm":
            calls = calltracker_429_only(limit, window, workdir)
    lines = report(crm_limits, crm_free, calls, limit, window)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
        runs = [(f"crm-{lim}", m) for lim, m in crm_limits]
        runs += [(f"crm-free-{i}", m) for i, m in enumerate(crm_free)]
        runs += [(f"calltracker-{m.label}", m) for m in calls]
        for name, m in runs:
            (args.logs / f"{name}.stderr").write_text(m.stderr)
        (args.logs / "summary.json").write_text(
            json.dumps([{"run": name, "wall": m.wall, "pages": m.pages} for name, m in runs])
        )


if __name__ == "__main__":
    main()

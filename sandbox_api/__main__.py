"""Serve the sandbox APIs until interrupted: ``python -m sandbox_api [--port N] [--size N]``.

Prints, one per line on stdout, the environment variables that point the taps (and Meltano) at
it, e.g. ``TAP_CRM_API_URL=http://127.0.0.1:8765/api/v3``, so a script can read them; the
human-readable summary goes to stderr. The credentials printed are the sandbox's fixed fake ones.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from sandbox_api import CRMAPI, Sandbox
from sandbox_api.calltracker import CallTrackerAPI


def build_sandbox(port: int, size: int) -> Sandbox:
    """A sandbox serving both fake APIs, ``size`` records per list."""
    return Sandbox(crm_api=CRMAPI(size=size), calltracker_api=CallTrackerAPI(size=size), port=port)


def tap_environment(sandbox: Sandbox) -> dict[str, str]:
    """``TAP_<NAME>_<SETTING>`` variables for each tap's sandbox config (strings only).

    Numeric settings are left out: they are sandbox tuning (see the ``sandbox`` Meltano
    environment), and Meltano 4.4.1 cannot take decimal settings from env vars.
    """
    configs = {"TAP_CRM": sandbox.crm_config(), "TAP_CALLTRACKER": sandbox.calltracker_config()}
    return {
        f"{prefix}_{name.upper()}": value
        for prefix, config in configs.items()
        for name, value in config.items()
        if isinstance(value, str)
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sandbox-api", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)"
    )
    parser.add_argument("--size", type=int, default=25, help="records per list (default: 25)")
    args = parser.parse_args(argv)

    sandbox = build_sandbox(args.port, args.size)
    sandbox.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    for name, value in tap_environment(sandbox).items():
        print(f"{name}={value}")
    sys.stdout.flush()
    print(f"Sandbox APIs serving on {sandbox.base_url} (Ctrl-C to stop):", file=sys.stderr)
    for api in sandbox.apis:
        print(f"  {api.name}: {sandbox.url_for(api)}", file=sys.stderr)

    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()

"""The `lapicque` command line: the commands of `lapicque.commands`, assembled.

Exit status: 0 when every check passed, 1 when a verification failed (the first mismatch is
printed), 2 for bad input (one line on stderr, no traceback), 3 for a bug in lapicque (one line
naming the log file that holds the traceback), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import warnings
from contextlib import contextmanager, suppress

from rich.console import Console

from . import __version__
from .commands import COMMANDS
from .commands.options import EXIT_BAD_INPUT, EXIT_BUG, EXIT_INTERRUPTED, Parser
from .errors import LapicqueError


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="lapicque", description="Neuromorphic hardware co-design: one integrate-and-fire array "
                                                 "description; float model, bit-exact model, RTL, proven equal.")
    parser.add_argument("--version", action="version", version=f"lapicque {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        p = sub.add_parser(command.NAME, help=command.HELP, description=command.DESCRIPTION,
                           epilog=f"outputs: {command.OUTPUTS}")
        command.add_arguments(p)
        p.set_defaults(handler=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    console = Console(stderr=False)
    try:
        # the libraries' warnings (numpy, scipy, matplotlib) are gathered, not printed as they come: an error
        # stays one line, and a run that succeeds says in one line that there were some
        with terminate_as_interrupt(), warnings.catch_warnings(record=True) as caught:
            args = build_parser().parse_args(argv)
            status = args.handler(args, console)
        if caught:
            first = caught[0]
            print(f"lapicque: {len(caught)} warning(s) from the libraries underneath, the first: "
                  f"{first.category.__name__}: {str(first.message).splitlines()[0]}", file=sys.stderr)
        return status
    except LapicqueError as exc:
        print(f"lapicque: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("lapicque: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last resort: every error a user can cause is a LapicqueError above
        log = write_crash_log(argv)
        print(f"lapicque: internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}; "
              f"this is a bug in lapicque, please report it with the traceback in {log}", file=sys.stderr)
        return EXIT_BUG


@contextmanager
def terminate_as_interrupt():
    """Ctrl-C and SIGTERM stop every process the run started (simulator, compiler, model helper, FPGA
    tools) first, so that none writes into the run folder afterwards; then the run unwinds as from
    Ctrl-C and marks its folder interrupted (lapicque.runfolder)."""
    def interrupt(signum, frame):
        logging.disable(logging.CRITICAL)  # the killed processes' runners would log their deaths: not news
        stop_children()
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread (a job called from a worker thread)
        return
    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def stop_children(grace_s: float = 3.0) -> int:
    """Terminate every process this one started (simulator, compiler, model helper, FPGA tools), then kill
    what is still alive after `grace_s`; returns how many there were."""
    import psutil

    children = psutil.Process().children(recursive=True)
    for child in children:
        with suppress(psutil.NoSuchProcess):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=grace_s)
    for child in alive:
        with suppress(psutil.NoSuchProcess):
            child.kill()
    psutil.wait_procs(alive, timeout=grace_s)
    return len(children)


def write_crash_log(argv: list[str] | None) -> str:
    """The current exception's traceback, with the command line and versions, in a new file; its path."""
    import platform
    import tempfile
    import traceback

    with tempfile.NamedTemporaryFile("w", prefix="lapicque-crash-", suffix=".log", delete=False) as log:
        log.write(f"lapicque {__version__}, Python {platform.python_version()} on {platform.platform()}\n")
        log.write(f"command line: lapicque {' '.join(sys.argv[1:] if argv is None else argv)}\n\n")
        log.write(traceback.format_exc())
    return log.name


if __name__ == "__main__":
    sys.exit(main())

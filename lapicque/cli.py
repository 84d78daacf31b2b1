"""The `lapicque` command line: the commands of `lapicque.commands`, assembled.

Exit status: 0 when every check passed, 1 when a verification failed (the first mismatch is
printed), 2 for bad input (one line on stderr, no traceback), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from . import __version__
from .commands import COMMANDS
from .commands.options import EXIT_BAD_INPUT, EXIT_INTERRUPTED, Parser
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
        args = build_parser().parse_args(argv)
        return args.handler(args, console)
    except LapicqueError as exc:
        print(f"lapicque: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("lapicque: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())

"""The command layer: one module per `lapicque` command.

Each module declares NAME, HELP, DESCRIPTION, OUTPUTS, `add_arguments(parser)` and `run(args, console)`;
`run` hands the parsed options to one job of `lapicque.jobs` and prints what it returns. Nothing here
computes what a Python user could want: that is the job's. `lapicque.cli` assembles the modules listed
in COMMANDS, in the order `lapicque --help` shows them.
"""

from . import build, demo, density, explore, fi, fit, lca, net, nir, prove, report, run, sweep, tem, verify

COMMANDS = (demo, verify, prove, build, run, lca, tem, report, fi, net, density, fit, explore, nir, sweep)

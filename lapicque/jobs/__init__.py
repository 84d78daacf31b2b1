"""Jobs: what each `lapicque` command does, as plain Python functions.

Each job takes the command's options as keyword arguments under the same names and defaults
(`lapicque lca --weight-bits 6` is `lapicque.jobs.lca(weight_bits=6)`), returns the summary the command
writes to `OUT/summary.json` (or `report.json` for a build), and writes the command's files only when
given an output folder (`out=`; without one a simulator works in a temporary folder that is removed).
The command layer (`lapicque.commands`) parses options, calls one job and prints; it computes nothing.

Progress goes to an optional `status(text)` callback; bad input raises `lapicque.LapicqueError` with a
one-line message before any work starts.
"""

from .board_run import run_on_board
from .build import build
from .demo import demo
from .density import density
from .explore import explore
from .fi import fi
from .fit import fit
from .lca import lca
from .net import net
from .nir import nir_export, nir_import
from .prove import prove
from .report import report
from .sweep import sweep
from .tem import tem
from .verify import soak, verify

__all__ = ["build", "demo", "density", "explore", "fi", "fit", "lca", "net", "nir_export", "nir_import",
           "prove", "report", "sweep", "run_on_board",
           "soak", "tem", "verify"]

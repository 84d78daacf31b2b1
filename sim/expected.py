"""The fixed model's expected updates, computed in a helper process running ahead of the simulation.

The machine has two cores and the simulator uses one: the bit-exact model steps on the other, with
the same initial state and external input, and publishes each step's fields in memory-mapped
files, then bumps a step counter. The testbench compares each RTL step with the published one as
soon as it is there, so the model is still stepped once per timestep and compared step by step; it
just does not sit on the simulator's core.

    python -m lapicque.sim.expected FOLDER     # reads FOLDER/config.json and FOLDER/stimulus.npz
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from lapicque.golden.neuron import UPDATE_FIELDS, ArrayModel, State
from lapicque.spec import ArraySpec

FIELDS = UPDATE_FIELDS
PROGRESS = "expected_progress.npy"
EXPECTED = "expected.npy"  # int64 [steps, len(FIELDS), neurons]


def write_expected(folder: Path) -> None:
    config = json.loads((folder / "config.json").read_text())
    spec = ArraySpec.from_dict(config["spec"])
    stim = np.load(folder / "stimulus.npz")
    ext = stim["ext"].astype(np.int64)
    steps = ext.shape[0]
    model = ArrayModel(spec, state=State(*(stim[k].astype(np.int64) for k in ("v", "i", "ref", "pulse"))))
    out = np.lib.format.open_memmap(folder / EXPECTED, mode="w+", dtype=np.int64,
                                    shape=(steps, len(FIELDS), spec.neurons))
    tmp = folder / (PROGRESS + ".tmp")
    progress = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.int64, shape=(1,))
    os.replace(tmp, folder / PROGRESS)  # readers start only once every file exists
    for t in range(steps):
        r = model.step(ext[t])
        out[t] = r.fields()
        progress[0] = t + 1  # after the fields: a reader that sees t + 1 sees step t complete


class ExpectedReader:
    """Reads the helper's steps, waiting (up to `timeout_s` without progress) for those not yet there."""

    def __init__(self, folder: Path, timeout_s: float = 60.0):
        self.folder = folder
        self.timeout_s = timeout_s
        self.fields = None
        self.progress = None
        self.waited_s = 0.0  # time the testbench spent waiting for the helper

    def _open(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        while not (self.folder / PROGRESS).exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the fixed-model helper did not start; see {self.folder / 'expected.log'}")
            time.sleep(0.001)
        self.progress = np.load(self.folder / PROGRESS, mmap_mode="r")
        # a plain ndarray view: indexing a memmap object costs more than the comparison itself
        self.fields = np.load(self.folder / EXPECTED, mmap_mode="r").view(np.ndarray)

    def get(self, t: int) -> np.ndarray:
        """Step t's fields, [len(FIELDS), neurons] in FIELDS order."""
        start = time.perf_counter()
        if self.progress is None:
            self._open()
        if self.progress[0] <= t:
            last, deadline = int(self.progress[0]), time.monotonic() + self.timeout_s
            while self.progress[0] <= t:
                if int(self.progress[0]) != last:
                    last, deadline = int(self.progress[0]), time.monotonic() + self.timeout_s
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the fixed-model helper stopped at step {last}; "
                                       f"see {self.folder / 'expected.log'}")
                time.sleep(0.0001)
        self.waited_s += time.perf_counter() - start
        return self.fields[t]


if __name__ == "__main__":
    write_expected(Path(sys.argv[1]))

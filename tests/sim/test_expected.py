"""The fixed-model helper process: the same steps as the model, published step by step."""

import json
import subprocess
import sys

import numpy as np
import pytest

from lapicque.golden import ArrayModel
from lapicque.sim.expected import FIELDS, ExpectedReader, write_expected
from lapicque.sim.stimulus import external_input, initial_state
from lapicque.spec import random_spec


def prepare(folder, steps=40, seed=3):
    spec = random_spec(16, 2, seed=seed)
    state, ext = initial_state(spec, seed), external_input(spec, steps, seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"spec": spec.to_dict(), "options": {}}))
    np.savez(folder / "stimulus.npz", ext=ext, v=state.v, i=state.i, ref=state.ref, pulse=state.pulse)
    return spec, state, ext


def test_helper_publishes_the_models_steps(tmp_path):
    spec, state, ext = prepare(tmp_path)
    subprocess.run([sys.executable, "-m", "lapicque.sim.expected", str(tmp_path)], check=True, timeout=120)
    trace = ArrayModel(spec, state=state).run(ext)
    reader = ExpectedReader(tmp_path, timeout_s=5)
    for t in (0, 17, 39):
        step = reader.get(t)
        for k, f in enumerate(FIELDS):
            assert np.array_equal(step[k], np.asarray(trace[f][t], dtype=np.int64)), (t, f)


def test_reader_names_a_helper_that_never_started(tmp_path):
    with pytest.raises(RuntimeError, match="the fixed-model helper did not start"):
        ExpectedReader(tmp_path, timeout_s=0.05).get(0)


def test_reader_names_the_step_a_helper_stopped_at(tmp_path):
    prepare(tmp_path, steps=10)
    write_expected(tmp_path)
    progress = np.load(tmp_path / "expected_progress.npy", mmap_mode="r+")
    progress[0] = 4  # as if the helper had died after step 3
    progress.flush()
    reader = ExpectedReader(tmp_path, timeout_s=0.05)
    assert reader.get(3).shape == (len(FIELDS), 16)
    with pytest.raises(RuntimeError, match="stopped at step 4"):
        reader.get(4)

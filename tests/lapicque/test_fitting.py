"""`lapicque fit`'s runner: recordings from files, the summary it writes, the export to the array."""

import json

import numpy as np
import pytest

from lapicque.errors import LapicqueError
from lapicque.fitting import fit_recording, load_recording, synthetic_recording


def test_npy_and_npz_recordings_load_alike_and_fit(tmp_path):
    rec = synthetic_recording(10.0, 0.1, seed=4)
    np.save(tmp_path / "I.npy", rec.current)
    np.save(tmp_path / "V.npy", rec.voltage)
    np.savez(tmp_path / "rec.npz", current=rec.current, voltage=rec.voltage, dt=0.1)
    from_npy = load_recording(tmp_path / "I.npy", tmp_path / "V.npy", 0.1)
    from_npz = load_recording(tmp_path / "rec.npz", None, None)
    assert np.array_equal(from_npy.voltage, from_npz.voltage) and from_npz.dt == 0.1
    s = fit_recording(from_npz, "lif", tmp_path / "out", repeats=2)
    saved = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert saved["params"]["eta_pA"]["values"] == [] and "true" not in saved  # no truth for a file
    assert s["fitted_s"] == pytest.approx(8.0) and s["held_out_s"] == pytest.approx(2.0)
    assert s["export"]["physical"]["tau_m_ms"] == pytest.approx(s["params"]["tau_m_ms"])
    assert set(s["export"]["quantisation_errors"]) >= {"tau_m_ms", "v_th_mv", "v_reset_mv"}


def test_holdout_and_refractory_are_checked(tmp_path):
    rec = synthetic_recording(2.0, 0.1, seed=1)
    with pytest.raises(LapicqueError, match="--holdout = 0.95 must lie between 0 and 0.9"):
        fit_recording(rec, "gif", tmp_path, holdout=0.95)
    with pytest.raises(LapicqueError, match="--t-ref = 0.1 ms must span at least two samples"):
        fit_recording(rec, "gif", tmp_path, t_ref=0.1)
    assert not (tmp_path / "summary.json").exists()

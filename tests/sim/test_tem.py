"""`lapicque tem`'s runner: float, fixed and RTL backends, user files, what it writes."""

import json

import numpy as np
import pytest
from PIL import Image
from scipy.io import wavfile

from lapicque.errors import LapicqueError
from lapicque.golden import tem
from lapicque.sim.runner import simulator_missing
from lapicque.sim.tem import make_signal, run

IDEAL = tem.Encoder(3.5, 0.7, 0.01)


def test_float_run_writes_summary_signal_and_plot(tmp_path):
    signal, duration, description = make_signal("multitone", 100.0, 0.2)
    s = run(signal, duration, [IDEAL], "float", "spline", tmp_path, description=description)
    saved = json.loads((tmp_path / "summary.json").read_text())
    for key in ("neuron", "spikes", "recoverable", "decoder", "snr_db", "snr_window_s", "wall_s"):
        assert key in saved
    assert saved["neuron"] == {"kind": "ideal", "b": 3.5, "delta": 0.7, "kappa": 0.01}
    assert saved["recoverable"]["satisfied"] and saved["snr_db"] == s["snr_db"] > 41
    data = np.load(tmp_path / "signal.npz")
    assert len(data["spikes_0"]) == s["spikes"]
    assert np.allclose(data["error"], data["reconstruction"] - data["signal"])
    assert Image.open(tmp_path / "tem.png").size[0] > 100


def test_a_wav_file_is_band_limited_scaled_and_decoded(tmp_path):
    rate = 8000
    t = np.arange(int(0.3 * rate)) / rate
    wav = tmp_path / "tone.wav"
    wavfile.write(wav, rate, (8000 * np.sin(2 * np.pi * 30 * t) + 3000 * np.cos(2 * np.pi * 70 * t)).astype(np.int16))
    signal, duration, description = make_signal(str(wav), 100.0, None)
    assert signal.peak == pytest.approx(1.0) and duration == pytest.approx(0.3)
    assert description["removed_energy_fraction"] < 1e-3
    s = run(signal, duration, [IDEAL], "float", "sinc", tmp_path / "out", description=description)
    assert s["snr_db"] > 35


def test_a_signal_above_the_band_needs_lowpass(tmp_path):
    rate = 2000.0
    t = np.arange(400) / rate
    path = tmp_path / "wide.npy"
    np.save(path, np.sin(2 * np.pi * 40 * t) + np.sin(2 * np.pi * 400 * t))
    with pytest.raises(LapicqueError, match="50.0% of its energy lies above --bandwidth 100 Hz"):
        make_signal(str(path), 100.0, None, rate=rate)
    signal, _, description = make_signal(str(path), 100.0, None, rate=rate, lowpass=True)
    assert description["removed_energy_fraction"] == pytest.approx(0.5, abs=0.01)


def test_fixed_backend_decodes_the_compiled_encoders(tmp_path):
    signal, duration, _ = make_signal("multitone", 100.0, 0.1)
    s = run(signal, duration, [IDEAL], "fixed", "sinc", tmp_path)
    assert s["quantisation"]["timing_error_s"] == 5e-6
    assert s["encoders_as_compiled"][0]["b"] == pytest.approx(3.5, abs=1 / 32767)
    assert 25 < s["snr_db"] < 60


@pytest.mark.skipif(simulator_missing("verilator") is not None, reason="Verilator is not installed")
def test_rtl_encoder_spikes_equal_the_fixed_model_and_decode_to_its_snr(tmp_path):
    signal, duration, _ = make_signal("multitone", 100.0, 0.03)
    s = run(signal, duration, tem.population(IDEAL, 2), "rtl", "sinc", tmp_path)
    assert s["verified"] and s["bit_exact_mismatches"] == 0 and s["rtl_spikes_equal_fixed"]
    assert s["updates_checked"] == 2 * 3000
    assert s["snr_db"] == s["fixed_snr_db"] and s["snr_db"] > 20
    from lapicque.report import load_run, section

    section = section(load_run(tmp_path))
    assert section.passed and {c.key for c in section.checks} == {"recoverable", "bit_exact_mismatches",
                                                                  "rtl_spikes_equal_fixed", "snr_equal"}

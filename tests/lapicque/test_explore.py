"""The explorer: sliders re-simulate the model with their values; headless use renders to a file."""

import numpy as np
import pytest
from PIL import Image

from lapicque.cli import main
from lapicque.explore import build, slider_range
from lapicque.golden.models import get_model, simulate


def test_moving_a_slider_re_simulates_with_its_value():
    explorer = build("adex", duration=200.0, dt=0.1)
    before = explorer.line.get_ydata().copy()
    explorer.sliders["b"].set_val(0.0)  # no spike-triggered adaptation
    after = explorer.line.get_ydata()
    current = np.zeros((2000, 1))
    current[400:] = 800.0
    expected = simulate(get_model("adex", b=0.0), current, 200.0, 0.1, neurons=1, record=[0]).trace[:, 0, 0]
    assert np.array_equal(after, expected) and not np.array_equal(before, after)
    assert "Hz while the current is on" in explorer.line.axes.get_title()


def test_slider_ranges():
    assert slider_range("v_th", -55.0) == (-85.0, -25.0)
    assert slider_range("tau_m", 10.0) == (2.0, 50.0)
    assert slider_range("t_ref", 0.0) == (0.0, 10.0)


def test_cli_renders_to_a_file_and_refuses_a_window_without_display(tmp_path, monkeypatch, capsys):
    out = tmp_path / "explorer.png"
    assert main(["explore", "--model", "lif", "--duration", "100", "--save", str(out)]) == 0
    assert Image.open(out).size[0] > 400
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["explore", "--model", "lif"]) == 2
    assert "use --save explorer.png" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["lif", "izhikevich", "hodgkin-huxley", "axon-hillock"])
def test_every_kind_of_model_builds(name):
    explorer = build(name, duration=50.0, dt=0.05)
    assert len(explorer.line.get_xdata()) == 1001 and "current" in explorer.sliders

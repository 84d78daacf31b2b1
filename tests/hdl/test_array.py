# amaranth: UnusedElaboratable=no
"""Elaboration of the array: parameter-dependent ports, and the monitor compiled out for FPGA builds."""

import pytest
from amaranth.back import rtlil

from lapicque.errors import LapicqueError
from lapicque.hdl import NeuronArray
from lapicque.sim.verify import verify
from lapicque.spec import ArraySpec, random_spec


def ports(component) -> set[str]:
    return {"__".join(map(str, path)) for path, _, _ in component.signature.flatten(component)}


def test_monitor_is_a_port_only_when_asked_for():
    spec = random_spec(8, 2, seed=1)
    assert "monitor__payload" in ports(NeuronArray(spec))
    spec.monitor = False
    array = NeuronArray(spec)
    assert not any(name.startswith("monitor") for name in ports(array))
    text = rtlil.convert(array, name="array")  # elaborates without the monitor FIFO
    assert "monitor_fifo" not in text and "spike_queue0" in text


def test_verification_needs_the_monitor(tmp_path):
    spec = ArraySpec(4, monitor=False)
    with pytest.raises(LapicqueError, match="verification needs the state monitor; set monitor = true in the spec"):
        verify(spec, 10, tmp_path)


def test_widths_reach_the_ports():
    spec = random_spec(16, 4, seed=2)
    array = NeuronArray(spec)
    assert len(array.stim.payload.as_value()) == 4 * spec.widths.ext
    assert len(array.spikes.payload.as_value()) == 32 + 4  # timestep, neuron index of 16

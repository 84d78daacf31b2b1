"""The host side of the protocol: command bytes by hand, record parsing, the identity check."""

import struct

import numpy as np
import pytest

from lapicque.boards.host import (
    ProtocolError,
    RecordParser,
    check_ident,
    compare_runs,
    model_run,
    run_command,
    watch_commands,
    weight_row_command,
)
from lapicque.errors import LapicqueError
from lapicque.hdl.bridge import PROTOCOL_VERSION, WATCH_SLOTS
from lapicque.spec import ArraySpec, Widths


def test_weight_row_bytes_by_hand():
    spec = ArraySpec(3, weights=np.array([[1, -1, 127], [0, 0, 0], [0, 0, 0]]))
    assert weight_row_command(spec, 0) == b"W\x00\x00" + bytes([1, 0xFF, 127])
    wide = ArraySpec(2, widths=Widths(w=12), weights=np.array([[-2, 300], [0, 0]]))
    assert weight_row_command(wide, 0) == b"W\x00\x00" + bytes([0xFE, 0xFF, 0x2C, 0x01])


def test_run_and_watch_bytes():
    assert run_command(300) == b"R\x2c\x01"
    with pytest.raises(ValueError, match="0..65535"):
        run_command(70000)
    cmds = watch_commands([5, 9])
    assert len(cmds) == 5 * WATCH_SLOTS
    assert cmds[:10] == b"M\x00\x05\x00\x01" + b"M\x01\x09\x00\x01"
    assert cmds[10:15] == b"M\x02\x00\x00\x00"  # the other slots are cleared
    with pytest.raises(LapicqueError, match=f"at most {WATCH_SLOTS} neurons"):
        watch_commands(range(WATCH_SLOTS + 1))


def test_parser_reassembles_split_records():
    spec = ArraySpec(4)
    stream = b"S" + struct.pack("<IH", 7, 3) + b"D" + struct.pack("<II", 8, 1234) + b"Y\x5a"
    parser = RecordParser(spec)
    records = []
    for k in range(0, len(stream), 3):  # bytes arrive in odd chunks
        records += parser.feed(stream[k:k + 3])
    assert [(r.tag, r.fields) for r in records] == [
        ("spike", {"timestep": 7, "neuron": 3}), ("done", {"timestep": 8, "busy_cycles": 1234}),
        ("sync", {"token": 0x5A})]


def test_parser_refuses_garbage():
    with pytest.raises(ProtocolError, match="unexpected byte 0x00"):
        RecordParser(ArraySpec(4)).feed(b"\x00")


def test_identity_must_match_the_spec():
    spec = ArraySpec(16, lanes=2)
    ident = {"magic": b"LPQ", "version": PROTOCOL_VERSION, "neurons": 16, "lanes": 2, "watch_slots": 8,
             "widths": {"v": 16, "i": 16, "w": 8, "bias": 16, "ext": 8, "refractory": 4},
             "rounding": "toward_zero", "weight_exponent": 0}
    check_ident(spec, ident)
    # a bitstream built for another datapath computes other updates: refused like other widths
    with pytest.raises(ProtocolError, match="the board's bitstream has rounding = floor, the spec toward_zero"):
        check_ident(spec, {**ident, "rounding": "floor"})
    with pytest.raises(ProtocolError, match="the board's bitstream has weight_exponent = 6, the spec 0"):
        check_ident(spec, {**ident, "weight_exponent": 6})
    with pytest.raises(ProtocolError, match=f"the board speaks protocol 1, this host {PROTOCOL_VERSION}"):
        check_ident(spec, {**ident, "version": 1})
    with pytest.raises(ProtocolError, match="the board's bitstream has lanes = 4, the spec 2"):
        check_ident(spec, {**ident, "lanes": 4})
    with pytest.raises(ProtocolError, match="did not identify as a lapicque array"):
        check_ident(spec, {**ident, "magic": b"XYZ"})


def test_model_run_spikes_are_the_models():
    # one neuron with bias above threshold and no leak fires every other step (hand-computed)
    spec = ArraySpec(1, params={"bias": 60, "theta_hi": 100, "v_reset": 0, "leak": 0, "decay": 0, "refractory": 0})
    from lapicque.golden.neuron import zero_state

    run = model_run(spec, zero_state(1), 6, watch=[0])
    assert run.spikes.tolist() == [[1, 0], [3, 0], [5, 0]]
    assert [s["v"] for s in run.states] == [60, 0, 60, 0, 60, 0]
    assert compare_runs(run, run) == []

# amaranth: UnusedElaboratable=no
"""The host bridge against the protocol (`lapicque prove --parts bridge`): the default configuration's bridge is
proved with every cover reached, and each seeded bridge bug is refuted with a counterexample naming the broken
promise."""

import pytest

from lapicque.formal.bridge import identity_bytes
from lapicque.formal.prove import bridge_properties, prove
from lapicque.hdl.bridge import BUGS, REC_IDENT, WATCH_SLOTS, record_lengths
from lapicque.spec import ArraySpec


def test_the_bridge_is_proved_and_every_cover_reached(tmp_path):
    """The default configuration's bridge part (the rest: test_prove.py): the k-induction proof holds for every
    cycle of every run, and each of the nine covers is reached within its 40 cycles."""
    s = prove(ArraySpec(8, 2), tmp_path, parts=("bridge",))
    proof, cover = s["properties"]
    assert s["passed"] and (proof["kind"], proof["status"]) == ("prove", "pass")
    assert (cover["kind"], cover["status"], cover["depth"]) == ("cover", "pass", 40)
    assert (tmp_path / cover["log"]).read_text().count("Reached cover statement") == 9


@pytest.mark.parametrize(("bug", "promise"), [
    # the done record after one quiet cycle: a spike the array's FIFO offers a cycle later would follow it
    ("done_before_drained", 'Assert(s["drained"])'),
    # a byte taken while a configuration write waits for the array: the byte is lost (half a minute: slow)
    pytest.param("byte_taken_during_write", "Assert(~cfg_due & ~run_due)", marks=pytest.mark.slow),
])
def test_each_seeded_bridge_bug_fails_with_a_counterexample(tmp_path, bug, promise):
    assert bug in BUGS
    s = prove(ArraySpec(8, 2), tmp_path, inject_bug=bug, parts=("bridge",))
    proof = s["properties"][0]
    assert not s["passed"] and proof["status"] == "fail" and proof["kind"] == "prove"
    assert (tmp_path / proof["counterexample_vcd"]).exists()
    cex = proof["counterexample"]
    assert any("bridge.py" in line and promise in line for line in cex["assertions"]), cex["assertions"]
    # the table shows the host's and the array's inputs of the last steps
    assert {row["signal"].split(": ")[1] for row in cex["inputs"]} >= {"rx_valid", "rx_payload", "busy"}


def test_the_identity_the_proof_expects_is_the_one_the_host_driver_reads():
    """The shadow's identity record is written from docs/protocol.md; the host driver parses the same bytes back
    to the spec's shape."""
    from lapicque.boards.host import RecordParser, check_ident

    for monitor, slots in ((True, WATCH_SLOTS), (False, 0)):
        spec = ArraySpec(4, 2, monitor=monitor, rounding="floor", weight_exponent=3)
        record = identity_bytes(spec)
        assert len(record) == record_lengths(spec)[REC_IDENT] and record[0] == REC_IDENT
        (parsed,) = RecordParser(spec).feed(record)
        assert parsed.tag == "ident" and parsed.fields["watch_slots"] == slots
        check_ident(spec, parsed.fields)  # raises for any field that is not the spec's


def test_the_bridge_proof_uses_the_specs_datapath():
    spec = ArraySpec(8, 2, rounding="floor", weight_exponent=2)
    proof, cover = bridge_properties(spec)
    assert (proof.kind, cover.kind) == ("prove", "cover") and cover.depth >= 40
    assert proof.spec.rounding == "floor" and proof.spec.weight_exponent == 2 and proof.spec.monitor


def test_the_command_names_the_broken_promise_when_no_value_differs(tmp_path, capsys):
    """A done record sent too early carries right bytes: the console names the failed assertion instead."""
    from lapicque.cli import main

    out = tmp_path / "proof"
    assert main(["prove", "--parts", "bridge", "--inject-bug", "done_before_drained", "--out", str(out)]) == 1
    printed = " ".join(capsys.readouterr().out.split())
    assert "counterexample for host bridge = protocol" in printed
    assert "failed at step" in printed and 'Assert(s["drained"])' in printed

"""The width converters proved for every run: nothing lost, duplicated, reordered or changed, valid held until
ready, no deadlock; and a converter that drops its consumer's ready refuted with a counterexample."""

from lapicque.formal.prove import STREAM_COUNTS, prove
from lapicque.spec import ArraySpec


def test_the_converters_are_proved_and_every_state_is_reachable(tmp_path):
    s = prove(ArraySpec(8, 2), tmp_path, parts=("streams",))
    proofs = [p for p in s["properties"] if p["kind"] == "prove"]
    covers = [p for p in s["properties"] if p["kind"] == "cover"]
    assert s["passed"] and len(proofs) == 2 * len(STREAM_COUNTS) and len(covers) == 2
    assert all(p["status"] == "pass" for p in s["properties"])
    for cover in covers:  # each harness names four states; SymbiYosys wrote a trace reaching each
        assert (tmp_path / cover["log"]).read_text().count("Reached cover statement") == 4, cover["name"]


def test_a_dropped_ready_fails_with_a_counterexample(tmp_path):
    """The fifth seeded bug of issue 18: the converters let a beat go whether or not the consumer took it."""
    s = prove(ArraySpec(8, 2), tmp_path, parts=("streams",), inject_bug="dropped_ready")
    assert not s["passed"]
    for p in s["properties"]:
        if p["kind"] != "prove":
            continue
        assert p["status"] == "fail", p["name"]
        cex = p["counterexample"]
        assert (tmp_path / p["counterexample_vcd"]).exists()
        assert cex["assertions"] and all("Assert" in line for line in cex["assertions"])
        # the table shows it: an item the consumer never took is gone, or the beat it was offered vanished
        assert cex["differs"], (p["name"], cex)

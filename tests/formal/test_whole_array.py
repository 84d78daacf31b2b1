# amaranth: UnusedElaboratable=no
"""The small whole array against its shadow (part 4 of `lapicque prove`): seeded bugs of the array's own logic
are refuted with a counterexample naming what the datapath was wrongly fed."""

from pathlib import Path

import pytest

from lapicque.formal.prove import REDUCED, prove
from lapicque.formal.sby import run_property, warm_up
from lapicque.formal.whole_array import ArrayProperties, whole_array_spec
from lapicque.spec import ArraySpec


@pytest.mark.parametrize(("bug", "field"), [
    ("read_during_config_write", "state"),  # the bug the proof found: a run's first read raced a write
    ("accumulator_bank_swapped", "acc"),  # the update side reads the bank propagation fills
])
def test_an_array_bug_fails_with_a_counterexample(tmp_path, bug, field):
    s = prove(ArraySpec(8, 2), tmp_path, parts=("array",), inject_bug=bug)
    bmc = s["properties"][0]
    assert not s["passed"] and bmc["kind"] == "bmc" and bmc["status"] == "fail"
    cex = bmc["counterexample"]
    assert (tmp_path / bmc["counterexample_vcd"]).exists()
    assert any(d.split(": ")[1].startswith(field) for d in cex["differs"]), cex["differs"]
    assert any("whole_array.py" in line and "Assert" in line for line in cex["assertions"]), cex["assertions"]


def test_the_monitor_is_required():
    with pytest.raises(ValueError, match="monitor"):
        ArrayProperties(ArraySpec(4, 2, monitor=False))


@pytest.mark.slow
def test_an_uncleared_accumulator_fails_four_timesteps_in(tmp_path):
    """Stale sums show only when a bank comes round again: the fourth timestep, past the default depth."""
    warm_up()
    spec = whole_array_spec(ArraySpec(8, 2), REDUCED)
    outcome = run_property(ArrayProperties(spec, inject_bug="accumulator_not_cleared"), "bmc", 32,
                           Path(tmp_path), flat_memories=True)
    assert outcome.status == "fail"

"""The mutation benchmark's mutants: many, spread, real changes to the hardware, and run for real."""

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("bench_mutants", REPO / "benchmarks" / "bench_mutants.py")
bench = importlib.util.module_from_spec(spec)
sys.modules["bench_mutants"] = bench
spec.loader.exec_module(bench)


@pytest.fixture(scope="module")
def pool():
    return bench.candidates()


def test_there_are_many_candidates_of_every_kind_in_every_file(pool):
    assert len(pool) >= 300
    assert {m.kind for m in pool} == set(bench.KINDS)
    assert {m.file for m in pool} == set(bench.FILES)
    assert len({m.id for m in pool}) == len(pool)  # ids name one mutant each


def test_the_draw_is_seeded_and_spread_over_kinds_and_files(pool):
    first, again, other = bench.draw(pool, 80, 0), bench.draw(pool, 80, 0), bench.draw(pool, 80, 1)
    assert first == again and first != other and len(set(first)) == 80
    kinds = {k: sum(m.kind == k for m in first) for k in bench.KINDS}
    assert min(kinds.values()) >= 5, kinds  # even the rare kinds are drawn
    assert len({m.file for m in first}) == len(bench.FILES)


def test_a_mutant_changes_exactly_its_node_and_nothing_else(pool):
    for m in bench.draw(pool, 40, 3):
        original = ast.unparse(ast.parse((REPO / m.file).read_text())).splitlines()
        mutated = bench.mutated_source(m).splitlines()
        assert len(original) == len(mutated)
        changed = [(a, b) for a, b in zip(original, mutated, strict=True) if a != b]
        assert len(changed) == 1, (m.id, changed)
        assert m.after.replace(" ", "") in changed[0][1].replace(" ", ""), (m.id, changed)


def test_the_seeded_bug_switches_are_never_mutated(pool):
    lines = {f: (REPO / f).read_text().splitlines() for f in bench.FILES}
    assert not any("inject_bug" in lines[m.file][m.line - 1] for m in pool)


def test_a_mutant_tree_imports_the_mutant_and_the_chain_kills_it(tmp_path, pool):
    """The saturation flag set at the limit itself (`>=` for `>`): the datapath proof fails on it."""
    m = next(x for x in pool if x.file == "hdl/datapath.py" and x.kind == "compare" and x.before == "value > hi")
    bench.make_tree(m, tmp_path)
    shown = subprocess.run([sys.executable, "-c", "import lapicque.hdl.datapath as d, inspect; print(d.__file__); "
                            "print('value >= hi' in inspect.getsource(d))"], cwd=tmp_path, capture_output=True,
                           text=True, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert shown.stdout.split() == [str(tmp_path / "lapicque" / "hdl" / "datapath.py"), "True"], shown.stderr
    outcome = bench._run_step("proof-datapath", tmp_path, tmp_path / "cache")
    assert outcome["failed"] and "datapath = contract" in outcome["reason"]
    # the original elaborates in the worker too (that it passes the proof is tests/formal/test_prove.py's)
    assert not bench.worker("elaborate")["failed"]


def test_a_mutant_in_a_seeded_bugs_branch_is_equivalent_without_running(pool, tmp_path):
    inside = [m for m in pool if bench.in_seeded_bug_branch(m)]
    assert {m.file for m in inside} >= {"hdl/datapath.py", "hdl/bridge.py"}
    for m in inside:  # the branch's own line is right above each
        assert "self.inject_bug ==" in (REPO / m.file).read_text().splitlines()[m.line - 2], m
    verdict = bench.run_chain(inside[0], tmp_path)
    assert verdict["verdict"] == "equivalent" and verdict["steps"] == []

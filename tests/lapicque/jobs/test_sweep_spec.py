"""The sweep file: its checks (one line naming the key, before any task), its grid, its keys, its Pareto fronts."""

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lapicque.errors import LapicqueError
from lapicque.jobs.sweep_spec import WORKLOADS, load_sweep, pareto, task_key

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "sweeps"

GOOD = """
name = "t"
stages = ["model", "rtl", "board"]
[workload]
kind = "lca"
atoms = 16
seeds = [0, 1]
[axes]
weight_bits = [4, 8]
lanes = [1, 2]
board = ["icebreaker", "ulx3s-85f"]
[objectives]
rel_gap = "min"
luts = "min"
time_to_1pct_gap_us = "min"
"""


def write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_examples_load():
    files = sorted(EXAMPLES.glob("*.toml"))
    assert len(files) >= 3
    kinds = {load_sweep(f).kind for f in files}
    assert kinds == {"lca", "tem", "verify"}


def test_the_grid_is_every_combination_over_the_defaults(tmp_path):
    spec = load_sweep(write(tmp_path, GOOD))
    points = spec.points()
    assert len(points) == 2 * 2 * 2
    assert [(p["weight_bits"], p["lanes"], p["board"]) for p in points[:3]] == [
        (4, 1, "icebreaker"), (4, 1, "ulx3s-85f"), (4, 2, "icebreaker")]
    assert all(p["atoms"] == 16 and p["dim"] == WORKLOADS["lca"].params["dim"].default for p in points)
    assert spec.seeds == (0, 1)
    assert "time_to_1pct_gap_us" in spec.figures()


def test_stages_run_in_order_and_default_to_the_first(tmp_path):
    text = GOOD.replace('stages = ["model", "rtl", "board"]', 'stages = ["board", "model"]')
    text = text.replace('time_to_1pct_gap_us = "min"\n', "")
    assert load_sweep(write(tmp_path, text)).stages == ("model", "board")
    bare = '[workload]\nkind = "tem"\n[objectives]\nsnr_db = "max"\n'
    assert load_sweep(write(tmp_path, bare)).stages == ("model",)


BAD = [
    (GOOD.replace("weight_bits = [4, 8]", "weight_bitz = [4, 8]"), "axes.weight_bitz: unknown parameter"),
    (GOOD.replace("weight_bits = [4, 8]", "weight_bits = [4, 99]"), "axes.weight_bits: 99 is out of range"),
    (GOOD.replace("weight_bits = [4, 8]", "weight_bits = []"), "axes.weight_bits must be a non-empty list"),
    (GOOD.replace("weight_bits = [4, 8]", "weight_bits = 8"), "axes.weight_bits must be a non-empty list"),
    (GOOD.replace("weight_bits = [4, 8]", "weight_bits = [8, 8]"), "lists a value twice"),
    (GOOD.replace('board = ["icebreaker", "ulx3s-85f"]', 'board = ["nosuch"]'), "axes.board: 'nosuch'"),
    (GOOD.replace('luts = "min"', 'lutz = "min"'), "objectives.lutz: no stage of this sweep gives it"),
    (GOOD.replace('luts = "min"', 'luts = "least"'), "choose \"min\" or \"max\""),
    (GOOD.replace('stages = ["model", "rtl", "board"]', 'stages = ["model"]'),
     "objectives.luts: no stage of this sweep gives it; add the stage board"),
    (GOOD.replace('stages = ["model", "rtl", "board"]', 'stages = ["rtl", "board"]'),
     "the board stage reads the model stage's results"),
    (GOOD.replace('stages = ["model", "rtl", "board"]', 'stages = ["model", "fpga"]'), "'fpga' is not a stage"),
    (GOOD.replace('stages = ["model", "rtl", "board"]', "stages = []"), "stages must be a non-empty list"),
    (GOOD.replace('kind = "lca"', 'kind = "lsd"'), "workload.kind = 'lsd' is unknown"),
    (GOOD.replace('kind = "lca"\n', ""), "[workload] with kind"),
    (GOOD.replace("atoms = 16", "atoms = 0"), "workload.atoms = 0 is out of range"),
    (GOOD.replace("atoms = 16", "atoms = true"), "workload.atoms = True is out of range"),
    (GOOD.replace("atoms = 16", "lanes = 2"), "is both fixed in [workload] and swept in [axes]"),
    (GOOD.replace("seeds = [0, 1]", "seeds = []"), "workload.seeds must be a non-empty list"),
    (GOOD.replace("seeds = [0, 1]", "seeds = [-1]"), "workload.seeds must be a non-empty list"),
    (GOOD.replace("seeds = [0, 1]", "seeds = [0, 1]\nseed = 3"), "not both"),
    (GOOD.replace('name = "t"', 'nome = "t"'), "nome: unknown key"),
    (GOOD.replace("[objectives]\nrel_gap = \"min\"\nluts = \"min\"\ntime_to_1pct_gap_us = \"min\"\n", ""),
     "[objectives] must name at least one figure"),
    (GOOD.replace("weight_bits = [4, 8]", "weight_bits = [" + ", ".join(str(2 + i % 15) for i in range(1)) + "]\n"
                  "atoms_ = 1"), "unknown parameter"),
    ("this is not toml", "is not valid TOML"),
    ('[workload]\nkind = "verify"\nspec = "missing.toml"\nstages = ["rtl"]\n[objectives]\npassed = "max"\n',
     "unknown parameter"),
    ('stages = ["rtl"]\n[workload]\nkind = "verify"\nspec = "missing.toml"\n[objectives]\npassed = "max"\n',
     "missing.toml does not exist"),
    ('stages = ["rtl"]\n[workload]\nkind = "tem"\n[objectives]\nsnr_db = "max"\n',
     "objectives.snr_db: no stage of this sweep gives it; add the stage model"),
]


@pytest.mark.parametrize("text, message", BAD)
def test_a_bad_sweep_file_is_one_line_naming_the_problem(tmp_path, text, message):
    with pytest.raises(LapicqueError) as raised:
        load_sweep(write(tmp_path, text))
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_too_many_points_are_refused(tmp_path):
    text = GOOD.replace("atoms = 16", "atoms = 16\nsteps = 10").replace(
        "weight_bits = [4, 8]", "weight_bits = [" + ", ".join(map(str, range(2, 17))) + "]\n"
        "rate = [" + ", ".join(str(k / 1000) for k in range(1, 400)) + "]")
    with pytest.raises(LapicqueError, match="points; at most"):
        load_sweep(write(tmp_path, text))


def test_a_missing_file_names_itself(tmp_path):
    with pytest.raises(LapicqueError, match="does not exist"):
        load_sweep(tmp_path / "nope.toml")


def test_a_spec_file_of_verify_takes_no_neurons(tmp_path):
    write(tmp_path, "neurons = 4\n", "a.toml")
    text = 'stages = ["rtl"]\n[workload]\nkind = "verify"\nspec = "a.toml"\nneurons = 8\n[objectives]\npassed = "max"\n'
    with pytest.raises(LapicqueError, match="neurons is for the random array"):
        load_sweep(write(tmp_path, text))


def test_task_keys_follow_every_input():
    base = task_key("lca", "model", {"weight_bits": 8, "atoms": 16}, 0, {"lapicque": "0.1.0"})
    assert base == task_key("lca", "model", {"atoms": 16, "weight_bits": 8}, 0, {"lapicque": "0.1.0"})
    others = [task_key("lca", "model", {"weight_bits": 6, "atoms": 16}, 0, {"lapicque": "0.1.0"}),
              task_key("lca", "model", {"weight_bits": 8, "atoms": 16}, 1, {"lapicque": "0.1.0"}),
              task_key("lca", "rtl", {"weight_bits": 8, "atoms": 16}, 0, {"lapicque": "0.1.0"}),
              task_key("tem", "model", {"weight_bits": 8, "atoms": 16}, 0, {"lapicque": "0.1.0"}),
              task_key("lca", "model", {"weight_bits": 8, "atoms": 16}, 0, {"lapicque": "0.2.0"})]
    assert len({base, *others}) == 6


def test_points_share_the_tasks_whose_inputs_they_share(tmp_path):
    from lapicque.jobs.sweep import plan

    spec = load_sweep(write(tmp_path, GOOD))
    points, tasks = plan(spec)
    by_stage = {stage: {k for k, t in tasks.items() if t["stage"] == stage} for stage in spec.stages}
    # the model reads neither lanes nor board: 2 widths x 2 seeds; the RTL reads lanes but runs the first
    # seed only: 2 widths x 2 lanes; the board build reads lanes and board but no seed: 2 x 2 x 2
    assert (len(by_stage["model"]), len(by_stage["rtl"]), len(by_stage["board"])) == (4, 4, 8)
    assert all(len(p["tasks"]["model"]) == 2 and len(p["tasks"]["rtl"]) == 1 and len(p["tasks"]["board"]) == 1
               for p in points)
    assert {tasks[p["tasks"]["rtl"][0]]["seed"] for p in points} == {0}
    assert {tasks[p["tasks"]["board"][0]]["seed"] for p in points} == {None}
    # every board build reads a model run of its own width
    for task in tasks.values():
        if task["stage"] == "board":
            assert tasks[task["upstream"][0]]["params"]["weight_bits"] == task["params"]["weight_bits"]


@pytest.mark.parametrize(("axis", "shared"), [
    ("rate = [0.2, 0.3]", False), ("lam = [0.1, 0.2]", False), ("weight_exponent = [1, 2]", False),
    ("target_gap = [0.01, 0.02]", False), ("steps = [100, 200]", True), ("sim = ['verilator', 'icarus']", True)])
def test_a_board_build_is_shared_only_by_points_whose_compiled_array_is_the_same(tmp_path, axis, shared):
    """The board builds the array the model compiled: everything that changes it (rate, lam, the exponent, the
    target gap that chooses the exponent) separates the builds, what only changes a run (steps, the simulator) does
    not."""
    from lapicque.jobs.sweep import plan

    text = ('stages = ["model", "board"]\n[workload]\nkind = "lca"\natoms = 8\ndim = 4\nseeds = [3, 4]\n'
            f'[axes]\n{axis}\n[objectives]\nrel_gap = "min"\nluts = "min"\n')
    points, tasks = plan(load_sweep(write(tmp_path, text)))
    boards = [p["tasks"]["board"][0] for p in points]
    assert (boards[0] == boards[1]) is shared
    # and it reads the first seed's model of its own point
    for p in points:
        upstream = tasks[tasks[p["tasks"]["board"][0]]["upstream"][0]]
        assert upstream["seed"] == 3 and upstream["key"] in (points[0]["tasks"]["model"][0],
                                                             points[1]["tasks"]["model"][0])
    other_seeds = plan(load_sweep(write(tmp_path, text.replace("seeds = [3, 4]", "seeds = [5, 4]"))))[0]
    assert other_seeds[0]["tasks"]["board"][0] != boards[0]  # another first seed is another problem


def point(values, status="done"):
    return {"figures": dict(zip("ab", values, strict=True)), "status": status}


def test_pareto_by_hand():
    points = [point((1, 5)), point((2, 2)), point((3, 1)), point((3, 3)), point((2, 2)), point((0.5, 9), "failed"),
              point((math.nan, 0)), point((None, 0)), point((4, 1))]
    assert pareto(points, "a", "b", {"a": "min", "b": "min"}) == [0, 1, 4, 2]
    # maximising b: (1, 5) dominates everything it is not beaten on in a
    assert pareto(points, "a", "b", {"a": "min", "b": "max"}) == [0]
    assert pareto(points, "a", "a", {"a": "max"}) == [8]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=25),
       st.sampled_from(["min", "max"]), st.sampled_from(["min", "max"]))
def test_pareto_against_a_sweep_line(values, first, second):
    """The front by the definition (no point at least as good in both and better in one) against the textbook
    sweep: sort by the first objective, keep what improves the best second seen."""
    points = [point(v) for v in values]
    got = pareto(points, "a", "b", {"a": first, "b": second})
    signs = (1 if first == "min" else -1, 1 if second == "min" else -1)
    keyed = sorted(((signs[0] * a, signs[1] * b), i) for i, (a, b) in enumerate(values))
    front, best = [], math.inf
    for (a, b), i in keyed:
        if b < best:
            front.append(((a, b), i))
            best = b
        elif b == best and front and front[-1][0] == (a, b):  # exact duplicates are both on the front
            front.append(((a, b), i))
    assert sorted(got) == sorted(i for _, i in front)


def test_docs_name_every_parameter_stage_and_figure():
    text = (EXAMPLES.parents[1] / "docs" / "sweep.md").read_text()
    for kind, w in WORKLOADS.items():
        for name in [*w.params, *(f for figures in w.figures.values() for f in figures), *w.derived]:
            assert f"`{name}`" in text, (kind, name)


def test_a_point_with_a_failed_stage_is_failed_even_while_another_is_pending(tmp_path):
    from lapicque.jobs.sweep import assemble, plan

    spec = load_sweep(write(tmp_path, GOOD))
    points, tasks = plan(spec)
    point = points[0]
    failed = {"status": "failed", "reason": "no", "figures": {}, "from_cache": False}
    results = {point["tasks"]["model"][0]: failed}  # the other seed's model, the RTL and the board still running
    record = assemble(spec, point, results, tmp_path)
    assert (record["status"], record["reason"], record["from_cache"]) == ("failed", "model: no", False)
    assert assemble(spec, point, {}, tmp_path)["status"] == "pending"

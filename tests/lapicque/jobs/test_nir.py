"""`lapicque nir import` and `export` as a user meets them: the files, the RTL run, the round trips through
the command line, and bad input refused in one line before anything is written."""

import json
from pathlib import Path

import nir
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lapicque import jobs
from lapicque.cli import main
from lapicque.errors import LapicqueError
from lapicque.golden import nir_graph
from lapicque.spec import load_spec, spec_toml

from ..test_cli import run_cli
from .test_jobs import command_summary, comparable

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nir"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def fixture_input(tmp_path, name="snntorch-lif", steps=None):
    x = np.load(FIXTURES / f"{name}.npz")["input"][:steps]
    np.save(tmp_path / "input.npy", x)
    return tmp_path / "input.npy"


def test_import_writes_a_spec_verify_accepts_and_the_models_outputs(tmp_path):
    out = tmp_path / "net"
    result = run_cli("nir", "import", FIXTURES / "snntorch-lif.nir", "--dt", "1e-4", "--input",
                     fixture_input(tmp_path), "--out", out)
    assert result.returncode == 0, result.stderr
    assert "fixed vs float:" in result.stdout and "v > v_threshold" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    spec = load_spec(out / "spec.toml")  # what verify --spec and build --spec read
    assert spec.neurons == summary["neurons"] == 74 and summary["latency_steps"] == 1
    assert [p["node"] for p in summary["populations"]] == ["1", "3"]
    outputs = np.load(out / "outputs.npz")
    assert set(outputs.files) == {"input", "float", "fixed"}
    assert outputs["float"].shape == outputs["fixed"].shape == (1000, 10)
    recorded = np.load(FIXTURES / "snntorch-lif.npz")["spikes"]
    assert np.array_equal(outputs["float"], recorded)  # the framework's own spikes
    agreement = summary["agreement"]["fixed_vs_float"]
    assert agreement["counts"][0] == outputs["float"].sum(axis=0).tolist()
    assert agreement["counts"][1] == outputs["fixed"].sum(axis=0).tolist()
    assert "passed" not in summary  # no RTL, no verdict
    assert summary["worst_relative_error"] == max(r["relative_error"] for r in summary["parameters"])


def test_the_job_gives_the_command_summary(tmp_path):
    argv = ["nir", "import", str(FIXTURES / "norse-cuba.nir"), "--dt", "1e-3", "--input",
            str(fixture_input(tmp_path, "norse-cuba", 100))]
    cli = command_summary(argv, tmp_path / "c")
    job = jobs.nir_import(graph=FIXTURES / "norse-cuba.nir", dt=1e-3, input=tmp_path / "input.npy")
    assert comparable(job) == cli


def test_spike_trains_may_be_booleans():
    x = np.load(FIXTURES / "snntorch-lif.npz")["input"][:60]
    as_bool = jobs.nir_import(graph=FIXTURES / "snntorch-lif.nir", dt=1e-4, input=x.astype(bool))
    as_float = jobs.nir_import(graph=FIXTURES / "snntorch-lif.nir", dt=1e-4, input=x)
    assert as_bool["agreement"] == as_float["agreement"] and sum(as_bool["agreement"]["fixed_vs_float"]["counts"][0])


def test_the_rtl_runs_the_imported_graph_bit_exact(tmp_path):
    out = tmp_path / "rtl"
    summary = jobs.nir_import(graph=FIXTURES / "snntorch-rleaky.nir", dt=1e-4, refractory=["1.lif=1"],
                              input=fixture_input(tmp_path, "snntorch-rleaky", 250), backend="rtl", lanes=2, out=out)
    rtl = summary["rtl"]
    assert rtl["bit_exact_mismatches"] == 0 and rtl["float_bound_violations"] == 0
    assert rtl["updates_checked"] == 40 * (250 + 1)
    assert rtl["spikes_identical_to_fixed"] and summary["passed"]
    outputs = np.load(out / "outputs.npz")
    assert np.array_equal(outputs["rtl"], outputs["fixed"]) and outputs["rtl"].sum() > 20
    assert summary["agreement"]["rtl_vs_fixed"]["coincident_all"] == 1.0


def test_export_then_import_through_the_command_line_gives_the_spec_back(tmp_path):
    graph = tmp_path / "hysteresis.nir"
    result = run_cli("nir", "export", EXAMPLES / "hysteresis.toml", "--out", graph)
    assert result.returncode == 0, result.stderr
    assert "hysteresis (16)" in " ".join(result.stdout.split())
    assert isinstance(nir.read(str(graph)), nir.NIRGraph)  # NIR's own reader
    result = run_cli("nir", "import", graph, "--out", tmp_path / "back")  # dt and lanes from the export
    assert result.returncode == 0, result.stderr
    assert spec_toml(load_spec(tmp_path / "back" / "spec.toml")) == spec_toml(load_spec(EXAMPLES / "hysteresis.toml"))


def test_an_import_folder_exports_the_original_graph_restated(tmp_path):
    out = tmp_path / "net"
    jobs.nir_import(graph=FIXTURES / "snntorch-rleaky.nir", dt=1e-4, refractory={"1.lif": 1}, out=out)
    summary = jobs.nir_export(spec=out, out=tmp_path / "back.nir")
    assert summary["replaced"] == ["1.lif", "1.w_rec", "2", "3"]
    back = nir.read(str(tmp_path / "back.nir"))
    original = nir.read(str(FIXTURES / "snntorch-rleaky.nir"))
    assert set(back.nodes) == set(original.nodes)
    assert not np.array_equal(back.nodes["2"].weight, original.nodes["2"].weight)
    assert np.allclose(back.nodes["2"].weight, original.nodes["2"].weight, atol=0.01)


def test_an_import_folder_left_by_an_interrupted_run_is_not_exported(tmp_path):
    from lapicque.runfolder import MARKER

    out = tmp_path / "net"
    jobs.nir_import(graph=FIXTURES / "snntorch-lif.nir", dt=1e-4, out=out)
    (out / MARKER).write_text(json.dumps({"state": "interrupted"}))
    with pytest.raises(LapicqueError, match="did not finish"):
        jobs.nir_export(spec=out, out=tmp_path / "back.nir")
    assert not (tmp_path / "back.nir").exists()


def write_conv_graph(path):
    """Input (1 channel x 4) -> Conv1d (2 channels, kernel 3) -> Flatten -> LIF(4) -> Output: NIR-conformant."""
    conv = nir.Conv1d(input_shape=4, weight=np.ones((2, 1, 3)), stride=1, padding=0, dilation=1, groups=1,
                      bias=np.zeros(2))
    lif = nir.LIF(tau=np.full(4, 0.01), r=np.ones(4), v_leak=np.zeros(4), v_threshold=np.ones(4),
                  v_reset=np.zeros(4))
    flat = nir.Flatten(input_type={"input": np.array([2, 2])}, start_dim=0, end_dim=-1)
    nir.write(str(path), nir.NIRGraph(nodes={"input": nir.Input(np.array([1, 4])), "conv": conv, "flat": flat,
                                             "lif": lif, "output": nir.Output(np.array([4]))},
                                      edges=[("input", "conv"), ("conv", "flat"), ("flat", "lif"),
                                             ("lif", "output")]))
    return path


def bad_inputs(tmp_path):
    lif = FIXTURES / "snntorch-lif.nir"
    not_hdf5 = tmp_path / "notes.nir"
    not_hdf5.write_text("hello")
    np.save(tmp_path / "wide.npy", np.zeros((10, 7)))
    np.save(tmp_path / "nan.npy", np.full((10, 32), np.nan))
    np.save(tmp_path / "strong.npy", np.full((10, 32), 1e6))
    return [
        (["import", tmp_path / "missing.nir", "--dt", "1e-4"], "missing.nir: no such file"),
        (["import", not_hdf5, "--dt", "1e-4"], "notes.nir: not a NIR file (HDF5)"),
        (["import", tmp_path, "--dt", "1e-4"], "a folder; give the .nir file"),
        (["import", FIXTURES / "norse-cuba-as-exported.nir", "--dt", "1e-3"], "NIR's reader refuses the graph"),
        (["import", write_conv_graph(tmp_path / "conv.nir"), "--dt", "1e-3"], "node 'conv' (Conv1d) cannot be mapped"),
        (["import", lif], "give --dt, the time step in seconds"),
        (["import", lif, "--dt", "1e-3"], "forward Euler at this dt is unstable"),
        (["import", lif, "--dt", "1e-4", "--input", tmp_path / "wide.npy"], "(10, 7); the graph takes steps x 32"),
        (["import", lif, "--dt", "1e-4", "--input", tmp_path / "nan.npy"], "must hold finite numbers"),
        (["import", lif, "--dt", "1e-4", "--input", tmp_path / "strong.npy"], "ext codes at step 0; widths.ext = 16"),
        (["import", lif, "--dt", "1e-4", "--refractory", "x=y"], "give STEPS or NODE=STEPS"),
        (["import", lif, "--dt", "1e-4", "--refractory", "9=1"], "--refractory names '9', which is not a spiking"),
        (["import", lif, "--dt", "1e-4", "--w-bits", "1"], "--w-bits 1 is out of range"),
        (["import", lif, "--dt", "-1"], "argument --dt"),
        (["export", EXAMPLES / "hysteresis.toml", "--out", tmp_path / "x.h5"], "name a .nir file"),
        (["export", EXAMPLES / "hysteresis.toml", "--out", tmp_path / "nowhere" / "x.nir"], "does not exist; make it"),
        (["export", tmp_path / "missing.toml", "--out", tmp_path / "x.nir"], "cannot read spec file"),
        (["export", tmp_path, "--out", tmp_path / "x.nir"], "not a finished `lapicque nir import` run"),
    ]


def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys):
    for args, message in bad_inputs(tmp_path):
        out = tmp_path / "never"
        extra = ["--out", str(out)] if args[0] == "import" else []
        assert main(["nir", *map(str, args), *extra]) == 2, args
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], (args, err)
        assert not out.exists() and not (tmp_path / "x.nir").exists(), args


def test_bad_input_from_the_shell_is_one_line_exit_2(tmp_path):
    result = run_cli("nir", "import", FIXTURES / "norse-cuba-as-exported.nir", "--dt", "1e-3", "--out", tmp_path / "o")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "NIR's reader refuses the graph" in result.stderr and not (tmp_path / "o").exists()


# -- hostile graphs: accepted, or refused in one line --------------------------------------------------------

numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -1.0, 1e-300, 1e300]),
                    st.floats(1e-6, 10.0))


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["LIF", "CubaLIF", "IF"]), tau=numbers, tau_syn=numbers, r=numbers, v_leak=numbers,
       threshold=numbers, reset=numbers, w_in=numbers, weight=numbers, dt=st.sampled_from([1e-4, 1e-3, 1.0]),
       how=st.sampled_from(nir_graph.DISCRETISATIONS))
def test_any_parameter_values_compile_or_are_refused_in_one_line(kind, tau, tau_syn, r, v_leak, threshold, reset,
                                                                  w_in, weight, dt, how):
    def a(x):
        return np.full(2, x)

    if kind == "LIF":
        node = nir.LIF(tau=a(tau), r=a(r), v_leak=a(v_leak), v_threshold=a(threshold), v_reset=a(reset))
    elif kind == "CubaLIF":
        node = nir.CubaLIF(tau_syn=a(tau_syn), tau_mem=a(tau), r=a(r), v_leak=a(v_leak), v_threshold=a(threshold),
                           v_reset=a(reset), w_in=a(w_in))
    else:
        node = nir.IF(r=a(r), v_threshold=a(threshold), v_reset=a(reset))
    graph = nir.NIRGraph(nodes={"input": nir.Input(np.array([2])), "w": nir.Linear(np.full((2, 2), weight)),
                                "n": node, "rec": nir.Linear(np.full((2, 2), weight)),
                                "output": nir.Output(np.array([2]))},
                         edges=[("input", "w"), ("w", "n"), ("n", "rec"), ("rec", "n"), ("n", "output")])
    try:
        with np.errstate(all="ignore"):
            c = nir_graph.compile_graph(graph, dt, how)
    except LapicqueError as error:
        assert "\n" not in str(error) and str(error)
        return
    # what compiles runs, and the float model's values are finite
    for name, values in c.float_params.items():
        assert np.all(np.isfinite(values)), name
    try:
        run = nir_graph.run(c, np.ones((5, 2)), fixed=True)
    except LapicqueError as error:  # an input too strong for ext is named
        assert "ext codes" in str(error)
        return
    assert run["outputs"].shape == (5, 2)


@pytest.mark.parametrize("name", ["snntorch-lif", "snntorch-cuba", "snntorch-rleaky", "norse-cuba", "norse-recurrent"])
def test_every_fixture_records_its_framework_and_how_to_import_it(name):
    meta = json.loads((FIXTURES / f"{name}.json").read_text())
    assert meta["framework"] in meta["versions"] and meta["import"].startswith("lapicque nir import")
    words = meta["import"].split()
    assert float(words[words.index("--dt") + 1]) == meta["dt"]

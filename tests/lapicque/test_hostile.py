"""Hostile input, generated (Hypothesis): the spec loader and the readers of users' files and run folders either
accept the input or refuse it with one LapicqueError line; never another exception, never a hang."""

import json
import math
import string

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lapicque.errors import LapicqueError

# the default run is reproducible (the same examples every time, so CI does not turn red by chance);
# the -m slow profile below draws new ones
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
LONG = settings(SETTINGS, max_examples=3000, derandomize=False)


def both_profiles(body, **strategies):
    """The property `body` as two tests: the default run's, and a longer one with new examples (-m slow)."""
    return SETTINGS(given(**strategies)(body)), pytest.mark.slow(LONG(given(**strategies)(body)))


def toml_value(value) -> str:
    """A Python value as TOML (what a user could have typed)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


scalars = st.one_of(st.booleans(), st.integers(-2**40, 2**40), st.integers(-3, 300),
                    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["exponential", "linear",
                    "absolute", "subtract", "", "no", "yes"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                       st.dictionaries(st.sampled_from(["a", "low", "high", "v"]),
                                                                       inner, max_size=3)), max_leaves=8)
WIDTHS = ["v", "i", "w", "bias", "ext", "refractory", "x"]
PARAMS = ["bias", "leak", "decay", "theta_hi", "theta_lo", "refractory", "v_reset", "reset_current", "leak_mode",
          "reset_mode", "hysteresis", "tau", "du", "dv", "bias_mant", "bias_exp", "vth", "vth_lo"]
specs = st.fixed_dictionaries(
    {},
    optional={
        "neurons": st.one_of(st.integers(-2, 70_000), values), "lanes": st.one_of(st.integers(-1, 9), values),
        "monitor": values,
        "preset": st.one_of(st.just("loihi"), values), "rounding": st.one_of(st.just("floor"), values),
        "weight_exponent": st.one_of(st.integers(-2, 20), values),
        "widths": st.one_of(st.dictionaries(st.sampled_from(WIDTHS), st.one_of(st.integers(0, 40), values),
                                            max_size=4), values),
        "params": st.one_of(st.dictionaries(st.sampled_from(PARAMS), values, max_size=5), values),
        "weights": st.one_of(st.fixed_dictionaries({}, optional={
            "density": st.one_of(st.floats(-1, 2), values), "low": st.one_of(st.integers(-200, 200), values),
            "high": st.one_of(st.integers(-200, 200), values), "seed": st.one_of(st.integers(-5, 2**33), values)}),
            values),
    })


def write_spec(path, spec: dict) -> None:
    lines = [f"{k} = {toml_value(v)}" for k, v in spec.items()]
    path.write_text("\n".join(lines) + "\n")


def the_spec_loader_accepts_or_refuses_in_one_line(tmp_path, spec):
    from lapicque.spec import ArraySpec, load_spec

    path = tmp_path / "spec.toml"
    write_spec(path, spec)
    try:
        loaded = load_spec(path)
    except LapicqueError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(loaded, ArraySpec) and 1 <= loaded.neurons <= 65536
    assert isinstance(loaded.monitor, bool)
    if "monitor" in spec:
        assert loaded.monitor is spec["monitor"]  # only true and false mean true and false
    assert loaded.weights.shape == (loaded.neurons, loaded.neurons)


SWEEP_PARAMS = ["atoms", "dim", "weight_bits", "rounding", "lanes", "board", "clock", "target_gap", "weight_exponent",
                "steps", "spec", "neurons", "step_us", "encoders", "seeds", "seed", "x"]
SWEEP_FIGURES = ["rel_gap", "luts", "snr_db", "passed", "time_to_1pct_gap_us", "cycles_per_step", "x"]
sweeps = st.fixed_dictionaries(
    {},
    optional={
        "name": values,
        "stages": st.one_of(st.lists(st.sampled_from(["model", "rtl", "board", "fpga"]), max_size=4), values),
        "workload": st.one_of(st.fixed_dictionaries(
            {"kind": st.one_of(st.sampled_from(["lca", "tem", "verify"]), values)},
            optional={name: st.one_of(st.integers(-3, 70_000), values) for name in SWEEP_PARAMS}), values),
        "axes": st.one_of(st.dictionaries(st.sampled_from(SWEEP_PARAMS), st.one_of(st.lists(scalars, max_size=4),
                                                                                    values), max_size=3), values),
        "objectives": st.one_of(st.dictionaries(st.sampled_from(SWEEP_FIGURES),
                                                st.one_of(st.sampled_from(["min", "max"]), values), max_size=3),
                                values),
    })


def the_sweep_loader_accepts_or_refuses_in_one_line(tmp_path, sweep):
    from lapicque.jobs.sweep_spec import SweepSpec, load_sweep

    path = tmp_path / "sweep.toml"
    write_spec(path, sweep)
    try:
        loaded = load_sweep(path)
    except LapicqueError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(loaded, SweepSpec) and loaded.objectives and loaded.stages
    assert 1 <= len(loaded.points()) <= 10_000
    assert set(loaded.objectives) <= set(loaded.figures())


def arbitrary_bytes_as_a_spec_file(tmp_path, data):
    from lapicque.spec import load_spec

    path = tmp_path / "spec.toml"
    path.write_bytes(data)
    with pytest.raises(LapicqueError) as exc:
        load_spec(path)
    assert "\n" not in str(exc.value)


def arbitrary_bytes_as_numpy_and_wave_files(tmp_path, data):
    from lapicque.fitting import load_recording
    from lapicque.sim.lca import make_problem
    from lapicque.sim.tem import make_signal

    for name in ("x.npy", "x.npz", "x.wav"):
        (tmp_path / name).write_bytes(data)
    calls = [lambda: make_problem("random", dictionary=tmp_path / "x.npy", signal=tmp_path / "x.npy"),
             lambda: load_recording(tmp_path / "x.npz", None, None),
             lambda: load_recording(tmp_path / "x.npy", tmp_path / "x.npy", 0.1),
             lambda: make_signal(str(tmp_path / "x.wav"), 100.0, None),
             lambda: make_signal(str(tmp_path / "x.npy"), 100.0, None, rate=1000.0)]
    for call in calls:
        with pytest.raises(LapicqueError) as exc:
            call()
        assert "\n" not in str(exc.value)


arrays = st.one_of(
    st.builds(lambda shape, fill: np.full(shape, fill), st.sampled_from([(0,), (3,), (4, 4), (2, 3, 1), (400,)]),
              st.sampled_from([0.0, 1.0, np.nan, np.inf, -1e308, 5])),
    st.builds(lambda n: np.array(["a"] * n), st.integers(0, 5)),
    st.builds(lambda n: np.arange(n, dtype=np.complex128), st.integers(0, 5)),
    st.builds(lambda n: np.zeros(n, dtype=bool), st.integers(0, 5)))


def hostile_arrays_in_users_files(tmp_path, first, second):
    from lapicque.fitting import load_recording
    from lapicque.sim.lca import make_problem
    from lapicque.sim.tem import make_signal

    np.save(tmp_path / "a.npy", first)
    np.save(tmp_path / "b.npy", second)
    np.savez(tmp_path / "r.npz", current=first, voltage=second, dt=0.1)
    calls = [lambda: make_problem("random", dictionary=tmp_path / "a.npy", signal=tmp_path / "b.npy"),
             lambda: load_recording(tmp_path / "r.npz", None, None),
             lambda: load_recording(tmp_path / "a.npy", tmp_path / "b.npy", 0.1),
             lambda: make_signal(str(tmp_path / "a.npy"), 100.0, None, rate=1000.0)]
    for call in calls:
        try:
            call()
        except LapicqueError as exc:
            assert "\n" not in str(exc)


summaries = st.dictionaries(st.sampled_from(["updates_checked", "bit_exact_mismatches", "steps", "objective_opt",
                                             "backend", "snr_db", "recoverable", "currents", "rates_hz", "rheobase",
                                             "network", "synapses", "mean_rate_hz", "final_rate_hz",
                                             "max_mass_error_per_step", "cells", "coincidence_factor", "export",
                                             "params", "neurons", "passed", "float_bound_lsb"]),
                            values, max_size=12)


def corrupt_run_folders_are_refused_in_one_line(tmp_path, summary, file):
    from lapicque.report import load_run, render

    folder = tmp_path / "run"
    folder.mkdir(exist_ok=True)
    for name in ("summary.json", "report.json"):
        (folder / name).unlink(missing_ok=True)
    (folder / file).write_text(json.dumps(summary))
    try:
        page = render([load_run(folder)])
    except LapicqueError as exc:
        assert "\n" not in str(exc)
        return
    assert "data-passed='false'" in page or "NaN" not in page  # a NaN shown is never passed


def test_printable_garbage_in_every_text_option_is_one_line(capsys, tmp_path):
    """Not generated: one hostile string per text option, across commands."""
    from lapicque.cli import main

    garbage = "'\"; rm -rf /\n" + string.punctuation
    for argv in (["fi", "--model", garbage], ["net", garbage], ["lca", "--problem", garbage],
                 ["tem", "--neuron", garbage], ["tem", "--decoder", garbage], ["density", "--init", garbage],
                 ["verify", "--sim", garbage], ["build", "--board", garbage], ["fit", "--synthetic", "5", "--model",
                                                                               garbage]):
        assert main([*argv, "--out", str(tmp_path / "o")]) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, (argv, err)


HOSTILE_NUMBERS = ["nan", "inf", "-inf", "0", "-1", "1e308", "-1e308", "1e-308", "abc", "", " 1", "0x10", "2.5"]
# each command at its cheapest, so that a hostile value that is accepted runs briefly
CHEAP = {"fi": ["--currents", "0:500:3", "--duration", "300"], "density": ["--duration", "0.01"],
         "net": ["cuba", "--neurons", "200", "--duration", "0.05"], "tem": ["--duration", "0.02"],
         "lca": ["--atoms", "8", "--dim", "8", "--sparsity", "2", "--steps", "50"],
         "fit": ["--synthetic", "2", "--repeats", "1"], "explore": ["--duration", "50"],
         "verify": ["--neurons", "8", "--lanes", "2", "--steps", "5"]}


def numeric_options(command: str) -> list[str]:
    """Every option of `command` whose value is a number, found in the parser itself."""
    from lapicque.cli import build_parser
    from lapicque.commands import options

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    numeric = {int, float, options.positive, options.seed, options.positive_real}
    return [a.option_strings[-1] for a in sub._actions if a.option_strings and a.type is not None
            and (a.type in numeric or getattr(a.type, "__name__", "").startswith(("whole number", "number")))]


#: verify runs the simulator for every value it accepts (about 50 s in all): its whole sweep is slow, and the
#: default run checks that the values no option may take are refused before any work
SWEEPS = [pytest.param(c, marks=pytest.mark.slow) if c == "verify" else c for c in sorted(CHEAP)]
NEVER_ACCEPTED = ["nan", "inf", "-inf", "-1", "1e308", "-1e308", "abc", "", "0x10"]


def test_verify_refuses_every_value_no_option_takes_before_any_work(tmp_path, capsys):
    from lapicque.cli import main

    for option in numeric_options("verify"):
        for value in NEVER_ACCEPTED:
            base = [a for i, a in enumerate(CHEAP["verify"]) if option not in (a, CHEAP["verify"][i - 1])]
            assert main(["verify", *base, option, value, "--out", str(tmp_path / "o")]) == 2, (option, value)
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and err[0].startswith("lapicque: error: "), (option, value, err)
            assert not (tmp_path / "o").exists(), (option, value)


@pytest.mark.parametrize("command", SWEEPS)
def test_every_numeric_option_takes_hostile_values_in_one_line(command, tmp_path, capsys):
    """Every number-valued option of the command, each hostile value in turn: exit 0 or 1 with a finished run,
    or exit 2 with one line; never a traceback (exit 3), never a hang."""
    import time

    from lapicque.cli import main

    options = numeric_options(command)
    assert options, f"{command} has no numeric options?"
    for option in options:
        for value in HOSTILE_NUMBERS:
            base = [a for i, a in enumerate(CHEAP[command]) if option not in (a, CHEAP[command][i - 1])]
            extra = ["--save", str(tmp_path / "e.png")] if command == "explore" else ["--out", str(tmp_path / "o")]
            started = time.perf_counter()
            status = main([command, *base, option, value, *extra])
            err = capsys.readouterr().err.strip().splitlines()
            assert status in (0, 1, 2), (option, value, err)
            assert time.perf_counter() - started < 60, (option, value)
            if status == 2:
                assert len(err) == 1 and err[0].startswith("lapicque: error: "), (option, value, err)
            else:
                summary = tmp_path / "o" / "summary.json"
                assert command == "explore" or summary.exists(), (option, value)
                if summary.exists():
                    json.loads(summary.read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))


# each property twice: the default run's reproducible examples, and -m slow's 3000 new ones
test_the_spec_loader_accepts_or_refuses_in_one_line, test_spec_loader_long = both_profiles(
    the_spec_loader_accepts_or_refuses_in_one_line, spec=specs)
test_the_sweep_loader_accepts_or_refuses_in_one_line, test_sweep_loader_long = both_profiles(
    the_sweep_loader_accepts_or_refuses_in_one_line, sweep=sweeps)
test_arbitrary_bytes_as_a_spec_file, test_spec_bytes_long = both_profiles(
    arbitrary_bytes_as_a_spec_file, data=st.binary(max_size=300))
test_arbitrary_bytes_as_numpy_and_wave_files, test_file_bytes_long = both_profiles(
    arbitrary_bytes_as_numpy_and_wave_files,
    data=st.one_of(st.binary(max_size=400), st.sampled_from([b"\x93NUMPY", b"PK\x03\x04", b"RIFF....WAVEfmt "])))
test_hostile_arrays_in_users_files, test_arrays_long = both_profiles(
    hostile_arrays_in_users_files, first=arrays, second=arrays)
test_corrupt_run_folders_are_refused_in_one_line, test_run_folders_long = both_profiles(
    corrupt_run_folders_are_refused_in_one_line, summary=summaries,
    file=st.sampled_from(["summary.json", "report.json"]))

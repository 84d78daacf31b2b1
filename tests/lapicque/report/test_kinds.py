"""The report kinds: each kind's checks follow from the values they show, NaN fails, each run folder is one kind."""

import json
import math

import numpy as np
import pytest

from lapicque import jobs
from lapicque.report import Check, all_kinds, load_run, render, section
from tests.lapicque.report.test_page import checks, figures, verdict


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("kinds")
    jobs.fi(model="lif", currents=np.linspace(0, 800, 5), duration=400.0, out=base / "fi")
    jobs.fi(model="lif", currents=[200.0, 400.0, 600.0], duration=400.0, dt=0.1, sigma=4.0, out=base / "fi-noise")
    jobs.net(network="cuba", neurons=400, duration=0.2, out=base / "net")
    jobs.density(duration=0.05, monte_carlo=1000, out=base / "density")
    jobs.density(duration=0.05, coupling=0.5, monte_carlo=1000, out=base / "density-coupled")
    jobs.density(duration=0.05, coupling=1.5, out=base / "density-blow-up")
    jobs.fit(synthetic=10.0, repeats=2, out=base / "fit")
    return base


def test_every_kind_has_a_template_and_each_run_is_one_kind(runs):
    from importlib.resources import files

    templates = files("lapicque.report") / "templates" / "kinds"
    for name in all_kinds():
        assert (templates / f"{name}.html.j2").is_file(), name
    for folder, kind in (("fi", "fi"), ("fi-noise", "fi"), ("net", "net"), ("density", "density"), ("fit", "fit")):
        assert load_run(runs / folder).kind == kind


def test_fi_checks_the_closed_form(runs):
    page = render([load_run(runs / "fi")])
    c = checks(page)
    assert c["closed_form_deviation"]["passed"] and float(c["closed_form_deviation"]["value"]) < 1e-9
    assert c["non_finite_rates"]["passed"] and verdict(page) and len(figures(page)) == 1
    assert len(figures(render([load_run(runs / "fi-noise")]))) == 2  # fi.png and noise.png


def test_a_rate_off_the_closed_form_fails(runs, tmp_path):
    data = json.loads((runs / "fi" / "summary.json").read_text())
    data["rates_hz"][-1] *= 1.01  # 1 % off, ten times the tolerance
    folder = tmp_path / "fi"
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps(data))
    deviation = checks(render([load_run(folder)]))["closed_form_deviation"]
    assert not deviation["passed"] and float(deviation["value"]) == pytest.approx(0.01)


def test_net_density_fit_sections(runs):
    assert verdict(render([load_run(runs / "net")]))
    page = render([load_run(runs / "density")])
    c = checks(page)
    assert set(c) == {"max_mass_error_per_step", "stationary_vs_siegert", "monte_carlo_chi2"}
    assert all(x["passed"] for x in c.values()) and len(figures(page)) == 1
    coupled = render([load_run(runs / "density-coupled")])
    assert "monte_carlo_chi2" not in checks(coupled) and "shown, not checked" in coupled
    blown = render([load_run(runs / "density-blow-up")])
    assert "Blow-up at" in blown and verdict(blown)  # the model's behaviour, not the solver's failure
    fit = checks(render([load_run(runs / "fit")]))
    assert fit["coincidence_factor"]["passed"] and fit["parameters_within_stderr"]["passed"]


@pytest.mark.parametrize(("make", "passes"), [
    (lambda: Check.at_most("x", "x", float("nan"), 1.0), False),
    (lambda: Check.at_most("x", "x", 1.0, 1.0), True),
    (lambda: Check.below("x", "x", 1.0, 1.0), False),
    (lambda: Check.below("x", "x", 5.0, 2.0), False),
    (lambda: Check.at_least("x", "x", None, 0.0), False),
    (lambda: Check.above("x", "x", math.inf, 0.0), False),
    (lambda: Check.equals("x", "x", 0, 0), True),
    (lambda: Check.equals("x", "x", float("nan"), 0), False),
    (lambda: Check.equals("x", "x", "true", True), False),
    (lambda: Check.equals("x", "x", True, True), True),
])
def test_a_verdict_follows_from_its_value(make, passes):
    assert make().passed is passes


def test_a_float_error_beyond_its_bound_fails_even_without_counted_violations(tmp_path):
    """The value shown decides: 5.0 against a bound of 2, or NaN, is a failure whatever else the summary says."""
    from lapicque.spec import random_spec

    run = tmp_path / "v"
    jobs.verify(spec=random_spec(16, 2, seed=4), steps=30, out=run)
    data = json.loads((run / "summary.json").read_text())
    page = render([load_run(run)])
    assert checks(page)["max_float_error_lsb"]["passed"]
    # the headline numbers: the run's cycles beside issue 20's bound and the floor no run beats
    numbers = section(load_run(run)).numbers
    assert numbers["cycles_per_step_floor"] == data["cycles_per_step_floor"] <= numbers["cycles_per_step"]
    # where the time went: a row per part, each the summary's seconds
    for part, seconds in data["time_split"].items():
        name = part.removesuffix("_s").replace("_", " ")
        assert f"<tr data-part='{name}'><td>{name}</td><td>{seconds:.3f}</td>" in page
    for bad in (5.0 * data["float_bound_lsb"], "NaN"):
        data["max_float_error_lsb"] = float(bad)
        (run / "summary.json").write_text(json.dumps(data))
        page = render([load_run(run)])
        assert not checks(page)["max_float_error_lsb"]["passed"] and not verdict(page)


def test_every_kind_has_at_least_one_check(runs, tmp_path):
    for folder in ("fi", "net", "density", "fit"):
        assert section(load_run(runs / folder)).checks


def nir_run(folder, **changes):
    from pathlib import Path

    fixtures = Path(__file__).resolve().parents[2] / "fixtures" / "nir"
    x = np.load(fixtures / "snntorch-lif.npz")["input"][:200]
    jobs.nir_import(graph=fixtures / "snntorch-lif.nir", dt=1e-4, input=x, out=folder)
    if changes:
        data = json.loads((folder / "summary.json").read_text())
        data.update(changes)
        (folder / "summary.json").write_text(json.dumps(data))
    return load_run(folder)


def test_nir_import_shows_the_parameters_and_differences_and_checks_saturation(tmp_path):
    run = nir_run(tmp_path / "nir")
    assert run.kind == "nir"
    page = render([run])
    c = checks(page)
    assert c["saturated_updates"]["passed"] and c["worst_relative_error"]["passed"] and verdict(page)
    assert "v_threshold" in page and "NIR fires on v &gt; v_threshold" in page
    clamped = nir_run(tmp_path / "clamped", saturated_updates=3)
    assert not checks(render([clamped]))["saturated_updates"]["passed"]


def test_nir_rtl_checks_follow_from_their_values(tmp_path):
    rtl = {"passed": True, "bit_exact_mismatches": 2, "float_bound_violations": 0, "updates_checked": 10,
           "spikes_identical_to_fixed": False}
    page = render([nir_run(tmp_path / "nir", rtl=rtl, worst_relative_error=float("nan"))])
    c = checks(page)
    assert not c["bit_exact_mismatches"]["passed"] and c["float_bound_violations"]["passed"]
    assert not c["spikes_identical_to_fixed"]["passed"] and not c["worst_relative_error"]["passed"]
    assert not verdict(page)


def network_build_report(folder, **changes):
    """A `build --network` report.json as boards/network.py writes it (the tools are not run here)."""
    data = {"board": "ulx3s-85f", "device": "LFE5U-85F", "network": "cuba", "neurons": 4000,
            "populations": {"exc": 3200, "inh": 800}, "synapses": 320000, "regenerated_projections": ["ee", "ei"],
            "lanes": 8,
            "resources": {"luts": {"used": 9945, "available": 83640}, "bram": {"used": 75, "available": 208}},
            "memories": {"acc0_0_0": "EBR"}, "clock_target_mhz": 90.0, "clock_mhz": 90.0, "fmax_mhz": 95.0,
            "timing_met": True, "dt_ms": 0.1, "cycles_per_step": 570.9, "steps_simulated": 2000,
            "spikes_per_step": 2.3, "timesteps_per_s": 157645.0, "realtime_factor": 15.76, "tool_versions": {}}
    data.update(changes)
    folder.mkdir()
    (folder / "report.json").write_text(json.dumps(data))
    return folder


def test_a_network_build_is_its_own_kind_and_each_verdict_follows_its_value(tmp_path):
    good = load_run(network_build_report(tmp_path / "good"))
    assert good.kind == "network_build" and verdict(render([good]))
    c = checks(render([good]))
    assert c["realtime_factor"]["passed"] and c["fmax_mhz"]["passed"]
    slow = checks(render([load_run(network_build_report(tmp_path / "slow", fmax_mhz=62.4, timing_met=False))]))
    assert not slow["fmax_mhz"]["passed"]
    nan = checks(render([load_run(network_build_report(tmp_path / "nan", realtime_factor=float("nan")))]))
    assert not nan["realtime_factor"]["passed"]
    # the iCEBreaker's serial core says so, with its spike history against the worst case
    serial = render([load_run(network_build_report(tmp_path / "serial", board="icebreaker", core="serial",
                                                   history_entries=8192, history_worst_case=8000))])
    assert "serial; spike history 8,192 entries (worst case 8,000)" in serial and verdict(serial)


def soak_folder(tmp_path, mismatches: int, stopped: str, listed: int = 2):
    cases = [{"index": k, "kind": "array", "params": {"neurons": 16}, "updates_checked": 1000,
              "bit_exact_mismatches": mismatches if k == 1 else 0, "passed": not (mismatches and k == 1),
              "wall_s": 1.0} for k in range(listed)]
    folder = tmp_path / f"soak-{mismatches}-{stopped}-{listed}"
    folder.mkdir()
    (folder / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases))
    summary = {"soak": True, "passed": mismatches == 0, "cases": 2, "updates_checked": 2000,
               "bit_exact_mismatches": mismatches, "stopped": stopped, "duration_s": 60.0, "wall_s": 3.0,
               "checked_updates_per_s": 666.7, "seed": 0, "simulator": "verilator", "inject_bug": None,
               "updates_by_kind": {"rounding floor": 2000},
               "failed_case": ({"index": 1, "what": "16 x 2 array", "first_mismatch": {"step": 3}} if mismatches
                               else None),
               "reproducer": {"command": "lapicque verify --spec x"} if mismatches else None}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


@pytest.mark.parametrize(("mismatches", "stopped", "listed", "passes"), [
    (0, "time", 2, True), (3, "failure", 2, False), (0, "failure", 2, False), (0, "time", 1, False)])
def test_a_soak_passes_only_with_no_mismatch_every_case_listed_and_the_time_up(tmp_path, mismatches, stopped, listed,
                                                                               passes):
    folder = soak_folder(tmp_path, mismatches, stopped, listed)
    run = load_run(folder)
    assert run.kind == "soak"
    page = render([run])
    assert verdict(page) == passes
    if mismatches:
        assert "replay it" in page and "lapicque verify --spec x" in page


@pytest.fixture(scope="module")
def sweep_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("sweep")
    file = base / "s.toml"
    file.write_text('[workload]\nkind = "lca"\natoms = 16\ndim = 8\nsparsity = 2\nsteps = 200\n'
                    '[axes]\nweight_bits = [4, 6, 8]\n[objectives]\nrel_gap = "min"\nspikes = "min"\n')
    jobs.sweep(file=file, workers=1, out=base / "out")
    return base / "out"


def test_a_sweep_shows_its_fronts_and_links_every_point_to_its_run(sweep_run):
    import re

    run = load_run(sweep_run)
    assert run.kind == "sweep"
    page = render([run])
    assert verdict(page)
    assert len(figures(page)) == 1  # one pair of objectives
    links = re.findall(r"<a href='(cache/[^']+)'", page)
    assert len(links) == 3 and all((sweep_run / link).is_file() for link in links)
    front = json.loads((sweep_run / "pareto.json").read_text())["fronts"][0]["points"]
    assert all(f"data-point='{i}'" in page for i in front)


@pytest.mark.parametrize("tamper", ["pending", "count", "reason"])
def test_a_sweep_fails_when_its_points_disagree_with_its_summary(sweep_run, tmp_path, tamper):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(sweep_run, folder)
    sweep_json = json.loads((folder / "sweep.json").read_text())
    if tamper == "pending":
        sweep_json["points"][0]["status"] = "pending"
    elif tamper == "count":  # the summary claims a point sweep.json does not hold
        summary = json.loads((folder / "summary.json").read_text())
        (folder / "summary.json").write_text(json.dumps(summary | {"points": summary["points"] + 1}))
    else:
        sweep_json["points"][0].update(status="failed", reason=None)
    (folder / "sweep.json").write_text(json.dumps(sweep_json))
    assert not verdict(render([load_run(folder)]))


def test_a_sweep_without_its_fronts_is_refused_in_one_line(sweep_run, tmp_path):
    import shutil

    from lapicque.errors import LapicqueError

    folder = tmp_path / "copy"
    shutil.copytree(sweep_run, folder)
    (folder / "pareto.json").unlink()
    with pytest.raises(LapicqueError, match="pareto.json is missing"):
        section(load_run(folder))

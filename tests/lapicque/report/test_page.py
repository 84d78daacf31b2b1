"""The HTML report: verdict, figures and numbers for each kind of run, side by side, bad folders, a browser."""

import base64
import html
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lapicque.cli import main
from lapicque.errors import LapicqueError
from lapicque.report import load_run, render, write_report
from lapicque.sim.lca import make_problem, solve
from lapicque.sim.verify import verify
from lapicque.spec import random_spec

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


def checks(page: str) -> dict[str, dict]:
    rows = re.findall(r"data-check='([^']*)' data-value='([^']*)' data-bound='([^']*)' data-passed='(true|false)'",
                      page)
    return {key: {"value": html.unescape(value), "bound": html.unescape(bound), "passed": passed == "true"}
            for key, value, bound, passed in rows}


def figures(page: str) -> list[Image.Image]:
    images = []
    for data in re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page):
        image = Image.open(io.BytesIO(base64.b64decode(data)))
        image.load()  # decodes the whole PNG: a truncated one raises
        images.append(image)
    return images


def verdict(page: str) -> bool:
    match = re.search(r"id='verdict' data-passed='(true|false)'", page)
    assert match, "the page has no verdict"
    return match.group(1) == "true"


@pytest.fixture(scope="module")
def verify_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("verify") / "v"
    verify(random_spec(16, 2, seed=4), 80, out, seed=4)
    return out


@pytest.fixture(scope="module")
def lca_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("lca")
    problem = make_problem("patches", atoms=32, lam=0.1, seed=1)
    for bits in (6, 8):
        solve(problem, "fixed", 400, base / f"w{bits}", weight_bits=bits)
    return base / "w6", base / "w8"


def test_verify_report_shows_the_checks_and_every_figure(verify_run, tmp_path):
    summary = json.loads((verify_run / "summary.json").read_text())
    page = write_report([verify_run], tmp_path / "r.html").read_text()
    assert verdict(page) and summary["passed"]
    c = checks(page)
    assert int(c["bit_exact_mismatches"]["value"]) == summary["bit_exact_mismatches"] == 0
    assert int(c["float_bound_violations"]["value"]) == summary["float_bound_violations"]
    assert int(c["updates_checked"]["value"]) == summary["updates_checked"] == 16 * 80
    assert float(c["max_float_error_lsb"]["value"]) == pytest.approx(summary["max_float_error_lsb"], abs=1e-4)
    for caption in ("Membrane and current traces", "Per-step float error against the analytic bound",
                    "Spike raster with coincidences", "Coverage bins, and cycles per timestep"):
        assert caption in page
    images = figures(page)
    assert len(images) == 4 and all(im.size[0] > 300 and im.size[1] > 150 for im in images)
    assert summary["provenance"]["git_commit"] in page  # the configuration carries the provenance
    assert "v 16, i 16, w 8" in page
    assert "http://" not in page and "https://" not in page  # self-contained: nothing to fetch


def test_a_partial_record_left_by_the_simulator_fails_the_report(verify_run, tmp_path):
    run = tmp_path / "v"
    shutil.copytree(verify_run, run)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["records_left_over"] == 0
    summary["records_left_over"] = 12
    (run / "summary.json").write_text(json.dumps(summary))
    page = render([load_run(run)])
    c = checks(page)
    assert not c["records_left_over"]["passed"] and c["records_left_over"]["value"] == "12" and not verdict(page)


def test_failing_verification_shows_the_first_mismatch_and_the_traces_around_it(tmp_path):
    run = tmp_path / "bad"
    summary = verify(random_spec(16, 2, seed=6), 200, run, seed=6, inject_bug="refractory_off_by_one")
    assert not summary["passed"]
    page = write_report([run], tmp_path / "r.html").read_text()
    assert not verdict(page)
    assert not checks(page)["bit_exact_mismatches"]["passed"]
    m = summary["first_mismatch"]
    note = re.search(r"first bit-exact mismatch</b>: step (\d+), neuron (\d+), field <code>(\w+)</code>: expected "
                     r"<b>(-?\d+)</b>, got <b>(-?\d+)</b>", page)
    assert note and note.groups() == (str(m["step"]), str(m["neuron"]), m["field"], str(m["expected"]), str(m["got"]))
    assert "traces: float, fixed and RTL around the first mismatch" in page
    assert f"neuron {m['neuron']}: membrane v" not in page  # titles live in the PNG, not the HTML
    assert len(figures(page)) == 4


def test_lca_report_and_two_runs_side_by_side(lca_runs, tmp_path):
    w6, w8 = lca_runs
    s6, s8 = (json.loads((f / "summary.json").read_text()) for f in lca_runs)
    page = write_report([w8], tmp_path / "one.html").read_text()
    c = checks(page)
    assert float(c["rel_gap"]["value"]) == pytest.approx(s8["rel_gap"], rel=1e-3)
    assert c["rel_gap"]["passed"] == (s8["rel_gap"] <= 0.01)
    assert verdict(page) == all(x["passed"] for x in c.values())
    assert len(figures(page)) == 3
    assert "Relative gap against timesteps" in page and "Reconstruction next to the signal" in page

    both = write_report([w6, w8], tmp_path / "both.html").read_text()
    assert both.count("<section class='run'") == 2
    rows = {key: kind for kind, key in re.findall(r"<tr class='(differs|same)' data-key='(\w+)'", both)}
    assert rows["weight_bits"] == "differs"  # the configuration that differs is called out too
    assert rows["rel_gap"] == "differs"  # 6-bit weights cost far more than 8-bit ones
    assert rows["objective_opt"] == "same"  # the same problem
    assert s6["objective_opt"] == s8["objective_opt"] and s6["rel_gap"] > s8["rel_gap"]
    assert len(figures(both)) == 6


def test_build_report_from_a_build_json(tmp_path):
    # a hand-made report.json as the flow writes it: one resource over, timing missed
    run = tmp_path / "build"
    run.mkdir()
    report = {
        "board": "icebreaker", "device": "iCE40UP5K", "neurons": 256, "lanes": 1, "weight_bits": 8,
        "resources": {"logic_cells": {"used": 6000, "available": 5280}, "bram": {"used": 10, "available": 30}},
        "memories": {"weight_mem0": "SPRAM"}, "clock_target_mhz": 32.0, "clock_mhz": 32.25, "fmax_mhz": 30.1,
        "timing_met": False, "slack_ns": -2.2, "neuron_updates_per_s": 30_000_000, "synaptic_events_per_s": 30_100_000,
        "bitstream": "lapicque.bin", "tool_versions": {"amaranth": "0.5"},
    }
    (run / "report.json").write_text(json.dumps(report))
    page = write_report([run], tmp_path / "r.html").read_text()
    c = checks(page)
    assert float(c["fmax_mhz"]["value"]) == 30.1 and c["fmax_mhz"]["bound"] == ">= 32.25"
    assert not c["fmax_mhz"]["passed"]
    assert c["resources"]["value"] == "over: logic_cells" and not c["resources"]["passed"]
    assert not verdict(page)
    assert len(figures(page)) == 1


def test_tem_report_shows_the_condition_the_snr_and_the_reconstruction(tmp_path):
    from lapicque.golden import tem
    from lapicque.sim.tem import make_signal
    from lapicque.sim.tem import run as run_tem

    signal, duration, description = make_signal("multitone", 100.0, 0.1)
    summary = run_tem(signal, duration, [tem.Encoder(3.5, 0.7, 0.01)], "float", "sinc", tmp_path / "t",
                      description=description)
    page = render([load_run(tmp_path / "t")])
    found = checks(page)
    assert found["recoverable"]["passed"] and float(found["recoverable"]["value"]) == pytest.approx(0.56)
    assert verdict(page) and len(figures(page)) == 1
    assert f"{summary['snr_db']:.2f} dB" in page
    # a condition that fails is a failing check, and the page's verdict says so
    data = json.loads((tmp_path / "t" / "summary.json").read_text())
    data["recoverable"].update(value=1.6, satisfied=False)
    (tmp_path / "t" / "summary.json").write_text(json.dumps(data))
    assert not verdict(render([load_run(tmp_path / "t")]))


def test_bad_folders_are_one_line_errors(tmp_path, verify_run, lca_runs):
    with pytest.raises(LapicqueError, match="run folder .*missing does not exist"):
        load_run(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LapicqueError, match="holds no summary.json or report.json"):
        load_run(tmp_path / "empty")
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "summary.json").write_text('{"passed": tru')
    with pytest.raises(LapicqueError, match="summary.json is not valid JSON"):
        load_run(tmp_path / "corrupt")
    with pytest.raises(LapicqueError, match="runs of different kinds cannot be compared side by side"):
        render([load_run(verify_run), load_run(lca_runs[0])])


@pytest.mark.parametrize("case", ["missing", "corrupt", "mixed"])
def test_report_cli_exit_2_and_writes_nothing(case, tmp_path, capsys, verify_run, lca_runs):
    if case == "missing":
        runs = [str(tmp_path / "nope")]
    elif case == "corrupt":
        (tmp_path / "c").mkdir()
        (tmp_path / "c" / "summary.json").write_text("not json")
        runs = [str(tmp_path / "c")]
    else:
        runs = [str(verify_run), str(lca_runs[0])]
    out = tmp_path / "review.html"
    assert main(["report", *runs, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lapicque: error: ")
    assert not out.exists() and not list(tmp_path.glob(".review.html*"))


def test_report_cli_side_by_side(lca_runs, tmp_path):
    out = tmp_path / "review.html"
    status = main(["report", *map(str, lca_runs), "--out", str(out)])
    s6 = json.loads((lca_runs[0] / "summary.json").read_text())
    assert status == (0 if s6["rel_gap"] <= 0.01 and s6["steps_to_1pct_gap"] is not None else 1)
    assert out.read_text().count("<section class='run'") == 2


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def open_in_chromium(page: Path, screenshot: Path) -> tuple[str, list[str]]:
    """Render `page` in headless Chromium: returns the DOM after load and the console messages."""
    browser = _chromium()
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr",
              "--v=0", "--window-size=1300,2400"]
    shot = subprocess.run([*common, f"--screenshot={screenshot}", page.resolve().as_uri()], capture_output=True,
                          text=True, timeout=120)
    dom = subprocess.run([*common, "--dump-dom", page.resolve().as_uri()], capture_output=True, text=True,
                         timeout=120)
    console = [line for line in (shot.stderr + dom.stderr).splitlines() if ":CONSOLE" in line]
    return dom.stdout, console


needs_chromium = pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (Debian: apt-get install "
                                                                 "chromium); .ci/run installs it")


@needs_chromium
def test_the_console_check_catches_a_script_error(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><p>x</p><script>undefinedFunction();</script></body></html>")
    _, console = open_in_chromium(bad, tmp_path / "bad.png")
    assert any("undefinedFunction" in line for line in console)


@needs_chromium
def test_report_renders_in_a_browser_without_console_errors(verify_run, lca_runs, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    for name, folders in (("verify", [verify_run]), ("lca-side-by-side", list(lca_runs))):
        page = write_report(folders, tmp_path / f"{name}.html")
        shot = ARTIFACTS / f"report-{name}.png"
        dom, console = open_in_chromium(page, shot)
        assert console == []
        assert "id=\"verdict\"" in dom or "id='verdict'" in dom
        assert dom.count("<img") == len(figures(page.read_text()))
        image = np.asarray(Image.open(shot).convert("L"))
        assert image.shape[1] == 1300 and image.std() > 10  # rendered content, not a blank page

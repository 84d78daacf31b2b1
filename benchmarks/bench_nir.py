"""NIR conformance: lapicque's models and RTL against the frameworks' own recordings (tests/fixtures/nir/).

    python benchmarks/bench_nir.py            # every fixture, the RTL over all 1000 steps
    python benchmarks/bench_nir.py --no-rtl   # the models only

For each fixture recorded by benchmarks/nir_fixtures.py (snnTorch 1.0, Norse 1.1), imported as its JSON
says, it prints one row: the float model's output spikes coinciding within one step with the framework's
(and the hidden layer's), the largest membrane difference (outside the steps where the two record different
things), the fixed model's agreement at the default widths (16-bit membrane, 8-bit weights) and wider ones,
the float model under the other discretisation (exact propagators against the frameworks' Euler), and the
RTL run: updates checked, bit-exact mismatches, spikes identical to the fixed model's.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from lapicque.golden import nir_graph as ng

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "nir"
NAMES = ("snntorch-lif", "snntorch-cuba", "snntorch-rleaky", "norse-cuba", "norse-recurrent")
WIDTHS = ((16, 8), (16, 16), (24, 16))


def import_options(name: str) -> dict:
    """dt and refractory as the fixture's own `import` line says."""
    words = json.loads((FIXTURES / f"{name}.json").read_text())["import"].split()
    options = {"dt": float(words[words.index("--dt") + 1]), "refractory": 0}
    if "--refractory" in words:
        value = words[words.index("--refractory") + 1]
        node, _, steps = value.rpartition("=")
        options["refractory"] = {node: int(steps)} if node else int(steps)
    return options


def row(name: str, rtl: bool) -> dict:
    graph = ng.read_graph(FIXTURES / f"{name}.nir")
    record = np.load(FIXTURES / f"{name}.npz")
    options = import_options(name)
    dt, refractory = options["dt"], options["refractory"]
    x = record["input"]
    c = ng.compile_graph(graph, dt, "euler", refractory=refractory)
    run = ng.run(c, x, fixed=False)
    steps = x.shape[0]
    after_reset = name.startswith("norse")  # Norse reports its membrane after the reset
    worst = 0.0
    for pop, membrane, spikes in ((c.populations[0], "hidden_membrane", "hidden_spikes"),
                                  (c.populations[-1], "membrane", "spikes")):
        ours = ng.membrane(c, run["v_pre"], pop.slice, steps)
        spiked = record[spikes] != 0
        comparable = ~spiked if after_reset else np.ones_like(spiked)
        if c.refractory.get(pop.name):
            comparable[1:] &= ~spiked[:-1]
        worst = max(worst, float(np.abs(ours - record[membrane])[comparable].max()))
    result = {
        "fixture": name,
        "steps": steps,
        "framework spikes": int(record["spikes"].sum()),
        "float: output coincident": ng.agreement(record["spikes"], run["outputs"])["coincident_all"],
        "float: hidden coincident": ng.agreement(record["hidden_spikes"],
                                                 run["spikes"][:steps, c.populations[0].slice])["coincident_all"],
        "float: membrane max error": worst,
    }
    for v_bits, w_bits in WIDTHS:
        cw = ng.compile_graph(graph, dt, "euler", refractory=refractory, v_bits=v_bits, w_bits=w_bits)
        fixed = ng.run(cw, x, fixed=True)
        result[f"fixed {v_bits}/{w_bits}: coincident"] = ng.agreement(record["spikes"], fixed["outputs"])[
            "coincident_all"]
    exact = ng.compile_graph(graph, dt, "exact", refractory=refractory)
    result["float, exact propagators: coincident"] = ng.agreement(record["spikes"],
                                                                  ng.run(exact, x, fixed=False)["outputs"])[
        "coincident_all"]
    if rtl:
        from lapicque import jobs

        with tempfile.TemporaryDirectory() as tmp:
            summary = jobs.nir_import(graph=FIXTURES / f"{name}.nir", dt=dt, refractory=refractory, input=x,
                                      backend="rtl", lanes=2, out=Path(tmp) / "run")
        result["rtl: updates checked"] = summary["rtl"]["updates_checked"]
        result["rtl: bit-exact mismatches"] = summary["rtl"]["bit_exact_mismatches"]
        result["rtl: spikes identical to fixed"] = summary["rtl"]["spikes_identical_to_fixed"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-rtl", action="store_true", help="the models only")
    args = parser.parse_args()
    rows = [row(name, not args.no_rtl) for name in NAMES]
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + " --- |" * len(keys))
    for r in rows:
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in r.values()]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

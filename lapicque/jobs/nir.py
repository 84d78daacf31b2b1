"""NIR interchange: a NIR graph onto the array (with its conformance figures), and an array out as a NIR graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lapicque.errors import LapicqueError
from lapicque.files import read_array, write_atomic, write_json, write_npz
from lapicque.spec import spec_toml

from .folders import output_folder, owned, quiet

BACKENDS = ("float", "fixed", "rtl")
SPEC_HEADER = "# an array compiled from a NIR graph by `lapicque nir import` (docs/nir.md)\n"


def _refractory(refractory) -> int | dict[str, int]:
    """`--refractory 1` (every spiking node) or `--refractory NODE=STEPS` (repeatable), as compile_graph takes it."""
    if refractory is None:
        return 0
    if isinstance(refractory, int | dict):
        return refractory
    per_node, every = {}, None
    for item in refractory:
        name, sep, steps = str(item).rpartition("=")
        try:
            value = int(steps)
        except ValueError:
            raise LapicqueError(f"--refractory {item!r}: give STEPS or NODE=STEPS with STEPS a whole number") from None
        if sep:
            per_node[name] = value
        else:
            every = value
    if every is not None and per_node:
        raise LapicqueError("--refractory: give one number for every node or NODE=STEPS per node, not both")
    return every if every is not None else per_node


def nir_import(*, graph: Path | str, dt: float | None = None, discretisation: str | None = None,
               input: Path | str | np.ndarray | None = None, backend: str = "fixed", v_bits: int = 16,
               w_bits: int = 8, refractory=None, lanes: int | None = None, sim: str = "verilator", seed: int = 0,
               out: Path | str | None = None, status=None) -> dict:
    """Map a NIR graph onto the array: OUT/spec.toml, the quantisation of every parameter, the differences.

    graph: a .nir file; dt: the time step in seconds (default: the one a lapicque export records);
    discretisation: euler (forward Euler, the current before the membrane: snnTorch, Norse) or exact
    (exact propagators) (default: euler, or the export's); input: spike trains or currents (.npy, steps x
    inputs) to run float, fixed and, with backend rtl, the RTL checked update by update (OUT/outputs.npz);
    v_bits, w_bits: membrane/current and weight widths; refractory: steps of refractoriness, for every node
    (an int) or per node ("NODE=STEPS" strings or a dict); lanes: the array's lanes (default 1, or the
    export's); sim: the RTL simulator;
    out: results folder (spec.toml, summary.json, outputs.npz, rtl/ with the RTL run's own folder).

    Returns the summary (`neurons`, `parameters`, `differences`, `agreement`, `passed`, ...; docs/nir.md).
    """
    from lapicque.golden import nir_graph

    if backend not in BACKENDS:
        raise LapicqueError(f"--backend {backend!r} is not one of {', '.join(BACKENDS)}")
    if not 2 <= w_bits <= 16:
        raise LapicqueError(f"--w-bits {w_bits} is out of range; allowed 2..16")
    if not 8 <= v_bits <= 32:
        raise LapicqueError(f"--v-bits {v_bits} is out of range; allowed 8..32")
    say = quiet(status)
    loaded = nir_graph.read_graph(graph)
    meta = nir_graph.export_metadata(loaded) or {}
    if dt is None:
        if "dt" not in meta:
            raise LapicqueError(f"{graph}: give --dt, the time step in seconds the graph is to run at (snnTorch "
                                f"exports at 1e-4, Norse at 1e-3)")
        dt = meta["dt"]
    discretisation = discretisation or meta.get("discretisation", "euler")
    lanes = lanes if lanes is not None else meta.get("lanes", 1)
    refractory = _refractory(refractory)
    compiled = nir_graph.compile_graph(loaded, dt, discretisation, v_bits=v_bits, w_bits=w_bits,
                                       refractory=refractory, lanes=lanes)
    x = None
    if input is not None:
        x = read_array(Path(input), "input") if not isinstance(input, np.ndarray) else input
        if isinstance(x, dict):
            raise LapicqueError(f"--input {input}: an .npz; give one .npy array, steps x inputs")
        x = np.asarray(x)
        if x.dtype == bool:  # spike trains as booleans
            x = x.astype(np.float64)
        if x.ndim != 2 or x.shape[1] != compiled.input_size or x.shape[0] < 1:
            raise LapicqueError(f"--input {input}: shape {x.shape}; the graph takes steps x {compiled.input_size} "
                                f"(one column per input)")
        if not np.issubdtype(x.dtype, np.number) or not np.all(np.isfinite(x)):
            raise LapicqueError(f"--input {input}: must hold finite numbers (spikes 0/1 or currents)")
        if backend == "rtl" and x.shape[0] + compiled.latency > 65535:
            raise LapicqueError(f"--input {input}: {x.shape[0]} steps; the RTL runs at most {65535 - compiled.latency}")
        compiled.ext(x, fixed=True)  # an input too strong for the ext codes is refused before any run
    summary = _import_summary(graph, compiled)
    summary["options"] = {"v_bits": v_bits, "w_bits": w_bits, "lanes": lanes, "refractory": refractory}
    # the RTL needs a folder to simulate in (a temporary one without out=); the models need none
    with (output_folder(out, "nir") if backend == "rtl" and x is not None else owned(out, "nir")) as folder:
        if folder is not None:
            write_atomic(folder / "spec.toml", SPEC_HEADER + spec_toml(compiled.spec))
        if x is not None:
            summary.update(_run_models(compiled, x, backend, sim, seed, folder, say))
        if folder is not None:
            write_json(folder / "summary.json", summary)
    return summary


def _import_summary(graph, compiled) -> dict:
    from lapicque.provenance import provenance

    spec = compiled.spec
    return {
        "kind": "nir-import",
        "graph": str(Path(graph).resolve()),
        "dt": compiled.dt,
        "discretisation": compiled.discretisation,
        "neurons": spec.neurons,
        "lanes": spec.lanes,
        "widths": {"v": spec.widths.v, "i": spec.widths.i, "w": spec.widths.w, "bias": spec.widths.bias,
                   "ext": spec.widths.ext},
        "weight_exponent": spec.weight_exponent,
        "populations": [{"node": p.name, "type": p.kind, "neurons": p.size, "first": p.start, "depth": p.depth,
                         "lsb": float(compiled.lsb[p.start])} for p in compiled.populations],
        "inputs": compiled.input_size,
        "input_nodes": [{"node": name, "values": size} for name, size in compiled.input_nodes],
        "outputs": int(compiled.outputs.size),
        "latency_steps": compiled.latency,
        "refractory": compiled.refractory,
        "parameters": compiled.parameters,
        "worst_relative_error": max((r["relative_error"] for r in compiled.parameters), default=0.0),
        "differences": compiled.differences,
        "provenance": provenance(),
    }


def _run_models(compiled, x, backend, sim, seed, folder, say) -> dict:
    from lapicque.golden import nir_graph
    from lapicque.golden.neuron import zero_state

    steps = x.shape[0]
    say(f"running the float model for {steps} steps")
    runs = {"float": nir_graph.run(compiled, x, fixed=False)}
    say(f"running the fixed model for {steps} steps")
    runs["fixed"] = nir_graph.run(compiled, x, fixed=True)
    result = {"steps": steps, "saturated_updates": runs["fixed"]["saturated"]}
    agreement = {"fixed_vs_float": nir_graph.agreement(runs["float"]["outputs"], runs["fixed"]["outputs"])}
    if backend == "rtl":
        from lapicque.sim.verify import verify as verify_rtl

        say(f"simulating the RTL of {compiled.spec.neurons} neurons for {steps + compiled.latency} steps")
        ext = compiled.ext(x, fixed=True)
        rtl = verify_rtl(compiled.spec, ext.shape[0], folder / "rtl", seed=seed, sim=sim, status=say,
                         state=zero_state(compiled.spec.neurons), ext=ext)
        spikes = np.load(folder / "rtl" / "sim" / "traces.npz")["spike"]
        runs["rtl"] = {"outputs": compiled.align(spikes, steps), "spikes": spikes}
        agreement["rtl_vs_fixed"] = nir_graph.agreement(runs["fixed"]["outputs"], runs["rtl"]["outputs"])
        identical = bool(np.array_equal(runs["rtl"]["spikes"], runs["fixed"]["spikes"]))
        result["rtl"] = {"passed": rtl["passed"], "bit_exact_mismatches": rtl["bit_exact_mismatches"],
                         "float_bound_violations": rtl["float_bound_violations"],
                         "updates_checked": rtl["updates_checked"], "spikes_identical_to_fixed": identical}
        result["passed"] = bool(rtl["passed"] and identical)
    result["agreement"] = agreement
    if folder is not None:
        write_npz(folder / "outputs.npz", input=x, **{name: run["outputs"] for name, run in runs.items()})
    return result


def nir_export(*, spec: Path | str, dt: float = 1e-3, out: Path | str | None = None, status=None) -> dict:
    """Write an array as a NIR graph that NIR's own reader loads.

    spec: the array (TOML), or the folder of a `nir import` run: then the graph it was imported from comes
    back in its own nodes and units, every quantised value replaced by what the folder's spec.toml realises;
    dt: the time step in seconds the continuous-time parameters are stated at (an import folder: its own);
    out: the .nir file to write.

    Returns the summary (`neurons`, `dt`, `extensions_used`: neurons that need lapicque's metadata, or
    `replaced`: the nodes an import folder's export re-states, ...).
    """
    import nir

    from lapicque.golden import nir_graph
    from lapicque.spec import ArraySpec, load_spec

    if out is not None:
        _check_writable(Path(out))
    if not isinstance(spec, ArraySpec) and Path(spec).is_dir():
        graph, summary = _export_imported(Path(spec))
    else:
        array = spec if isinstance(spec, ArraySpec) else load_spec(Path(spec))
        graph = nir_graph.export_spec(array, dt)
        summary = {"kind": "nir-export", "neurons": array.neurons, "dt": dt, "discretisation": "euler",
                   "nodes": sorted(graph.nodes), "extensions_used": nir_graph.extensions_used(array)}
    if out is not None:
        out = Path(out)
        tmp = out.with_name(f".{out.name}.tmp")
        try:
            nir.write(str(tmp), graph)
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
        quiet(status)(f"wrote {out}")
    return summary


def _check_writable(out: Path) -> None:
    """A .nir file that can be written, checked before any work."""
    import os

    if out.suffix != ".nir":
        raise LapicqueError(f"--out {out}: name a .nir file")
    if out.is_dir():
        raise LapicqueError(f"--out {out}: a folder; name a .nir file")
    folder = out.parent
    if not folder.is_dir():
        raise LapicqueError(f"--out {out}: the folder {folder} does not exist; make it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise LapicqueError(f"--out {out}: the folder {folder} is not writable; choose another --out")


def _export_imported(folder: Path):
    """The graph a `nir import` run in `folder` came from, re-stated by the folder's spec.toml."""
    import json

    from lapicque.golden import nir_graph
    from lapicque.runfolder import check_complete
    from lapicque.spec import load_spec

    check_complete(folder)  # a run that did not finish may mix a spec with another run's summary
    try:
        record = json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError):
        record = {}
    if record.get("kind") != "nir-import" or not (folder / "spec.toml").is_file():
        raise LapicqueError(f"{folder}: a folder, but not a finished `lapicque nir import` run (its summary.json and "
                            f"spec.toml); give a spec file or an import's folder")
    options = record["options"]
    original = nir_graph.read_graph(record["graph"])
    compiled = nir_graph.compile_graph(original, record["dt"], record["discretisation"], v_bits=options["v_bits"],
                                       w_bits=options["w_bits"], refractory=options["refractory"],
                                       lanes=options["lanes"])
    graph, replaced = nir_graph.realise(original, compiled, load_spec(folder / "spec.toml"))
    return graph, {"kind": "nir-export", "neurons": compiled.spec.neurons, "dt": record["dt"],
                   "discretisation": record["discretisation"], "graph": record["graph"],
                   "nodes": sorted(graph.nodes), "replaced": sorted(replaced), "extensions_used": {}}

"""Make the NIR conformance fixtures from the frameworks themselves: snnTorch and Norse.

    pip install -e '.[frameworks]'          # snnTorch, Norse and PyTorch: several GB, not in the test install
    python benchmarks/nir_fixtures.py       # writes tests/fixtures/nir/

For each network this builds it in the framework, exports it with the framework's own NIR exporter,
simulates it in the framework on seeded Bernoulli input spikes, and stores
`NAME.nir` (what the exporter wrote), `NAME.npz` (`input` steps x inputs, `spikes` and `membrane` of the
output layer, `hidden_spikes` and `hidden_membrane` of the first layer: the framework's own, recorded
before its reset, as the framework reports them) and `NAME.json` (framework versions, dt, how to import it,
what the exporter gets wrong). The tests (`tests/golden/test_nir_graph.py`) check lapicque against these
recordings without PyTorch.

Networks:
- `snntorch-lif`: 32 -> Linear -> Leaky(64) -> Linear -> Leaky(10), reset to zero (the reset NIR's LIF has).
- `snntorch-cuba`: 32 -> Linear -> Synaptic(64) -> Linear -> Synaptic(10) (NIR's CubaLIF), reset to zero,
  which in Synaptic (as in RLeaky) also drops the input of the step after a spike: import with --refractory 1.
- `snntorch-rleaky`: 16 -> Linear -> RLeaky(32, all-to-all recurrent) -> Linear -> Leaky(8), reset to zero.
- `norse-cuba`: 32 -> Linear -> LIFCell(64) -> Linear -> LIFCell(10) (current-based LIF: NIR's CubaLIF).
  Norse 1.1's exporter writes tau = dt * tau (it divides dt by the inverse time constant) and leaves
  w_in = 1 where its own current jumps by the input (NIR's Euler step jumps by dt w_in / tau_syn): the raw
  export is stored as `norse-cuba-as-exported.nir`, and `norse-cuba.nir` is the same graph with
  tau = exported / dt and w_in = tau_syn / dt, so that NIR's equations are Norse's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "nir"
STEPS = 1000
SEED = 7


def bernoulli_input(steps: int, inputs: int, rate: float, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random((steps, inputs)) < rate).astype(np.float32)


def save(name: str, graph, record: dict, meta: dict) -> None:
    import nir

    OUT.mkdir(parents=True, exist_ok=True)
    nir.write(OUT / f"{name}.nir", graph)
    np.savez_compressed(OUT / f"{name}.npz", **{k: np.asarray(v) for k, v in record.items()})
    (OUT / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n")
    spikes = record["spikes"]
    print(f"{name}: {spikes.shape[0]} steps, {int(spikes.sum())} output spikes, "
          f"{int(record['hidden_spikes'].sum())} hidden spikes")


def versions() -> dict:
    import importlib.metadata as md

    names = ("torch", "snntorch", "norse", "nir", "nirtorch")
    found = {}
    for name in names:
        try:
            found[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return found


def run_snntorch(net, first, second, x) -> dict:
    """Step an snnTorch Sequential with init_hidden neurons; record both layers before their reset."""
    import torch

    record = {k: [] for k in ("spikes", "membrane", "hidden_spikes", "hidden_membrane")}
    with torch.no_grad():
        for module in net.modules():
            if hasattr(module, "reset_hidden"):
                module.reset_hidden()
        for x_t in x:
            signal = torch.from_numpy(x_t)[None]
            for module in net:
                signal = module(signal)
                if module is first:
                    record["hidden_spikes"].append(signal[0].numpy().copy())
                    record["hidden_membrane"].append(first.mem[0].numpy().copy())
            record["spikes"].append(signal[0].numpy().copy())
            record["membrane"].append(second.mem[0].numpy().copy())
    return {k: np.array(v) for k, v in record.items()}


def snntorch_fixture(name: str, first, second, sizes: tuple[int, int, int], scales: tuple[float, float],
                     seed: int, import_options: str, notes: str) -> None:
    """inputs -> Linear -> first -> Linear -> second, its Linear weights scaled, exported by snnTorch's own
    exporter and stepped by snnTorch on seeded input spikes."""
    import torch
    from snntorch.export_nir import export_to_nir

    inputs, hidden, outputs = sizes
    net = torch.nn.Sequential(torch.nn.Linear(inputs, hidden), first, torch.nn.Linear(hidden, outputs), second)
    with torch.no_grad():
        net[0].weight.mul_(scales[0])
        net[2].weight.mul_(scales[1])
    x = bernoulli_input(STEPS, inputs, 0.2, seed)
    graph = export_to_nir(net, torch.from_numpy(x[:1]), ignore_dims=[0])
    record = run_snntorch(net, first, second, x)
    record["input"] = x
    save(name, graph, record, {
        "framework": "snntorch", "versions": versions(), "dt": 1e-4, "steps": STEPS,
        "import": f"lapicque nir import {name}.nir --dt 1e-4 --discretisation euler{import_options}", "notes": notes})


def snntorch_lif() -> None:
    import snntorch as snn
    import torch

    torch.manual_seed(SEED)
    first = snn.Leaky(beta=torch.full((64,), 0.9), threshold=torch.ones(64), reset_mechanism="zero", init_hidden=True)
    second = snn.Leaky(beta=torch.full((10,), 0.8), threshold=torch.ones(10), reset_mechanism="zero", init_hidden=True)
    snntorch_fixture("snntorch-lif", first, second, (32, 64, 10), (2.0, 3.0), SEED, "",
                     "snnTorch's exporter writes tau = dt / (1 - beta) and r = tau / dt at dt = 1e-4 s; "
                     "Leaky with reset_mechanism='zero' is NIR's LIF with v_reset = 0")


def snntorch_cuba() -> None:
    import snntorch as snn
    import torch

    torch.manual_seed(SEED + 3)
    first = snn.Synaptic(alpha=torch.full((64,), 0.8), beta=torch.full((64,), 0.9), threshold=torch.ones(64),
                         reset_mechanism="zero", init_hidden=True)
    second = snn.Synaptic(alpha=torch.full((10,), 0.7), beta=torch.full((10,), 0.85), threshold=torch.ones(10),
                          reset_mechanism="zero", init_hidden=True)
    snntorch_fixture("snntorch-cuba", first, second, (32, 64, 10), (0.8, 1.0), SEED + 3, " --refractory 1",
                     "Synaptic with reset_mechanism='zero' zeroes the whole membrane update of the step after a "
                     "spike (its input dropped, the current kept): one step of refractoriness the NIR graph does not "
                     "carry; the exporter writes tau_syn = dt / (1 - alpha), w_in = tau_syn / dt at dt = 1e-4 s")


def snntorch_rleaky() -> None:
    import snntorch as snn
    import torch

    torch.manual_seed(SEED + 1)
    first = snn.RLeaky(beta=0.9, threshold=1.0, linear_features=32, all_to_all=True, reset_mechanism="zero",
                       init_hidden=True)
    second = snn.Leaky(beta=torch.full((8,), 0.85), threshold=torch.ones(8), reset_mechanism="zero", init_hidden=True)
    snntorch_fixture("snntorch-rleaky", first, second, (16, 32, 8), (2.5, 3.0), SEED + 1, " --refractory 1.lif=1",
                     "RLeaky with reset_mechanism='zero' holds the membrane at 0 for the step after a spike, "
                     "dropping that step's input: one step of refractoriness the NIR graph does not carry")


def norse_params(size: int, tau_mem: float):
    """Norse's LIF parameters, one value per neuron (NIR stores per-neuron arrays)."""
    import norse.torch as norse
    import torch

    def full(value):
        return torch.full((size,), value)

    return norse.LIFParameters(tau_syn_inv=full(1 / 5e-3), tau_mem_inv=full(1 / tau_mem), v_th=full(1.0),
                               v_leak=full(0.0), v_reset=full(0.0), method="heaviside")


def run_norse(first, second, x) -> dict:
    """Step two Norse layers (each a function of the input and its state); record both, v after the reset."""
    import torch

    record = {k: [] for k in ("spikes", "membrane", "hidden_spikes", "hidden_membrane")}
    state1 = state2 = None
    with torch.no_grad():
        for x_t in x:
            z1, state1 = first(torch.from_numpy(x_t)[None], state1)
            z2, state2 = second(z1, state2)
            record["hidden_spikes"].append(z1[0].numpy().copy())
            record["hidden_membrane"].append(state1.v[0].numpy().copy())
            record["spikes"].append(z2[0].numpy().copy())
            record["membrane"].append(state2.v[0].numpy().copy())
    record = {k: np.array(v) for k, v in record.items()}
    record["input"] = x
    return record


def norse_cuba() -> None:
    import nir
    import norse.torch as norse
    import torch

    dt = 1e-3
    torch.manual_seed(SEED + 2)
    first_linear, second_linear = torch.nn.Linear(32, 64), torch.nn.Linear(64, 10)
    with torch.no_grad():
        first_linear.weight.mul_(6.0)
        second_linear.weight.mul_(8.0)
    first, second = norse.LIFCell(norse_params(64, 1e-2), dt=dt), norse.LIFCell(norse_params(10, 1e-2), dt=dt)
    x = bernoulli_input(STEPS, 32, 0.2, SEED + 2)
    record = run_norse(lambda z, state: first(first_linear(z), state),
                       lambda z, state: second(second_linear(z), state), x)
    sequential = norse.SequentialState(first_linear, first, second_linear, second)
    exported = norse.to_nir(sequential, torch.from_numpy(x[:1]), dt=dt)
    meta = {"framework": "norse", "versions": versions(), "dt": dt, "steps": STEPS,
            "import": "lapicque nir import norse-cuba.nir --dt 1e-3 --discretisation euler",
            "notes": "membrane is recorded after Norse's reset (to v_reset = 0 on a spike); "
                     "norse-cuba.nir corrects two exporter errors of Norse 1.1 (see the module docstring)"}
    save("norse-cuba-as-exported", exported, record, {**meta, "import": "refused: time constants below dt"})
    corrected = {}
    for name, node in exported.nodes.items():
        if isinstance(node, nir.CubaLIF):
            tau_syn, tau_mem = np.asarray(node.tau_syn) / dt, np.asarray(node.tau_mem) / dt
            node = nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, r=np.asarray(node.r),
                               v_leak=np.asarray(node.v_leak), v_threshold=np.asarray(node.v_threshold),
                               v_reset=np.asarray(node.v_reset), w_in=tau_syn / dt)
        elif isinstance(node, nir.Input):  # the exporter keeps the sample's batch axis of 1
            node = nir.Input(input_type=np.array(node.input_type["input"])[-1:])
        elif isinstance(node, nir.Output):
            node = nir.Output(output_type=np.array(node.output_type["output"])[-1:])
        corrected[name] = node
    save("norse-cuba", nir.NIRGraph(nodes=corrected, edges=list(exported.edges)), record, meta)


def norse_recurrent() -> None:
    """A recurrent CubaLIF layer in Norse. Norse 1.1's exporter has no recurrent cell, so the graph is written
    with NIR's own classes from the cell's weights and parameters, in NIR's equations (tau in seconds, w_in =
    tau_syn / dt for Norse's current jump of one input): what a correct exporter would write."""
    import nir
    import norse.torch as norse
    import torch

    dt = 1e-3
    torch.manual_seed(SEED + 4)
    scalar = norse.LIFParameters(tau_syn_inv=torch.tensor(1 / 5e-3), tau_mem_inv=torch.tensor(1 / 2e-2),
                                 v_th=torch.tensor(1.0), v_leak=torch.tensor(0.0), v_reset=torch.tensor(0.0),
                                 method="heaviside")  # the recurrent cell's initial state takes scalars
    first = norse.LIFRecurrentCell(16, 32, p=scalar, dt=dt)
    with torch.no_grad():
        first.input_weights.mul_(4.0)
        first.recurrent_weights.mul_(2.0)
    readout = torch.nn.Linear(32, 8)
    with torch.no_grad():
        readout.weight.mul_(10.0)
    second = norse.LIFCell(norse_params(8, 2e-2), dt=dt)
    x = bernoulli_input(STEPS, 16, 0.2, SEED + 4)
    record = run_norse(first, lambda z, state: second(readout(z), state), x)

    def cuba(size, tau_mem):
        tau_syn = np.full(size, 5e-3)
        return nir.CubaLIF(tau_syn=tau_syn, tau_mem=np.full(size, tau_mem), r=np.ones(size), v_leak=np.zeros(size),
                           v_threshold=np.ones(size), v_reset=np.zeros(size), w_in=tau_syn / dt)

    def weights(tensor):
        return tensor.detach().numpy().astype(np.float64)

    graph = nir.NIRGraph(
        nodes={"input": nir.Input(np.array([16])), "w_in": nir.Linear(weights(first.input_weights)),
               "lif": cuba(32, 2e-2), "w_rec": nir.Linear(weights(first.recurrent_weights)),
               "readout": nir.Affine(weights(readout.weight), weights(readout.bias)), "out": cuba(8, 2e-2),
               "output": nir.Output(np.array([8]))},
        edges=[("input", "w_in"), ("w_in", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "readout"),
               ("readout", "out"), ("out", "output")])
    save("norse-recurrent", graph, record, {
        "framework": "norse", "versions": versions(), "dt": dt, "steps": STEPS,
        "import": "lapicque nir import norse-recurrent.nir --dt 1e-3 --discretisation euler",
        "notes": "LIFRecurrentCell (16 -> 32, recurrent, no autapses) -> Linear -> LIFCell (8); Norse's exporter "
                 "has no recurrent cell: the graph is written with NIR's classes from the cell's own weights; "
                 "membrane recorded after Norse's reset",
    })


if __name__ == "__main__":
    snntorch_lif()
    snntorch_cuba()
    snntorch_rleaky()
    norse_cuba()
    norse_recurrent()

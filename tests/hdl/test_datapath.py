# amaranth: UnusedElaboratable=no
"""The RTL datapath against the golden fixed model: directed rule edges and seeded random cases."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from lapicque.golden.neuron import State, array_step
from lapicque.hdl.datapath import NeuronDatapath
from lapicque.spec import PARAM_NAMES, ArraySpec, Widths, random_spec

from ..golden.cases import DIRECTED

FIELDS = ("v", "i", "ref", "pulse", "spike", "flags")


def run_datapath(spec: ArraySpec, cases, inject_bug=None, latency=0, stall_seed=None, design=None):
    """Drive (params, state, acc, ext) cases through the datapath; returns its outputs in case order.

    With `latency` > 0 one case enters per clock; with `stall_seed`, `en` drops at random cycles
    (the inputs then change under a held pipeline, which must not disturb it). `design`: another
    combinational component with the datapath's ports (the formal reference) instead.
    """
    dp = design if design is not None else NeuronDatapath(spec, latency=latency, inject_bug=inject_bug)
    rng = np.random.default_rng(stall_seed)
    results = []

    def apply(ctx, case):
        params, state, acc, ext = case
        for name in PARAM_NAMES:
            ctx.set(getattr(dp.params, name), int(params[name]))
        for name in ("v", "i", "ref", "pulse"):
            ctx.set(getattr(dp.state, name), int(state[name]))
        ctx.set(dp.acc, int(acc))
        ctx.set(dp.ext, int(ext))

    def read(ctx):
        u = dp.update
        results.append({"v": ctx.get(u.state.v), "i": ctx.get(u.state.i), "ref": ctx.get(u.state.ref),
                        "pulse": ctx.get(u.state.pulse), "spike": ctx.get(u.spike), "flags": ctx.get(u.flags)})

    async def combinational(ctx):
        for case in cases:
            apply(ctx, case)
            read(ctx)

    async def pipelined(ctx):
        entered = 0  # cases accepted by the first stage; the output holds case entered - latency
        while len(results) < len(cases):
            stall = stall_seed is not None and rng.random() < 0.3
            ctx.set(dp.en, 0 if stall else 1)
            case = cases[entered] if entered < len(cases) else cases[-1]
            # garbage under a held pipeline must not disturb it
            apply(ctx, case if not stall else cases[int(rng.integers(len(cases)))])
            await ctx.tick()
            if not stall:
                entered += 1
                if entered >= latency:
                    read(ctx)

    sim = Simulator(dp)
    if latency:
        sim.add_clock(1e-6)
    sim.add_testbench(pipelined if latency else combinational)
    sim.run()
    return results


def golden(spec: ArraySpec, cases):
    out = []
    for params, state, acc, ext in cases:
        one = ArraySpec(1, widths=spec.widths, params=params, rounding=spec.rounding,
                        weight_exponent=spec.weight_exponent)
        st = State(*(np.array([state[k]]) for k in ("v", "i", "ref", "pulse")))
        r = array_step(one, st, np.array([acc]), np.array([ext]), True)
        out.append({"v": int(r.state.v[0]), "i": int(r.state.i[0]), "ref": int(r.state.ref[0]),
                    "pulse": int(r.state.pulse[0]), "spike": int(r.spike[0]), "flags": int(r.flags[0])})
    return out


def directed_cases():
    return [c[1:] for c in DIRECTED]


def test_directed_cases_match_the_model():
    spec = ArraySpec(64)  # 16-bit widths, 64 neurons: the accumulator is wide enough for the cases
    cases = directed_cases()
    got, want = run_datapath(spec, cases), golden(spec, cases)
    for (name, *_), g, w in zip(DIRECTED, got, want, strict=True):
        assert g == w, name


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_cases_match_the_model(seed):
    spec = random_spec(64, 1, seed=seed)
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(300):
        n = int(rng.integers(spec.neurons))
        params = {name: int(spec.params[name][n]) for name in PARAM_NAMES}
        pulse = int(params["hysteresis"] and rng.random() < 0.5)
        state = {"v": int(rng.integers(-32768, 32768)), "i": int(rng.integers(-32768, 32768)),
                 "ref": 0 if pulse else int(rng.integers(0, 3)), "pulse": pulse}
        lo, hi = -(1 << (spec.acc_bits - 1)), (1 << (spec.acc_bits - 1)) - 1
        cases.append((params, state, int(rng.integers(lo, hi + 1)), int(rng.integers(-128, 128))))
    assert run_datapath(spec, cases) == golden(spec, cases)


@pytest.mark.parametrize("latency", [1, 2, 3, 4, 5, 6, 7])
def test_every_latency_gives_the_same_updates(latency):
    spec = random_spec(64, 1, seed=5)
    rng = np.random.default_rng(5)
    cases = []
    for _ in range(120):
        n = int(rng.integers(spec.neurons))
        params = {name: int(spec.params[name][n]) for name in PARAM_NAMES}
        pulse = int(params["hysteresis"] and rng.random() < 0.5)
        state = {"v": int(rng.integers(-32768, 32768)), "i": int(rng.integers(-32768, 32768)),
                 "ref": 0 if pulse else int(rng.integers(0, 3)), "pulse": pulse}
        cases.append((params, state, int(rng.integers(-2000, 2000)), int(rng.integers(-128, 128))))
    cases += directed_cases()
    want = golden(spec, cases)
    assert run_datapath(spec, cases, latency=latency) == want
    assert run_datapath(spec, cases, latency=latency, stall_seed=latency) == want


def test_latency_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"latency must be an integer 0..7, not 8"):
        NeuronDatapath(ArraySpec(4), latency=8)
    # behind registered memories one more cut is allowed, and at least the one they pair with
    with pytest.raises(ValueError, match=r"latency must be an integer 1..8, not 0"):
        NeuronDatapath(ArraySpec(4), latency=0, registered_memories=True)
    assert NeuronDatapath(ArraySpec(4), latency=8, registered_memories=True).latency == 8


def test_narrow_widths_match_the_model():
    spec = random_spec(8, 1, seed=4, widths=Widths(v=8, i=6, w=4, bias=6, ext=4, refractory=2))
    rng = np.random.default_rng(4)
    cases = []
    for _ in range(200):
        n = int(rng.integers(spec.neurons))
        params = {name: int(spec.params[name][n]) for name in PARAM_NAMES}
        state = {"v": int(rng.integers(-128, 128)), "i": int(rng.integers(-32, 32)), "ref": int(rng.integers(0, 2)),
                 "pulse": 0}
        cases.append((params, state, int(rng.integers(-32, 32)), int(rng.integers(-8, 8))))
    assert run_datapath(spec, cases) == golden(spec, cases)


def test_injected_bug_is_visible_at_the_datapath():
    spec = ArraySpec(64)
    name, params, state, acc, ext = next(c for c in DIRECTED if c[0] == "refractory_entry")
    good = run_datapath(spec, [(params, state, acc, ext)])
    bad = run_datapath(spec, [(params, state, acc, ext)], inject_bug="refractory_off_by_one")
    assert good[0]["ref"] == 3 and bad[0]["ref"] == 4


def test_unknown_bug_is_refused():
    with pytest.raises(ValueError, match="inject_bug must be one of refractory_off_by_one, threshold_strict"):
        NeuronDatapath(ArraySpec(4), inject_bug="typo")


def rounding_cases(spec: ArraySpec, seed: int, count: int = 300, near_rest: float = 0.5):
    """Random states and decay factors over their whole ranges (not only multiples of 256), both signs; a
    `near_rest` share of the states close to 0, where the two roundings part."""
    rng = np.random.default_rng(seed)
    v_max, i_max = (1 << (spec.widths.v - 1)), (1 << (spec.widths.i - 1))
    cases = []
    for _ in range(count):
        n = int(rng.integers(spec.neurons))
        params = {name: int(spec.params[name][n]) for name in PARAM_NAMES}
        params["decay"] = int(rng.integers(0, 4097))
        if params["leak_mode"] == 0:
            params["leak"] = int(rng.integers(0, 4097))
        pulse = int(params["hysteresis"] and rng.random() < 0.5)
        small = rng.random() < near_rest
        v_span, i_span = (min(40, v_max), min(40, i_max)) if small else (v_max, i_max)
        state = {"v": int(rng.integers(-v_span, v_span)), "i": int(rng.integers(-i_span, i_span)),
                 "ref": 0 if pulse else int(rng.integers(0, 3)), "pulse": pulse}
        cases.append((params, state, int(rng.integers(-8, 8)), int(rng.integers(-8, 8))))
    return cases


@pytest.mark.parametrize("rounding", ["floor", "toward_zero"])
@pytest.mark.parametrize("latency", [0, 3, 7])
def test_every_rounding_mode_matches_the_model_at_every_latency(rounding, latency):
    spec = random_spec(64, 1, seed=11, rounding=rounding)
    cases = rounding_cases(spec, seed=latency + 1) + directed_cases()
    assert run_datapath(spec, cases, latency=latency) == golden(spec, cases)


def test_the_two_roundings_are_different_hardware():
    """A floor datapath checked against the toward-zero model (or the reverse) fails: the mode is not a label."""
    floor, toward = (random_spec(64, 1, seed=11, rounding=r) for r in ("floor", "toward_zero"))
    cases = rounding_cases(floor, seed=9)
    assert run_datapath(floor, cases) != golden(toward, cases)
    assert run_datapath(toward, cases) != golden(floor, cases)


def test_toward_zero_at_narrow_widths_matches_the_model():
    """States narrower than the 12-bit shift: the round-up bit's trailing-zero test must not look past them."""
    spec = random_spec(8, 1, seed=4, widths=Widths(v=8, i=6, w=4, bias=6, ext=4, refractory=2),
                       rounding="toward_zero")
    cases = rounding_cases(spec, seed=4, count=400)
    for latency in (0, 4):
        assert run_datapath(spec, cases, latency=latency) == golden(spec, cases)


@pytest.mark.parametrize("exponent", [1, 6, 16])
@pytest.mark.parametrize("latency", [0, 4])
def test_weight_exponent_matches_the_model(exponent, latency):
    """The input shifted left by the exponent, up to the largest allowed: saturation at both rails."""
    spec = random_spec(64, 1, seed=12, weight_exponent=exponent)
    lo, hi = -(1 << (spec.acc_bits - 1)), (1 << (spec.acc_bits - 1)) - 1
    rng = np.random.default_rng(exponent)
    cases = [(params, state, int(rng.integers(lo, hi + 1)), ext)
             for params, state, _, ext in rounding_cases(spec, seed=exponent, count=200)]
    want = golden(spec, cases)
    assert run_datapath(spec, cases, latency=latency) == want
    # not a label: the same cases without the shift give other currents
    assert golden(random_spec(64, 1, seed=12), cases) != want


def channel_cases(spec, channels: int, seed: int, count: int = 200):
    """Random cases for a datapath with several synaptic channels: every channel's current, decay and input."""
    rng = np.random.default_rng(seed)
    i_max = 1 << (spec.widths.i - 1)
    acc_max = 1 << (spec.acc_bits - 1)
    cases = []
    for _ in range(count):
        n = int(rng.integers(spec.neurons))
        params = {name: int(spec.params[name][n]) for name in PARAM_NAMES}
        pulse = int(params["hysteresis"] and rng.random() < 0.5)
        state = {"v": int(rng.integers(-32768, 32768)), "ref": 0 if pulse else int(rng.integers(0, 3)), "pulse": pulse}
        # near the rails now and then, so that each channel saturates on its own
        span = [int(rng.choice([i_max, 40])) for _ in range(channels)]
        currents = [int(rng.integers(-s, s)) for s in span]
        decays = [int(rng.integers(0, 4097)) for _ in range(channels)]
        accs = [int(rng.integers(-min(acc_max, 3 * i_max), min(acc_max, 3 * i_max))) for _ in range(channels)]
        cases.append((params, state, currents, decays, accs, int(rng.integers(-128, 128))))
    return cases


def run_channel_datapath(spec, channels, cases, latency):
    from lapicque.hdl.layouts import channel_field

    class Shape:  # the spec as the datapath sees it, with several channels
        def __init__(self):
            self.widths, self.rounding, self.weight_exponent = spec.widths, spec.rounding, spec.weight_exponent
            self.leak_bits, self.acc_bits = spec.leak_bits, spec.acc_bits
            self.channels = tuple(f"c{c}" for c in range(channels))

    dp = NeuronDatapath(Shape(), latency=latency)
    results = []

    def apply(ctx, case):
        params, state, currents, decays, accs, ext = case
        for name in PARAM_NAMES:
            ctx.set(getattr(dp.params, name), params[name])
        for name, value in state.items():
            ctx.set(getattr(dp.state, name), value)
        for c in range(channels):
            ctx.set(getattr(dp.state, channel_field("i", c)), currents[c])
            ctx.set(getattr(dp.params, channel_field("decay", c)), decays[c])
            ctx.set(getattr(dp, channel_field("acc", c)), accs[c])
        ctx.set(dp.ext, ext)

    async def bench(ctx):
        # a case applied before the k-th tick leaves the pipeline after `latency` ticks
        for k in range(len(cases) + max(0, latency - 1)):
            apply(ctx, cases[min(k, len(cases) - 1)])
            if latency:
                await ctx.tick()
            if k + 1 >= latency:
                u = dp.update
                results.append((ctx.get(u.state.v), [ctx.get(getattr(u.state, channel_field("i", c)))
                                                     for c in range(channels)],
                                ctx.get(u.state.ref), ctx.get(u.state.pulse), ctx.get(u.spike), ctx.get(u.flags)))

    sim = Simulator(dp)
    if latency:
        sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    want = []
    for params, state, currents, decays, accs, ext in cases:
        p = {k: np.array([v]) for k, v in params.items()}
        p["decay"] = np.array(decays)[:, None]
        st = State(np.array([state["v"]]), np.array(currents)[:, None], np.array([state["ref"]]),
                   np.array([state["pulse"]]))
        r = array_step(spec, st, np.array(accs)[:, None], np.array([ext]), True, p, channels=True)
        want.append((int(r.state.v[0]), [int(x) for x in r.state.i[:, 0]], int(r.state.ref[0]),
                     int(r.state.pulse[0]), int(r.spike[0]), int(r.flags[0])))
    return results, want


@pytest.mark.parametrize(("channels", "latency", "rounding"), [(2, 0, "toward_zero"), (2, 7, "floor"),
                                                               (3, 4, "toward_zero")])
def test_several_channels_each_decay_on_their_own_and_sum_into_the_membrane(channels, latency, rounding):
    spec = random_spec(64, 1, seed=channels + latency, rounding=rounding, weight_exponent=1)
    got, want = run_channel_datapath(spec, channels, channel_cases(spec, channels, seed=latency), latency)
    assert got == want
    # the cases reach what the channels add: a saturated current, a spike, both signs of the membrane
    assert any(flags & 3 for *_, flags in want) and any(spike for *_, spike, _ in want)


@pytest.mark.parametrize(("v_bits", "rounding", "latency"), [(20, "toward_zero", 7), (24, "floor", 0)])
def test_a_membrane_wider_than_a_dsp_operand_splits_the_leak_and_matches_the_model(v_bits, rounding, latency):
    """Above 18 bits the leak's product is made of two half-width products (hdl.datapath.MULTIPLIER_BITS):
    random states over the whole range, every leak factor, both leak modes."""
    spec = random_spec(64, 1, seed=v_bits, widths=Widths(v=v_bits, i=16, bias=v_bits), rounding=rounding)
    rng = np.random.default_rng(v_bits)
    v_max = 1 << (v_bits - 1)
    cases = []
    for _ in range(300):
        n = int(rng.integers(spec.neurons))
        params = {name: int(spec.params[name][n]) for name in PARAM_NAMES}
        if params["leak_mode"] == 0:
            params["leak"] = int(rng.integers(0, 4097))
        state = {"v": int(rng.integers(-v_max, v_max)), "i": int(rng.integers(-32768, 32768)),
                 "ref": int(rng.integers(0, 2)), "pulse": 0}
        cases.append((params, state, int(rng.integers(-2000, 2000)), int(rng.integers(-128, 128))))
    assert run_datapath(spec, cases, latency=latency) == golden(spec, cases)

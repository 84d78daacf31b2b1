"""The scoreboard: two checks on every state update the RTL emits, and the functional coverage.

1. bit-exact, in lock-step: the fixed-point model, stepped from the same initial state with the
   same external input, must match every field of every update exactly (`check_step`);
2. float: the float model, stepped one step from the RTL's own previous state, must land within
   the analytic quantisation bound: 0 <= rtl - float < bound (== 0 where the bound is 0). Each
   step of this check depends only on the RTL's records, so `finish` runs it for all steps at once.
   Where the two straddle a threshold (a legitimate quantisation effect) only the current is
   compared, and the straddle is counted.

Free-running float vs RTL (rates, spike coincidence) is statistics, not pass/fail (`free_running`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from lapicque.golden.neuron import FLAG_NAMES, UPDATE_FIELDS, ArrayModel, State, array_step, quantisation_bound
from lapicque.spec import ArraySpec

FIELDS = UPDATE_FIELDS
STREAM_BINS = ("backpressure_stim", "backpressure_spikes", "backpressure_monitor", "queue_full")
#: a state that decays to rest, from either sign, with no input that step: where the roundings part
REST_BINS = ("current_rest_from_above", "current_rest_from_below", "membrane_rest_from_above",
             "membrane_rest_from_below")
#: an update whose membrane lands exactly on a comparison's edge (where `>=` and `>`, `<=` and `<`
#: part), and a refractory count using the counter's top half
EDGE_BINS = ("threshold_exact", "release_exact", "membrane_exact_zero", "refractory_long")
COVERAGE_BINS = ("spike",) + FLAG_NAMES + REST_BINS + EDGE_BINS + STREAM_BINS


def unreachable_bins(spec: ArraySpec) -> list[str]:
    """Bins no run of this spec can hit, whatever its stimulus: rules none of its neurons has."""
    p = spec.params
    hysteresis = (p["hysteresis"] == 1).any()
    refractory = p["refractory"] > 0
    long_refractory = refractory & (p["refractory"] >= min(8, (1 << spec.widths.refractory) - 1))
    rules = {"hysteresis_release": hysteresis, "release_exact": hysteresis, "refractory_entry": refractory.any(),
             "refractory_exit": refractory.any(), "refractory_long": long_refractory.any()}
    return [name for name in COVERAGE_BINS if name in rules and not rules[name]]


@dataclass
class Mismatch:
    step: int
    neuron: int
    field: str
    expected: int | float
    got: int | float

    def to_dict(self) -> dict:
        return {"step": self.step, "neuron": self.neuron, "field": self.field,
                "expected": self.expected, "got": self.got}


class Scoreboard:
    def __init__(self, spec: ArraySpec, initial: State, steps: int):
        """Checks `steps` steps from the state `initial`, stepping its own fixed model beside them."""
        self.spec = spec
        self.initial = initial.copy()
        self.fixed = ArrayModel(spec, fixed=True, state=initial)
        self.bound = quantisation_bound(spec)
        self.records = np.zeros((steps, len(FIELDS), spec.neurons), dtype=np.int64)
        self.rtl = {name: self.records[:, k, :] for k, name in enumerate(FIELDS)}  # views by field
        self.steps = 0
        self.bit_exact_mismatches = 0
        self.first_mismatch: Mismatch | None = None
        self.float_bound_violations = 0
        self.first_float_violation: Mismatch | None = None
        self.threshold_straddles = 0
        self.max_float_error_lsb = 0.0
        self.rest = dict.fromkeys(REST_BINS, 0)
        self.edges = dict.fromkeys(EDGE_BINS, 0)
        self.float_checked = 0  # the steps the float one-step check has covered
        # where the checking's time goes (issue 21): comparing, stepping an own fixed model, the float check
        self.compare_s = self.model_s = self.float_check_s = 0.0

    @property
    def updates_checked(self) -> int:
        return self.steps * self.spec.neurons

    def check_step(self, rtl, ext: np.ndarray) -> None:
        """Check one timestep of RTL updates bit for bit: a dict of arrays over neurons (in neuron
        order), or one [len(FIELDS), neurons] array in FIELDS order."""
        t = self.steps
        start = time.perf_counter()
        got = rtl if isinstance(rtl, np.ndarray) else np.stack([np.asarray(rtl[f]) for f in FIELDS])
        self.records[t] = got
        model0 = time.perf_counter()
        r = self.fixed.step(ext)
        expected = np.stack(r.fields())
        compare0 = time.perf_counter()
        self.model_s += compare0 - model0
        bad = got != expected
        if bad.any():
            self.bit_exact_mismatches += int(bad.sum())
            if self.first_mismatch is None:
                # the lowest neuron first, then the first field in FIELDS order
                n, k = (int(x) for x in np.argwhere(bad.T)[0])
                self.first_mismatch = Mismatch(t, n, FIELDS[k], int(expected[k, n]), int(got[k, n]))
        self.steps += 1
        self.compare_s += (model0 - start) + (time.perf_counter() - compare0)

    def finish(self, ext: np.ndarray) -> None:
        """Run the float one-step check over the steps recorded since the last call (the checker calls it as the
        records come, so that little is left when the simulation ends)."""
        start = time.perf_counter()
        try:
            if self.steps > self.float_checked:
                self._check_float(self.float_checked, self.steps, ext)
                self.float_checked = self.steps
        finally:
            self.float_check_s += time.perf_counter() - start

    def _check_float(self, a: int, b: int, ext: np.ndarray) -> None:
        """The float one-step check of steps a..b-1, each from the RTL's own previous state."""
        rtl = {k: v[a:b] for k, v in self.rtl.items()}
        if a == 0:
            initial, first_spikes = self.initial, None
        else:
            initial = State(*(self.rtl[k][a - 1] for k in ("v", "i", "ref", "pulse")))
            first_spikes = self.rtl["spike"][a - 1]
        ext = ext[a:b]
        one = float_one_step(self.spec, initial, rtl, ext, first_spikes)
        for counts, more in ((self.rest, rest_counts(self.spec, initial, rtl, ext, first_spikes)),
                             (self.edges, edge_counts(self.spec, initial, rtl, ext, first_spikes))):
            for key, value in more.items():
                counts[key] += value
        b_i, b_v = self.bound["i"], self.bound["v"]
        flt, d_i, d_v, decided_alike, straddle = one.model, one.d_i, one.d_v, one.decided_alike, one.straddle

        if self.spec.rounding == "floor":  # fixed >= float: the error is one-sided
            def outside(d, bound):
                return (d < 0) | (d > bound) | ((d == bound) & (bound > 0))
        else:  # toward zero: |fixed| <= |float|, so the error takes the sign against the state's
            def outside(d, bound):
                return (np.abs(d) > bound) | ((np.abs(d) == bound) & (bound > 0))

        checks = (("i", d_i, b_i, flt.state.i), ("v", d_v, b_v, flt.state.v),
                  ("spike", np.where(decided_alike | straddle, 0, 1), 0, flt.spike))
        self.threshold_straddles += int(straddle.sum())
        self.max_float_error_lsb = max(self.max_float_error_lsb, float(max(np.abs(d_i).max(), np.abs(d_v).max())))
        first = None
        for name, d, bound, model in checks:
            err = outside(d, bound)
            self.float_bound_violations += int(err.sum())
            if err.any():
                t, n = (int(x) for x in np.argwhere(err)[0])
                if first is None or (t + a, n) < (first.step, first.neuron):
                    first = Mismatch(t + a, n, name, float(model[t, n]), float(rtl[name][t, n]))
        if self.first_float_violation is None:  # chunks come in order: an earlier chunk's first stays first
            self.first_float_violation = first

    def coverage(self) -> dict[str, int]:
        """Hit counts of the update bins (the stream bins come from the RTL's counters)."""
        T = self.steps
        counts = {"spike": int(self.rtl["spike"][:T].sum())}
        for bit, name in enumerate(FLAG_NAMES):
            counts[name] = int(((self.rtl["flags"][:T] >> bit) & 1).sum())
        return {**counts, **self.rest, **self.edges}

    @property
    def float_bound_lsb(self) -> int:
        return int(max(self.bound["i"].max(initial=0), self.bound["v"].max(initial=0)))


@dataclass
class OneStep:
    """The float one-step check's raw material, per [step, neuron]."""

    model: object  # the float model's StepResult from the RTL's previous states
    d_i: np.ndarray  # rtl - float, current
    d_v: np.ndarray  # rtl - float, membrane (0 where the two decided a spike differently)
    decided_alike: np.ndarray
    straddle: np.ndarray  # decided differently, the float just below a threshold: quantisation, not a fault


def rest_counts(spec: ArraySpec, initial: State, rtl: dict, ext: np.ndarray, first_spikes=None) -> dict[str, int]:
    """Updates where the current (with no input that step) or the membrane (leaking, not refractory, not
    firing) went from a nonzero state to exactly 0, by the sign it came from."""
    prev, acc = previous_states(spec, initial, rtl, first_spikes)
    prev_i, prev_v = prev.i, prev.v
    quiet = (acc + ext) == 0
    current_rest = quiet & (prev_i != 0) & (rtl["i"] == 0)
    leak_bit = 1 << FLAG_NAMES.index("leak_to_rest")
    membrane_rest = (rtl["flags"] & leak_bit) != 0
    return {"current_rest_from_above": int((current_rest & (prev_i > 0)).sum()),
            "current_rest_from_below": int((current_rest & (prev_i < 0)).sum()),
            "membrane_rest_from_above": int((membrane_rest & (prev_v > 0)).sum()),
            "membrane_rest_from_below": int((membrane_rest & (prev_v < 0)).sum())}


def previous_states(spec: ArraySpec, initial: State, rtl: dict, first_spikes=None) -> tuple[State, np.ndarray]:
    """Each step's state before its update, and the synaptic input it took: the initial state, then
    the RTL's own records [step, neuron]. `first_spikes`: the spikes before the first step (none at the run's
    start; the step before, for records that start later)."""
    prev = State(*(np.concatenate([getattr(initial, k)[None], rtl[k][:-1]]) for k in ("v", "i", "ref", "pulse")))
    first = np.zeros(spec.neurons, dtype=np.int64) if first_spikes is None else np.asarray(first_spikes)
    prev_spikes = np.concatenate([first[None].astype(np.int64), rtl["spike"][:-1]])
    return prev, prev_spikes @ spec.weights


def edge_counts(spec: ArraySpec, initial: State, rtl: dict, ext: np.ndarray, first_spikes=None) -> dict[str, int]:
    """Updates (of the fixed model from the RTL's previous state) whose membrane lands exactly on
    theta_hi while not refractory, exactly on theta_lo inside a pulse, exactly on 0 from a nonzero
    membrane; and refractory counts of 8 or more."""
    p = spec.params
    prev, acc = previous_states(spec, initial, rtl, first_spikes)
    step = array_step(spec, prev, acc, ext, fixed=True)
    active = prev.ref == 0
    ref_long = min(8, (1 << spec.widths.refractory) - 1)
    return {"threshold_exact": int((active & (step.v_pre == p["theta_hi"])).sum()),
            "release_exact": int((active & (prev.pulse != 0) & (step.v_pre == p["theta_lo"])).sum()),
            "membrane_exact_zero": int((active & (prev.v != 0) & (step.v_pre == 0)).sum()),
            "refractory_long": int((rtl["ref"] >= ref_long).sum())}


def float_one_step(spec: ArraySpec, initial: State, rtl: dict, ext: np.ndarray, first_spikes=None) -> OneStep:
    """Step the float model once from each of the RTL's states (all steps at once) and compare."""
    p = spec.params
    prev, acc = previous_states(spec, initial, rtl, first_spikes)
    prev = State(prev.v.astype(np.float64), prev.i.astype(np.float64), prev.ref, prev.pulse)
    flt = array_step(spec, prev, acc, ext, fixed=False)
    b_v = quantisation_bound(spec)["v"]
    d_i = rtl["i"] - flt.state.i
    decided_alike = (rtl["spike"] == flt.spike) & (rtl["pulse"] == flt.state.pulse) & (rtl["ref"] == flt.state.ref)
    if spec.rounding == "floor":
        # fixed >= float, so a straddle has the float just below theta_hi, or at most b_v below theta_lo
        near_hi = (flt.v_pre < p["theta_hi"]) & (flt.v_pre > p["theta_hi"] - b_v)
        near_lo = (flt.v_pre <= p["theta_lo"]) & (flt.v_pre > p["theta_lo"] - b_v)
    else:  # toward zero: the fixed membrane may lie either side of the float one, by less than b_v
        near_hi = np.abs(flt.v_pre - p["theta_hi"]) < b_v
        near_lo = np.abs(flt.v_pre - p["theta_lo"]) < b_v
    straddle = ~decided_alike & (near_hi | near_lo)
    d_v = np.where(decided_alike, rtl["v"] - flt.state.v, 0.0)
    return OneStep(flt, d_i, d_v, decided_alike, straddle)


def free_running(spec: ArraySpec, initial: State, ext: np.ndarray, rtl_spikes: np.ndarray) -> dict:
    """Free-running float model vs RTL spikes: rates and coincidence (statistics, not pass/fail)."""
    if len(rtl_spikes) == 0:
        return {}
    flt = ArrayModel(spec, fixed=False, state=initial).run(ext[: len(rtl_spikes)])["spike"]
    rtl = np.asarray(rtl_spikes, dtype=bool)
    both = int((rtl & flt).sum())
    total = int(rtl.sum() + flt.sum())
    return {
        "rtl_rate_per_step": float(rtl.mean()) if rtl.size else 0.0,
        "float_rate_per_step": float(flt.mean()) if flt.size else 0.0,
        "coincidence": (2 * both / total) if total else 1.0,
    }

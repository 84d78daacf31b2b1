"""The integrate-and-fire family in float64, vectorised over neurons: the models users know.

Units (NEST style): time ms, voltage mV, current pA, capacitance pF, conductance nS
(so pA / pF = mV / ms and nS * mV = pA). Every model takes an input current I(t) in pA, one value
per neuron per step, held constant within the step.

Two integration methods, stated per model:

- **exact** (`PerfectIF`, `LIF`): the subthreshold dynamics are linear, so each step uses the
  exact propagator of the piecewise-constant input, and the threshold crossing inside a step is
  solved in closed form; voltages and spike times are exact to rounding, refractoriness ends inside
  a step where it falls.
- **event** (`AxonHillock`, `FloatingGateLIF`): piecewise-linear dynamics, advanced from event to
  event (threshold, pulse end, reaching rest) inside each step in closed form: exact to rounding.
- **rk4** (every nonlinear model): the classical fourth-order Runge-Kutta step (global order 4 on
  smooth trajectories, which the tests measure); a spike is registered when V reaches `v_peak`,
  its time interpolated linearly inside the step (order 2), then the model's reset applies; the
  refractory period is rounded to whole steps.

Each model is a `Model`: named parameters with published defaults (`defaults`), the state
variables, the right-hand side, the spike condition and the reset. `simulate` runs any of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lapicque.errors import LapicqueError

POSITIVE = {"c_m", "c_mem", "c_fb", "tau", "tau_m", "tau_w", "delta_t"}  # divided by, or a time scale
NON_NEGATIVE = {"t_ref", "g_l", "g_k", "g_na", "g_e", "g_i"}


@dataclass
class Model:
    """A neuron model: `params` overrides `defaults`; `state` names the variables, V first."""

    name: str = "model"
    method: str = "rk4"
    defaults: dict = field(default_factory=dict)
    state: tuple = ("v",)
    equations: str = ""
    params: dict = field(default_factory=dict)
    resets: bool = True  # False: a spike is only an upward crossing of v_peak (FitzHugh-Nagumo, Hodgkin-Huxley)

    def __post_init__(self) -> None:
        unknown = set(self.params) - set(self.defaults)
        if unknown:
            raise LapicqueError(f"{self.name}: unknown parameter {sorted(unknown)[0]!r}; "
                                f"allowed: {', '.join(sorted(self.defaults))}")
        self.p = {**self.defaults, **self.params}
        for key, value in self.params.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise LapicqueError(f"{self.name}: parameter {key} = {value!r} must be a finite number")
            if key in POSITIVE and not value > 0:
                raise LapicqueError(f"{self.name}: parameter {key} = {value!r} must be above 0 (a capacitance, "
                                    "time constant or slope)")
            if key in NON_NEGATIVE and value < 0:
                raise LapicqueError(f"{self.name}: parameter {key} = {value!r} must be 0 or more (a conductance or "
                                    "a refractory period)")

    # the model's definition; subclasses fill these in
    def initial(self, n: int) -> np.ndarray:
        """Rest: [len(state), n]."""
        x = np.zeros((len(self.state), n))
        x[0] = self.p.get("e_l", self.p.get("v_reset", 0.0))
        return x

    def rhs(self, x: np.ndarray, current: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def reset(self, x: np.ndarray, fired: np.ndarray) -> None:
        x[0, fired] = self.p["v_reset"]

    @property
    def v_peak(self) -> float:
        return self.p["v_peak"]


# -- the linear models, integrated exactly ----------------------------------------------------------


class PerfectIF(Model):
    """Perfect integrate-and-fire (Lapicque 1907): C dV/dt = I; spike at V >= v_th, V <- v_reset.

    Exact: V(t + dt) = V + I dt / C."""

    def __init__(self, **params):
        super().__init__("perfect-if", "exact", {"c_m": 250.0, "v_th": 15.0, "v_reset": 0.0, "t_ref": 2.0},
                         ("v",), "C dV/dt = I", params)

    def initial(self, n):
        return np.full((1, n), self.p["v_reset"])

    def drift(self, current):  # dV/dt for constant input, V-independent
        return current / self.p["c_m"]

    @property
    def v_peak(self):
        return self.p["v_th"]


class LIF(Model):
    """Leaky integrate-and-fire: tau_m dV/dt = -(V - E_L) + R I, R = tau_m / C_m;
    spike at V >= v_th, then V <- v_reset for t_ref. NEST iaf_psc defaults.

    Exact: with V_inf = E_L + R I, V(t + s) = V_inf + (V - V_inf) exp(-s / tau_m); the crossing
    inside a step is s* = tau_m ln((V - V_inf) / (v_th - V_inf))."""

    def __init__(self, **params):
        super().__init__("lif", "exact", {"c_m": 250.0, "tau_m": 10.0, "e_l": -70.0, "v_th": -55.0,
                                          "v_reset": -70.0, "t_ref": 2.0},
                         ("v",), "tau_m dV/dt = -(V - E_L) + R I", params)

    @property
    def v_peak(self):
        return self.p["v_th"]


class ConductanceLIF(LIF):
    """Conductance-based LIF in the high-conductance state (Destexhe, Rudolph and Pare 2003), with
    tonic synaptic conductances g_e, g_i (nS) to reversal potentials E_e, E_i:

        C dV/dt = -g_L (V - E_L) - g_e (V - E_e) - g_i (V - E_i) + I

    Linear in V: a LIF with the effective leak g_tot = g_L + g_e + g_i, time constant
    tau_eff = C / g_tot and rest E_eff = (g_L E_L + g_e E_e + g_i E_i) / g_tot, integrated exactly.
    Synaptic bombardment shortens the time constant and moves the rest: both are in `p`."""

    def __init__(self, **params):
        Model.__init__(self, "conductance-lif", "exact",
                       {"c_m": 250.0, "g_l": 16.7, "e_l": -70.0, "g_e": 10.0, "e_e": 0.0, "g_i": 30.0,
                        "e_i": -80.0, "v_th": -55.0, "v_reset": -70.0, "t_ref": 2.0},
                       ("v",), "C dV/dt = -g_L (V - E_L) - g_e (V - E_e) - g_i (V - E_i) + I", params)
        p = self.p
        g_tot = p["g_l"] + p["g_e"] + p["g_i"]
        if g_tot <= 0:
            raise LapicqueError("conductance-lif: g_l + g_e + g_i must be positive")
        self.leak_reversal = p["e_l"]
        # the exact LIF step reads tau_m and e_l: the effective ones
        p["tau_m"] = p["c_m"] / g_tot
        p["e_l"] = (p["g_l"] * p["e_l"] + p["g_e"] * p["e_e"] + p["g_i"] * p["e_i"]) / g_tot


def lif_rate(current, c_m=250.0, tau_m=10.0, e_l=-70.0, v_th=-55.0, v_reset=-70.0, t_ref=2.0):
    """The LIF's firing rate (Hz) under constant current (pA): 1 / (t_ref + tau_m ln((V_inf - v_reset) /
    (V_inf - v_th))) above the rheobase I_rh = C (v_th - E_L) / tau_m, else 0."""
    v_inf = e_l + tau_m / c_m * np.asarray(current, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        period = t_ref + tau_m * np.log((v_inf - v_reset) / (v_inf - v_th))
        return np.where(v_inf > v_th, 1000.0 / period, 0.0)


def _exact_step(model: Model, v, ref, current, dt):
    """Advance PerfectIF / LIF by dt exactly; returns (v, ref, spikes [list of (offset, neuron)])."""
    p = model.p
    spikes = []
    remaining = np.full(v.shape, dt)
    # refractory time inside this step: the membrane is clamped, then integrates the rest
    held = np.minimum(ref, remaining)
    ref = ref - held
    remaining = remaining - held
    elapsed = held.copy()
    active = remaining > 0
    while np.any(active):
        idx = np.flatnonzero(active)
        v0, s, i0 = v[idx], remaining[idx], current[idx]
        if isinstance(model, PerfectIF):
            slope = model.drift(i0)
            v_end = v0 + slope * s
            crosses = v_end >= p["v_th"]
            with np.errstate(divide="ignore", invalid="ignore"):
                t_cross = np.where(crosses, np.clip((p["v_th"] - v0) / np.where(slope > 0, slope, 1.0), 0, s), s)
        else:
            v_inf = p["e_l"] + p["tau_m"] / p["c_m"] * i0
            v_end = v_inf + (v0 - v_inf) * np.exp(-s / p["tau_m"])
            crosses = (v_end >= p["v_th"]) | (v0 >= p["v_th"])
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = (v0 - v_inf) / (p["v_th"] - v_inf)
                t_cross = np.where(crosses, np.clip(p["tau_m"] * np.log(np.where(ratio > 0, ratio, 1.0)), 0, s), s)
            t_cross = np.where(v0 >= p["v_th"], 0.0, t_cross)
        v[idx] = np.where(crosses, p["v_reset"], v_end)
        fired = idx[crosses]
        for n, off in zip(fired, elapsed[fired] + t_cross[crosses], strict=True):
            spikes.append((float(off), int(n)))
        # after a spike: refractory, then integrate what is left of the step
        left = s[crosses] - t_cross[crosses]
        hold = np.minimum(p["t_ref"], left)
        ref[fired] = p["t_ref"] - hold
        remaining[idx] = 0.0
        remaining[fired] = left - hold
        elapsed[fired] = elapsed[fired] + t_cross[crosses] + hold
        active = remaining > 1e-15 * dt
    return v, ref, spikes


# -- nonlinear models, RK4 ---------------------------------------------------------------------------


class QIF(Model):
    """Quadratic integrate-and-fire (Ermentrout-Kopell normal form, Latham et al. 2000):
    C dV/dt = k (V - V_r)(V - V_t) + I; spike at V >= v_peak, V <- v_reset.

    With V_r = V_t = E (the saddle-node), T = pi sqrt(C^2 / (k I)) in the limit v_peak -> inf,
    v_reset -> -inf; `qif_rate` gives the period for finite peak and reset."""

    def __init__(self, **params):
        super().__init__("qif", "rk4", {"c_m": 250.0, "k": 1.0, "v_r": -60.0, "v_t": -60.0, "v_peak": 0.0,
                                        "v_reset": -80.0, "t_ref": 0.0},
                         ("v",), "C dV/dt = k (V - V_r)(V - V_t) + I", params)

    def initial(self, n):
        return np.full((1, n), self.p["v_r"] - 1e-9)

    def rhs(self, x, current):
        p = self.p
        return (p["k"] * (x[0] - p["v_r"]) * (x[0] - p["v_t"]) + current)[None] / p["c_m"]


def qif_rate(current, c_m=250.0, k=1.0, v_r=-60.0, v_t=-60.0, v_peak=0.0, v_reset=-80.0, t_ref=0.0):
    """The QIF's rate (Hz) above the saddle-node: with a = (v_t - v_r) / 2 and
    q = sqrt(I / k - a^2) > 0, V - (v_r + v_t) / 2 = q tan(q k t / C + const), so the time from
    v_reset to v_peak is C / (k q) [atan((v_peak - m) / q) - atan((v_reset - m) / q)]."""
    current = np.asarray(current, dtype=np.float64)
    m, a = (v_r + v_t) / 2, (v_t - v_r) / 2
    q2 = current / k - a * a
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.sqrt(np.where(q2 > 0, q2, 1.0))
        period = t_ref + c_m / (k * q) * (np.arctan((v_peak - m) / q) - np.arctan((v_reset - m) / q))
        return np.where(q2 > 0, 1000.0 / period, 0.0)


class QIFAdaptation(Model):
    """QIF with spike-triggered adaptation (Izhikevich 2007 simple model, regular spiking):
    C dV/dt = k (V - V_r)(V - V_t) - u + I;  du/dt = a (b (V - V_r) - u);
    spike at V >= v_peak: V <- v_reset, u <- u + d."""

    def __init__(self, **params):
        super().__init__("qif-adapt", "rk4", {"c_m": 100.0, "k": 0.7, "v_r": -60.0, "v_t": -40.0, "v_peak": 35.0,
                                              "v_reset": -50.0, "a": 0.03, "b": -2.0, "d": 100.0, "t_ref": 0.0},
                         ("v", "u"), "C dV/dt = k (V - V_r)(V - V_t) - u + I; du/dt = a (b (V - V_r) - u)", params)

    def initial(self, n):
        x = np.zeros((2, n))
        x[0] = self.p["v_r"]
        return x

    def rhs(self, x, current):
        p = self.p
        v, u = x
        return np.stack(((p["k"] * (v - p["v_r"]) * (v - p["v_t"]) - u + current) / p["c_m"],
                         p["a"] * (p["b"] * (v - p["v_r"]) - u)))

    def reset(self, x, fired):
        x[0, fired] = self.p["v_reset"]
        x[1, fired] += self.p["d"]


class EIF(Model):
    """Exponential integrate-and-fire (Fourcaud-Trocme et al. 2003):
    C dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_T) / Delta_T) + I; spike at v_peak."""

    def __init__(self, **params):
        super().__init__("eif", "rk4", {"c_m": 281.0, "g_l": 30.0, "e_l": -70.6, "v_t": -50.4, "delta_t": 2.0,
                                        "v_peak": 0.0, "v_reset": -70.6, "t_ref": 0.0},
                         ("v",), "C dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_T) / Delta_T) + I", params)

    def rhs(self, x, current):
        p = self.p
        v = np.minimum(x[0], p["v_peak"] + 10 * p["delta_t"])  # exp() stays finite past the peak
        return ((-p["g_l"] * (v - p["e_l"]) + p["g_l"] * p["delta_t"] * np.exp((v - p["v_t"]) / p["delta_t"])
                 + current) / p["c_m"])[None]


class AdEx(EIF):
    """Adaptive exponential integrate-and-fire (Brette and Gerstner 2005), NEST aeif defaults:
    C dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_T) / Delta_T) - w + I;
    tau_w dw/dt = a (V - E_L) - w; spike at v_peak: V <- v_reset, w <- w + b."""

    def __init__(self, **params):
        Model.__init__(self, "adex", "rk4", {"c_m": 281.0, "g_l": 30.0, "e_l": -70.6, "v_t": -50.4, "delta_t": 2.0,
                                             "v_peak": 0.0, "v_reset": -70.6, "t_ref": 0.0, "a": 4.0, "b": 80.5,
                                             "tau_w": 144.0},
                       ("v", "w"), "C dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_T)/Delta_T) - w + I; "
                                   "tau_w dw/dt = a (V - E_L) - w", params)

    def rhs(self, x, current):
        p = self.p
        dv = EIF.rhs(self, x, current - x[1])[0]
        return np.stack((dv, (p["a"] * (x[0] - p["e_l"]) - x[1]) / p["tau_w"]))

    def reset(self, x, fired):
        x[0, fired] = self.p["v_reset"]
        x[1, fired] += self.p["b"]


class Izhikevich(Model):
    """Izhikevich (2003): dv/dt = 0.04 v^2 + 5 v + 140 - u + I; du/dt = a (b v - u);
    v >= 30 mV: v <- c, u <- u + d. Dimensionless current I (the paper's units); regular spiking."""

    def __init__(self, **params):
        super().__init__("izhikevich", "rk4", {"a": 0.02, "b": 0.2, "c": -65.0, "d": 8.0, "v_peak": 30.0,
                                               "t_ref": 0.0},
                         ("v", "u"), "dv/dt = 0.04 v^2 + 5 v + 140 - u + I; du/dt = a (b v - u)", params)

    def initial(self, n):
        x = np.zeros((2, n))
        x[0] = self.p["c"]
        x[1] = self.p["b"] * self.p["c"]
        return x

    def rhs(self, x, current):
        p = self.p
        v, u = x
        return np.stack((0.04 * v * v + 5 * v + 140 - u + current, p["a"] * (p["b"] * v - u)))

    def reset(self, x, fired):
        x[0, fired] = self.p["c"]
        x[1, fired] += self.p["d"]


class FitzHughNagumo(Model):
    """FitzHugh-Nagumo (reference, no reset): dv/dt = v - v^3 / 3 - w + I; tau dw/dt = v + a - b w.
    Dimensionless; a spike is an upward crossing of v_peak = 1 (the model resets itself)."""

    def __init__(self, **params):
        super().__init__("fitzhugh-nagumo", "rk4", {"a": 0.7, "b": 0.8, "tau": 12.5, "v_peak": 1.0, "t_ref": 0.0},
                         ("v", "w"), "dv/dt = v - v^3/3 - w + I; tau dw/dt = v + a - b w", params, resets=False)

    def initial(self, n):
        x = np.zeros((2, n))
        x[0], x[1] = -1.1994, -0.6243  # the resting point for a = 0.7, b = 0.8, I = 0
        return x

    def rhs(self, x, current):
        p = self.p
        v, w = x
        return np.stack((v - v**3 / 3 - w + current, (v + p["a"] - p["b"] * w) / p["tau"]))

    def reset(self, x, fired):
        pass  # the limit cycle brings v back by itself


class HodgkinHuxley(Model):
    """Hodgkin-Huxley (1952) squid axon, modern convention (rest near -65 mV), per unit area:
    C dV/dt = -g_Na m^3 h (V - E_Na) - g_K n^4 (V - E_K) - g_L (V - E_L) + I  (uA/cm^2, uF/cm^2,
    mS/cm^2); a spike is an upward crossing of v_peak = 0 mV (no reset)."""

    def __init__(self, **params):
        super().__init__("hodgkin-huxley", "rk4", {"c_m": 1.0, "g_na": 120.0, "g_k": 36.0, "g_l": 0.3, "e_na": 50.0,
                                                   "e_k": -77.0, "e_l": -54.387, "v_peak": 0.0, "t_ref": 0.0},
                         ("v", "m", "h", "n"),
                         "C dV/dt = -g_Na m^3 h (V - E_Na) - g_K n^4 (V - E_K) - g_L (V - E_L) + I", params,
                         resets=False)

    @staticmethod
    def _rates(v):
        def vtrap(x, y):  # x / (exp(x / y) - 1), finite at x = 0
            small = np.abs(x / y) < 1e-6
            return np.where(small, y * (1 - x / y / 2), x / np.expm1(np.where(small, 1.0, x / y)))

        a_m = 0.1 * vtrap(-(v + 40), 10)
        b_m = 4 * np.exp(-(v + 65) / 18)
        a_h = 0.07 * np.exp(-(v + 65) / 20)
        b_h = 1 / (1 + np.exp(-(v + 35) / 10))
        a_n = 0.01 * vtrap(-(v + 55), 10)
        b_n = 0.125 * np.exp(-(v + 65) / 80)
        return a_m, b_m, a_h, b_h, a_n, b_n

    def initial(self, n):
        v = -65.0
        a_m, b_m, a_h, b_h, a_n, b_n = (float(r) for r in self._rates(np.array(v)))
        x = np.empty((4, n))
        x[:, :] = np.array([v, a_m / (a_m + b_m), a_h / (a_h + b_h), a_n / (a_n + b_n)])[:, None]
        return x

    def rhs(self, x, current):
        p = self.p
        v, m, h, n = x
        a_m, b_m, a_h, b_h, a_n, b_n = self._rates(v)
        i_ion = (p["g_na"] * m**3 * h * (v - p["e_na"]) + p["g_k"] * n**4 * (v - p["e_k"])
                 + p["g_l"] * (v - p["e_l"]))
        return np.stack(((current - i_ion) / p["c_m"], a_m * (1 - m) - b_m * m, a_h * (1 - h) - b_h * h,
                         a_n * (1 - n) - b_n * n))

    def reset(self, x, fired):
        pass


# -- piecewise-linear circuit neurons, event-exact -------------------------------------------------------


class AxonHillock(Model):
    """Mead's axon-hillock circuit (Mead 1989): input current I charges the membrane capacitance
    C = C_mem + C_fb; when V reaches the inverter's switching voltage v_sw the output goes high and,
    through the feedback capacitor, kicks V up by dV = v_dd C_fb / C (positive feedback); the high
    output turns on the reset current I_r, which discharges V (slope (I - I_r) / C) back to v_sw,
    where the output falls and kicks V down by dV. The pulse width comes out of the dynamics:

        pulse = C dV / (I_r - I),   interval between pulses = C dV / I + pulse

    (units pF, pA, mV, ms: pA / pF = mV / ms). A spike is the pulse's rising edge; state (V, pulse)."""

    def __init__(self, **params):
        super().__init__("axon-hillock", "event", {"c_mem": 1.0, "c_fb": 0.25, "v_dd": 3300.0, "v_sw": 1650.0,
                                                   "i_reset": 2000.0, "v_reset": 0.0, "t_ref": 0.0},
                         ("v", "pulse"), "C dV/dt = I - I_r pulse; V += +-v_dd C_fb / C at the output's edges",
                         params, resets=False)

    def initial(self, n):
        x = np.zeros((2, n))
        x[0] = self.p["v_sw"] - self.kick
        return x

    @property
    def kick(self) -> float:
        p = self.p
        return p["v_dd"] * p["c_fb"] / (p["c_mem"] + p["c_fb"])

    @property
    def v_peak(self):
        return self.p["v_sw"]

    def advance(self, state, current, dt):
        p = self.p
        c = p["c_mem"] + p["c_fb"]
        v, pulse = state
        t, spikes = 0.0, []
        while True:
            slope = (current - (p["i_reset"] if pulse else 0.0)) / c
            if not pulse and slope > 0:
                to_edge = (p["v_sw"] - v) / slope
            elif pulse and slope < 0:
                to_edge = (p["v_sw"] - v) / slope
            else:
                to_edge = np.inf  # no drive (or a reset current too weak to end the pulse)
            if t + to_edge > dt:
                return (v + slope * (dt - t), pulse), spikes
            t += max(to_edge, 0.0)
            if not pulse:
                spikes.append(t)
                v, pulse = p["v_sw"] + self.kick, 1.0
            else:
                v, pulse = p["v_sw"] - self.kick, 0.0


def axon_hillock_rate(current, c_mem=1.0, c_fb=0.25, v_dd=3300.0, v_sw=1650.0, i_reset=2000.0, **_):
    """Pulse rate (Hz) of the axon-hillock neuron: 1 / (C dV / I + C dV / (I_r - I)), 0 when I <= 0 or I >= I_r."""
    current = np.asarray(current, dtype=np.float64)
    c = c_mem + c_fb
    kick = v_dd * c_fb / c
    ok = (current > 0) & (current < i_reset)
    with np.errstate(divide="ignore", invalid="ignore"):
        period = c * kick / current + c * kick / (i_reset - current)
        return np.where(ok, 1000.0 / period, 0.0)


class FloatingGateLIF(Model):
    """A LIF whose leak is a constant current, as a floating-gate or tunnelling leak (and the array's
    linear leak mode): C dV/dt = I - I_leak sign(V - E_L), the leak stopping at rest; spike at
    v_th, V <- v_reset, refractory t_ref. Above rest with I > I_leak the rate is
    1 / (t_ref + C (v_th - v_reset) / (I - I_leak))."""

    def __init__(self, **params):
        super().__init__("floating-gate-lif", "event", {"c_m": 250.0, "i_leak": 100.0, "e_l": -70.0, "v_th": -55.0,
                                                        "v_reset": -70.0, "t_ref": 2.0},
                         ("v", "ref"), "C dV/dt = I - I_leak sign(V - E_L), clamped at E_L", params)

    def initial(self, n):
        x = np.zeros((2, n))
        x[0] = self.p["e_l"]
        return x

    @property
    def v_peak(self):
        return self.p["v_th"]

    def advance(self, state, current, dt):
        p = self.p
        v, ref = state
        t, spikes = 0.0, []
        while True:
            if ref > 0:  # refractory: clamped at the reset
                hold = min(ref, dt - t)
                ref -= hold
                t += hold
                if t >= dt:
                    return (v, ref), spikes
            if v > p["e_l"] or (v == p["e_l"] and current > p["i_leak"]):
                slope = (current - p["i_leak"]) / p["c_m"]
            elif v < p["e_l"] or current < -p["i_leak"]:
                slope = (current + p["i_leak"]) / p["c_m"]
            else:
                return (v, ref), spikes  # at rest, the leak holds it there
            events = [dt - t]
            if slope > 0:
                events.append((p["v_th"] - v) / slope)
            if (v - p["e_l"]) * slope < 0:  # heading to rest, where the leak changes sign
                events.append((p["e_l"] - v) / slope)
            step = max(min(events), 0.0)
            v += slope * step
            t += step
            if slope > 0 and v >= p["v_th"] - 1e-12 * abs(p["v_th"]):
                spikes.append(t)
                v, ref = p["v_reset"], p["t_ref"]
            elif abs(v - p["e_l"]) < 1e-12 * max(1.0, abs(p["e_l"])):
                v = p["e_l"]
            if t >= dt:
                return (v, ref), spikes


def floating_gate_rate(current, c_m=250.0, i_leak=100.0, e_l=-70.0, v_th=-55.0, v_reset=-70.0, t_ref=2.0):
    current = np.asarray(current, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(current > i_leak, 1000.0 / (t_ref + c_m * (v_th - v_reset) / (current - i_leak)), 0.0)


MODELS = {cls().name: cls for cls in (PerfectIF, LIF, ConductanceLIF, QIF, QIFAdaptation, EIF, AdEx, Izhikevich,
                                      FitzHughNagumo, HodgkinHuxley, AxonHillock, FloatingGateLIF)}


def get_model(name: str, **params) -> Model:
    if name not in MODELS:
        raise LapicqueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return MODELS[name](**params)


# -- simulation ----------------------------------------------------------------------------------------


@dataclass
class Result:
    """Spike times (ms) and neurons, and the recorded state [steps + 1, len(state), recorded] at t."""

    t: np.ndarray
    spike_times: np.ndarray
    spike_neurons: np.ndarray
    trace: np.ndarray | None
    neurons: int

    def spikes_of(self, n: int) -> np.ndarray:
        return self.spike_times[self.spike_neurons == n]

    def rates_hz(self, start_ms: float = 0.0) -> np.ndarray:
        """Mean rate of each neuron over [start, end] (Hz)."""
        duration = self.t[-1] - start_ms
        counts = np.bincount(self.spike_neurons[self.spike_times >= start_ms], minlength=self.neurons)
        return counts / duration * 1000.0


def _current_at(current, step: int, t: float, n: int) -> np.ndarray:
    if callable(current):
        return np.broadcast_to(np.asarray(current(t), dtype=np.float64), (n,)).copy()
    arr = np.asarray(current, dtype=np.float64)
    if arr.ndim == 2:
        return arr[step].copy()
    return np.broadcast_to(arr, (n,)).copy()


MAX_STEPS = 50_000_000  # a bound on one simulation: beyond it a typo in dt runs for hours


def simulate(model: Model, current, duration: float, dt: float = 0.1, neurons: int | None = None,
             record: list[int] | None = None, state: np.ndarray | None = None) -> Result:
    """Run `model` for `duration` ms in steps of `dt` ms.

    `current` (pA, or the model's own current units): a number, one value per neuron, an array
    [steps, neurons], or a function of t (ms) returning either; held constant within each step.
    `record` lists the neurons whose state is kept at every step (all when None and neurons <= 16).
    """
    if not (np.isfinite(dt) and dt > 0):
        raise LapicqueError(f"dt = {dt} ms must be a positive number")
    if not (np.isfinite(duration) and duration > 0):
        raise LapicqueError(f"duration = {duration} ms must be a positive number")
    if not 1 <= duration / dt <= MAX_STEPS:  # in floats first: 1e308 steps do not fit an int
        raise LapicqueError(f"duration / dt = {duration / dt:,.3g} steps; allowed 1 to {MAX_STEPS:,}: raise dt or "
                            "shorten the duration")
    steps = int(round(duration / dt))
    if abs(steps * dt - duration) > 1e-9 * duration:
        raise LapicqueError(f"duration = {duration} ms is not a whole number of dt = {dt} ms steps")
    if neurons is None:
        arr = np.asarray(current) if not callable(current) else np.asarray(current(0.0))
        neurons = arr.shape[-1] if arr.ndim >= 1 else 1
    x = model.initial(neurons) if state is None else np.array(state, dtype=np.float64)
    if record is None:
        record = list(range(neurons)) if neurons <= 16 else []
    trace = np.empty((steps + 1, x.shape[0], len(record))) if record else None
    if trace is not None:
        trace[0] = x[:, record]
    times, who = [], []
    ref = np.zeros(neurons)
    ref_steps = int(round(model.p.get("t_ref", 0.0) / dt))
    peak = model.v_peak
    for k in range(steps):
        t0 = k * dt
        i_k = _current_at(current, k, t0, neurons)
        if model.method == "exact":
            v, ref, spikes = _exact_step(model, x[0], ref, i_k, dt)
            x[0] = v
            for off, n in spikes:
                times.append(t0 + off)
                who.append(n)
        elif model.method == "event":
            for n in range(neurons):
                state, offsets = model.advance(tuple(x[:, n]), float(i_k[n]), dt)
                x[:, n] = state
                times.extend(t0 + off for off in offsets)
                who.extend([n] * len(offsets))
        else:
            x_old = x
            v_before = x[0].copy()
            k1 = model.rhs(x, i_k)
            k2 = model.rhs(x + 0.5 * dt * k1, i_k)
            k3 = model.rhs(x + 0.5 * dt * k2, i_k)
            k4 = model.rhs(x + dt * k3, i_k)
            x_new = x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            held = ref > 0
            if held.any():  # refractory: V clamped at reset, the other variables evolve
                x_new[0, held] = model.p.get("v_reset", x[0, held])
                ref[held] -= 1
            x = x_new
            fired = (x[0] >= peak) & (v_before < peak) & ~held
            if fired.any():
                idx = np.flatnonzero(fired)
                frac = (peak - v_before[idx]) / np.maximum(x[0, idx] - v_before[idx], 1e-300)
                times.extend((t0 + frac * dt).tolist())
                who.extend(idx.tolist())
                # the state at the spike time (interpolated), reset, then the rest of the step from
                # there: restarting at the step's end instead would shift every later spike by O(dt)
                x_spike = x_old[:, idx] + frac * (x[:, idx] - x_old[:, idx])
                model.reset(x_spike, np.ones(len(idx), dtype=bool))
                if not model.resets:
                    x_spike = x[:, idx]
                elif ref_steps == 0:
                    h = (1 - frac) * dt
                    i_sub = i_k[idx]
                    k1 = model.rhs(x_spike, i_sub)
                    k2 = model.rhs(x_spike + 0.5 * h * k1, i_sub)
                    k3 = model.rhs(x_spike + 0.5 * h * k2, i_sub)
                    k4 = model.rhs(x_spike + h * k3, i_sub)
                    x_spike = x_spike + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
                x[:, idx] = x_spike
                ref[fired] = ref_steps
        if trace is not None:
            trace[k + 1] = x[:, record]
    order = np.lexsort((np.asarray(who, dtype=np.int64), np.asarray(times)))
    return Result(np.arange(steps + 1) * dt, np.asarray(times)[order], np.asarray(who, dtype=np.int64)[order],
                  trace, neurons)


# -- analysis ------------------------------------------------------------------------------------------


def fi_curve(model: Model, currents, duration: float = 1000.0, dt: float = 0.05, transient: float = 200.0
             ) -> np.ndarray:
    """Steady firing rate (Hz) for each constant current, all currents simulated at once as neurons;
    spikes in the first `transient` ms are not counted (adaptation settles)."""
    currents = np.asarray(currents, dtype=np.float64)
    result = simulate(model, currents, duration, dt, neurons=len(currents), record=[])
    rates = np.zeros(len(currents))
    for n in range(len(currents)):
        spikes = result.spikes_of(n)
        spikes = spikes[spikes >= transient]
        if len(spikes) >= 2:
            rates[n] = 1000.0 * (len(spikes) - 1) / (spikes[-1] - spikes[0])
    return rates


def rheobase(rates: np.ndarray, currents: np.ndarray) -> float | None:
    """The smallest current that fired (None when none did)."""
    fired = np.flatnonzero(np.asarray(rates) > 0)
    return float(np.asarray(currents)[fired[0]]) if fired.size else None

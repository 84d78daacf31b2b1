"""Directed cases on every rule edge, shared by the golden tests and the RTL datapath tests.

Each case is one neuron: its parameters, its state, its synaptic input and external input.
"""

from lapicque.spec import signed_range

V_LO, V_HI = signed_range(16)
I_LO, I_HI = signed_range(16)

BASE = {"bias": 0, "leak": 0, "decay": 0, "theta_hi": 1000, "theta_lo": 0, "refractory": 0, "v_reset": 0,
        "reset_current": 0, "leak_mode": 0, "reset_mode": 0, "hysteresis": 0}
ZERO = {"v": 0, "i": 0, "ref": 0, "pulse": 0}


def case(name, params=None, state=None, acc=0, ext=0):
    return name, {**BASE, **(params or {})}, {**ZERO, **(state or {})}, acc, ext


DIRECTED = [
    case("threshold_equality_fires", {"bias": 10}, {"v": 990}),
    case("one_below_threshold_does_not_fire", {"bias": 9}, {"v": 990}),
    case("saturation_high_membrane", {"bias": 30000}, {"v": 30000}),
    case("saturation_low_membrane", {"bias": -30000, "theta_hi": 30000}, {"v": -30000}),
    case("saturation_high_current", {"theta_hi": V_HI}, {"i": 32000}, acc=2000),
    case("saturation_low_current", {"theta_hi": V_HI}, {"i": -32000}, acc=-2000, ext=-100),
    case("refractory_holds_membrane", {"bias": 500, "refractory": 3}, {"v": 123, "ref": 2}),
    case("refractory_exit", {"bias": 500, "refractory": 3}, {"v": 123, "ref": 1}),
    case("refractory_entry", {"bias": 2000, "refractory": 3}),
    case("current_integrates_during_refractory", {"decay": 1024}, {"i": 400, "ref": 2}, acc=7, ext=3),
    case("exp_leak_floor_positive", {"leak": 1024}, {"v": 100}),
    case("exp_leak_floor_negative", {"leak": 1024}, {"v": -100}),
    case("exp_leak_stuck_at_plus_one", {"leak": 1024}, {"v": 1}),
    case("exp_leak_to_rest_from_minus_one", {"leak": 1024}, {"v": -1}),
    case("exp_leak_full", {"leak": 4096}, {"v": 777}),
    case("linear_leak_to_rest_from_above", {"leak_mode": 1, "leak": 10}, {"v": 5}),
    case("linear_leak_to_rest_from_below", {"leak_mode": 1, "leak": 10}, {"v": -5}),
    case("linear_leak_partial", {"leak_mode": 1, "leak": 10}, {"v": 25}),
    case("linear_leak_large_amount", {"leak_mode": 1, "leak": 32767, "theta_hi": V_HI}, {"v": V_LO}),
    case("subtract_reset", {"reset_mode": 1, "bias": 300}, {"v": 900}),
    case("subtract_reset_saturates", {"reset_mode": 1, "theta_hi": -30000, "bias": 10}, {"v": 30000}),
    case("absolute_reset_value", {"v_reset": -250, "bias": 20}, {"v": 990}),
    case("hysteresis_pulse_starts", {"hysteresis": 1, "theta_lo": 100, "reset_current": 50, "bias": 20},
         {"v": 990}),
    case("hysteresis_pulse_holds", {"hysteresis": 1, "theta_lo": 100, "reset_current": 50},
         {"v": 500, "pulse": 1}),
    case("hysteresis_release_at_theta_lo", {"hysteresis": 1, "theta_lo": 100, "reset_current": 50,
                                            "refractory": 2}, {"v": 150, "pulse": 1}),
    case("hysteresis_one_above_theta_lo", {"hysteresis": 1, "theta_lo": 100, "reset_current": 49},
         {"v": 150, "pulse": 1}),
    case("decay_then_input", {"decay": 2048}, {"i": -301}, acc=-5, ext=7),
    case("negative_threshold", {"theta_hi": -50, "bias": -10}, {"v": -30}),
]

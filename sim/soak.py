"""`lapicque verify --soak DURATION`: seeded random arrays and networks verified one after another until the time is
up, every update checked; a mismatch stops the soak and leaves a reproducer that `verify` (or `net`) replays.

Case k of soak seed s is drawn from `numpy.random.default_rng([s, k])`, so a soak is reproducible case by case.
Three cases in four are arrays (`spec.random_spec`: both leak modes, both resets, hysteresis, refractory periods,
on every rounding mode, two width sets, weight exponents 0 and 2, shapes from 16 x 2 to 128 x 8, with and without
back-pressure); the fourth is a network on the RTL (CUBA scaled, procedural Bernoulli rows and delay 1, or Brunel's
model A scaled, fixed in-degree stored rows, delay 15 and external Poisson input), run as `lapicque net` runs it.
A case's folder is removed once it has passed; the failing case's stays beside the reproducer.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lapicque.errors import LapicqueError
from lapicque.files import write_atomic, write_json

#: checked updates a case aims at (a case is a few seconds of simulation; shorter runs pay the start more often)
CASE_UPDATES = 2_000_000
MAX_STEPS = 65535  # one run's timestep field
ARRAY_SHAPES = ((16, 2), (16, 8), (64, 2), (64, 4), (128, 4), (128, 8))
WIDTH_SETS = ({}, {"v": 12, "i": 12, "w": 6, "bias": 12, "ext": 6, "refractory": 3})
WEIGHT_EXPONENTS = (0, 2)
BACKPRESSURES = (0.0, 0.02)
#: (network, regime, size option, size, lanes): `lapicque net` runs of the RTL backend
NETWORKS = (("cuba", None, "scale", 0.05, 2), ("cuba", None, "scale", 0.1, 4),
            ("brunel", "AI", "neurons", 40, 2), ("brunel", "SR", "neurons", 80, 4))
DT_MS = 0.1


@dataclass
class Case:
    """One soak case: what it runs (`kind` array or network, its parameters) and, once run, its counts."""

    index: int
    kind: str
    params: dict
    updates_checked: int = 0
    bit_exact_mismatches: int = 0
    passed: bool | None = None
    first_mismatch: dict | None = None
    wall_s: float = 0.0
    extra: dict = field(default_factory=dict)

    def describe(self) -> str:
        p = self.params
        if self.kind == "array":
            widths = "narrow" if p["widths"] else "default"
            return (f"{p['neurons']} x {p['lanes']} array, {p['rounding']}, {widths} widths, exponent "
                    f"{p['weight_exponent']}, back-pressure {p['backpressure']}, {p['steps']:,} steps")
        size = f"scale {p['scale']}" if "scale" in p else f"{p['neurons']} excitatory"
        regime = f" {p['regime']}" if p.get("regime") else ""
        return f"{p['network']}{regime} network ({size}, {p['lanes']} lanes), {p['steps']:,} steps"


def draw_case(seed: int, index: int, *, case_updates: int = CASE_UPDATES, arrays_only: bool = False) -> Case:
    """Case `index` of the soak of `seed` (the same case every time)."""
    rng = np.random.default_rng([seed, index])
    if not arrays_only and index % 4 == 3:
        # the networks in turn (from a seeded start): every kind within a few of them
        turn = (index // 4 + int(np.random.default_rng(seed).integers(len(NETWORKS)))) % len(NETWORKS)
        network, regime, size_option, size, lanes = NETWORKS[turn]
        neurons = int(4000 * size) if size_option == "scale" else int(size * 1.25)
        steps = int(np.clip(case_updates // neurons, 100, MAX_STEPS))
        params = {"network": network, size_option: size, "lanes": lanes, "seed": int(rng.integers(1, 2**31)),
                  "steps": steps}
        if regime:
            params["regime"] = regime
        return Case(index, "network", params)
    from lapicque.spec import ROUNDING_MODES

    neurons, lanes = ARRAY_SHAPES[int(rng.integers(len(ARRAY_SHAPES)))]
    params = {"neurons": neurons, "lanes": lanes, "seed": int(rng.integers(0, 2**31)),
              "rounding": ROUNDING_MODES[int(rng.integers(len(ROUNDING_MODES)))],
              "widths": WIDTH_SETS[int(rng.integers(len(WIDTH_SETS)))],
              "weight_exponent": WEIGHT_EXPONENTS[int(rng.integers(len(WEIGHT_EXPONENTS)))],
              "backpressure": BACKPRESSURES[int(rng.integers(len(BACKPRESSURES)))],
              "steps": int(np.clip(case_updates // neurons, 100, MAX_STEPS))}
    return Case(index, "array", params)


def array_of(case: Case):
    from lapicque.spec import Widths, random_spec

    p = case.params
    return random_spec(p["neurons"], p["lanes"], seed=p["seed"], widths=Widths(**p["widths"]),
                       rounding=p["rounding"], weight_exponent=p["weight_exponent"])


def run_case(case: Case, folder: Path, sim: str, inject_bug: str | None) -> None:
    """Run `case` in `folder`, filling in its counts."""
    start = time.perf_counter()
    p = case.params
    if case.kind == "array":
        from .verify import verify

        s = verify(array_of(case), p["steps"], folder, seed=p["seed"], sim=sim, backpressure=p["backpressure"],
                   inject_bug=inject_bug)
        case.updates_checked, case.bit_exact_mismatches = s["updates_checked"], s["bit_exact_mismatches"]
        case.first_mismatch = s["first_mismatch"]
        case.passed = bool(s["passed"])
        case.extra = {"float_bound_violations": s["float_bound_violations"],
                      "checked_updates_per_s": s["checked_updates_per_s"]}
    else:
        from lapicque.jobs.net import net

        size = {"scale": p["scale"]} if "scale" in p else {"neurons": p["neurons"]}
        s = net(network=p["network"], backend="rtl", regime=p.get("regime", "AI"), duration=p["steps"] * DT_MS / 1000,
                seed=p["seed"], lanes=p["lanes"], sim=sim, out=folder, **size)
        rtl = s["rtl"]
        case.updates_checked, case.bit_exact_mismatches = rtl["updates_checked"], rtl["bit_exact_mismatches"]
        case.first_mismatch = rtl["first_mismatches"][0] if rtl["first_mismatches"] else None
        case.passed = bool(s["passed"])
        case.extra = {"checked_updates_per_s": rtl["checked_updates_per_s"]}
    case.wall_s = time.perf_counter() - start


def reproducer(case: Case, out: Path, sim: str, inject_bug: str | None) -> dict:
    """Write what replays a failed case (OUT/reproducer/: the array's spec file, reproducer.json with the command)
    and return it."""
    from lapicque.spec import spec_toml

    folder = out / "reproducer"
    folder.mkdir(exist_ok=True)
    p = case.params
    step = (case.first_mismatch or {}).get("step")
    if case.kind == "array":
        spec_file = folder / "spec.toml"
        write_atomic(spec_file, spec_toml(array_of(case)))
        command = (f"lapicque verify --spec {spec_file} --steps {p['steps']} --seed {p['seed']} "
                   f"--backpressure {p['backpressure']} --sim {sim} --out {folder / 'replay'}")
        replay = {"spec": str(spec_file), "steps": p["steps"], "seed": p["seed"], "backpressure": p["backpressure"],
                  "sim": sim}
    else:
        size = f"--scale {p['scale']}" if "scale" in p else f"--neurons {p['neurons']}"
        regime = f" --regime {p['regime']}" if p.get("regime") else ""
        command = (f"lapicque net {p['network']}{regime} --backend rtl {size} --lanes {p['lanes']} "
                   f"--seed {p['seed']} --duration {p['steps'] * DT_MS / 1000:g} --sim {sim} --out {folder / 'replay'}")
        replay = {"network": p["network"], **{k: v for k, v in p.items() if k != "network"}, "sim": sim}
    if inject_bug:
        command += f" --inject-bug {inject_bug}"
        replay["inject_bug"] = inject_bug
    data = {"case": case.index, "kind": case.kind, "what": case.describe(), "step": step,
            "first_mismatch": case.first_mismatch, "replay": replay, "command": command}
    write_json(folder / "reproducer.json", data)
    return data


def soak(duration_s: float, out: Path, *, seed: int = 0, sim: str = "verilator", inject_bug: str | None = None,
         case_updates: int = CASE_UPDATES, status=None) -> dict:
    """Verify seeded random cases one after another until `duration_s` has passed (a case started in time runs
    to its end) or one fails. Returns the summary (also OUT/summary.json; every case in OUT/cases.jsonl)."""
    say = status or (lambda text: None)
    out = Path(out)
    cases_file = out / "cases.jsonl"
    cases_file.unlink(missing_ok=True)
    start = time.perf_counter()
    done: list[Case] = []
    failed: Case | None = None
    stopped = "time"
    while time.perf_counter() - start < duration_s:
        case = draw_case(seed, len(done), case_updates=case_updates, arrays_only=inject_bug is not None)
        total = sum(c.updates_checked for c in done)
        left = max(0.0, duration_s - (time.perf_counter() - start))
        say(f"soak: case {case.index + 1}, {case.describe()}; {total:,} updates checked, 0 mismatches, "
            f"{left:.0f} s left")
        folder = out / "cases" / f"{case.index:05d}"
        try:
            run_case(case, folder, sim, inject_bug)
        except LapicqueError as exc:  # a case the project cannot run is the project's error, not bad input
            case.passed = False
            case.extra["error"] = str(exc)
        done.append(case)
        with open(cases_file, "a") as f:
            f.write(json.dumps({"index": case.index, "kind": case.kind, "params": case.params,
                                "updates_checked": case.updates_checked,
                                "bit_exact_mismatches": case.bit_exact_mismatches, "passed": case.passed,
                                "wall_s": round(case.wall_s, 3), **case.extra}) + "\n")
        if not case.passed:
            failed, stopped = case, "failure"
            break
        shutil.rmtree(folder, ignore_errors=True)
    wall = time.perf_counter() - start
    updates = sum(c.updates_checked for c in done)
    mismatches = sum(c.bit_exact_mismatches for c in done)
    kinds = {}
    for c in done:
        if c.kind == "array":
            for key in ("rounding", "weight_exponent", "backpressure", "lanes"):
                name = f"{key} {c.params[key]}"
                kinds[name] = kinds.get(name, 0) + c.updates_checked
            name = "widths " + ("narrow" if c.params["widths"] else "default")
        else:
            name = f"network {c.params['network']}"
        kinds[name] = kinds.get(name, 0) + c.updates_checked
    summary = {
        "soak": True,
        "passed": bool(done) and failed is None and mismatches == 0,
        "cases": len(done),
        "updates_checked": updates,
        "bit_exact_mismatches": mismatches,
        "stopped": stopped,
        "duration_s": duration_s,
        "wall_s": wall,
        "checked_updates_per_s": updates / wall if wall > 0 else 0.0,
        "seed": seed,
        "simulator": sim,
        "inject_bug": inject_bug,
        "updates_by_kind": dict(sorted(kinds.items())),
        "failed_case": None if failed is None else {"index": failed.index, "kind": failed.kind,
                                                   "what": failed.describe(), "params": failed.params,
                                                   "first_mismatch": failed.first_mismatch, **failed.extra},
        "reproducer": None if failed is None else reproducer(failed, out, sim, inject_bug),
    }
    write_json(out / "summary.json", summary)
    return summary

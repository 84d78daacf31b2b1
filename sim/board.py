"""Co-simulate a board: the host driver's bytes through the simulated UART into the bridged array.

`cosimulate(spec, steps, out)` makes the bytes `lapicque run` would send (identify, load every
parameter, state and weight, sync, watch, run), lets the cocotb bench (`sim/tb_board.py`) play them
bit by bit into `BoardProbe` while the scoreboard checks every update inside, then parses what came
back on `tx` with the host's own parser and compares the run with the bit-exact model. Writes
`OUT/summary.json`.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from lapicque.boards.host import (
    RecordParser,
    check_ident,
    compare_runs,
    ident_command,
    load_commands,
    model_run,
    run_command,
    run_result,
    sync_command,
    watch_commands,
)
from lapicque.errors import LapicqueError
from lapicque.files import write_json
from lapicque.spec import ArraySpec

from . import runner
from .stimulus import initial_state

#: clock cycles per UART bit in simulation: the fastest the receiver allows, to keep runs short
SIM_DIVISOR = 4
SYNC_TOKEN = 0x5A


def cosimulate(spec: ArraySpec, steps: int, out: Path, *, seed: int = 0, watch=(), sim: str = "verilator",
               divisor: int = SIM_DIVISOR, backpressure: float = 0.02, inject_bug: str | None = None,
               memory: dict | None = None) -> dict:
    """`memory` holds `NeuronArray`'s memory options, to simulate a board's arrangement (see
    `lapicque.boards.top.memory_options`)."""
    if not spec.monitor:
        raise LapicqueError("co-simulation checks the array through its monitor; build the spec with monitor=True")
    if not 1 <= steps <= 65535:
        raise LapicqueError(f"steps = {steps} is out of range; allowed 1..65535")
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    wall0 = time.perf_counter()
    options = {"divisor": divisor, **(memory or {})}
    build_dir, cached = runner.build(spec, sim, design="board", options=options, inject_bug=inject_bug,
                                     log_file=out / "build.log")

    test_dir = out / "sim"
    if test_dir.exists():
        shutil.rmtree(test_dir)
    test_dir.mkdir()
    state = initial_state(spec, seed)
    commands = (ident_command() + load_commands(spec, state) + sync_command(SYNC_TOKEN)
                + watch_commands(watch) + run_command(steps))
    (test_dir / "commands.bin").write_bytes(commands)
    config = {"spec": spec.to_dict(), "steps": steps, "divisor": divisor, "seed": seed, "backpressure": backpressure,
              "done_records": 1, "initial": {k: getattr(state, k).tolist() for k in ("v", "i", "ref", "pulse")}}
    (test_dir / "config.json").write_text(json.dumps(config))
    sim_error = None
    try:
        runner.run_test(build_dir, test_dir, sim, log_file=out / "sim.log", test_module="lapicque.sim.tb_board")
    except (Exception, SystemExit) as exc:  # cocotb's runner exits on a failed test; the results say why
        sim_error = str(exc)
    results_path = test_dir / "results.json"
    if not results_path.exists():
        raise RuntimeError(f"the board testbench wrote no results ({sim_error}); see {out / 'sim.log'}")
    res = json.loads(results_path.read_text())

    records = RecordParser(spec).feed(bytes.fromhex(res["received"]))
    tags = [r.tag for r in records]
    problems = []
    if not records or records[0].tag != "ident":
        problems.append(f"the first record is not the identity: {tags[:3]}")
    else:
        try:
            check_ident(spec, records[0].fields)
        except LapicqueError as exc:
            problems.append(str(exc))
    if "sync" not in tags or records[tags.index("sync")].fields["token"] != SYNC_TOKEN:
        problems.append("no sync reply after loading")
    got = run_result(records)
    want = model_run(spec, state, steps, watch)
    problems += compare_runs(got, want)
    if res["framing_errors"]:
        problems.append(f"{res['framing_errors']} framing errors on tx")
    if res["timed_out"]:
        problems.append("the board stopped answering (timed out)")
    if res["bit_exact_mismatches"]:
        problems.append(f"{res['bit_exact_mismatches']} bit-exact mismatches inside the array; first "
                        f"{res['first_mismatch']}")
    if res["steps_checked"] != steps:
        problems.append(f"the scoreboard checked {res['steps_checked']} of {steps} steps")
    summary = {
        "passed": not problems,
        "problems": problems,
        "neurons": spec.neurons,
        "lanes": spec.lanes,
        "steps": steps,
        "simulator": sim,
        "uart_divisor": divisor,
        "bytes_sent": len(commands),
        "bytes_received": len(res["received"]) // 2,
        "spikes": int(len(got.spikes)),
        "spikes_expected": int(len(want.spikes)),
        "watched": [int(n) for n in watch],
        "states_received": len(got.states),
        "updates_checked": res["updates_checked"],
        "bit_exact_mismatches": res["bit_exact_mismatches"],
        "busy_cycles": got.busy_cycles,
        "build_cached": cached,
        "wall_s": round(time.perf_counter() - wall0, 2),
    }
    write_json(out / "summary.json", summary)
    return summary

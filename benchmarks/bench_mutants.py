"""The mutation score of the RTL: seeded mutants of `hdl/`, each run through the cheapest kill chain.

    python benchmarks/bench_mutants.py                    # 80 mutants, seed 0, 2 at a time (about an hour)
    python benchmarks/bench_mutants.py --count 10 --jobs 1
    python benchmarks/bench_mutants.py --only hdl/array.py:240:43:compare
    python benchmarks/bench_mutants.py --list             # every candidate mutant, nothing run

A mutant is one small change to the hardware code (the `elaborate` methods of `hdl/` and the helpers
they call): a comparison swapped (`<` for `<=`, `==` for `!=`), an operator swapped (`+`/`-`,
`&`/`|`, `<<`/`>>`), an integer constant off by one, a negation dropped, a term dropped from an
`m.If` condition, a field truncated by a bit, a `valid` or `ready` forced high. The candidates are
enumerated from the source's syntax tree; `--count` of them are drawn, spread over the kinds of
change and the files, with `--seed`.

Each mutant is written into a copy of the package (PYTHONPATH points there; the simulator builds and
the Verilog cache are keyed on the mutated source) and goes through its file's chain, stopping at
the first step that fails:

1. it must elaborate (the array and the board's bridged array to Verilog): a mutant that does not
   is *stillborn* (no hardware to test) and is left out of the score;
2. the proofs of `lapicque prove` that cover the file (the datapath against the contract at the
   array's latency, both roundings; the stream converters; the whole array; the UART looped back; the
   host bridge against the protocol);
3. `verify` of five arrays (64 x 2; 9 x 3, an odd depth; 3 x 3, one neuron per lane; the hysteresis
   example; 32 x 2 with floor rounding), every coverage bin counted;
4. the unit tests of the file (and for the array, its memories, the bridge, the UART and the harness
   the board co-simulation, which builds the memory arrangements of the FPGA builds).

A mutant that survives the whole chain is listed, unless `EQUIVALENT` below says why no test can
kill it (it changes nothing a port can show). The score is killed / (drawn - stillborn - equivalent).
Results go to OUT/results.json (default runs/mutants) and a table on standard output.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: the hardware files mutated; `layouts.py` is not: its encodings are shared by the RTL and the
#: testbench, so a change to it changes both sides of every comparison alike
FILES = ("hdl/datapath.py", "hdl/array.py", "hdl/streams.py", "hdl/ram.py", "hdl/uart.py", "hdl/bridge.py",
         "hdl/harness.py", "hdl/procedural.py", "hdl/network.py")
#: the package as installed: `lapicque.<sub>` is `<dir>/` of the repository
PACKAGE_DIRS = {"": "lapicque", "golden": "golden", "hdl": "hdl", "sim": "sim", "boards": "boards",
                "formal": "formal"}
COMPARE_SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                 ast.NotEq: ast.Eq}
OPERATOR_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd,
                  ast.LShift: ast.RShift, ast.RShift: ast.LShift}
HANDSHAKES = ("valid", "ready")
KINDS = ("compare", "operator", "constant", "negation", "condition", "truncate", "handshake")

#: each file's kill chain after elaboration: proofs, verify, unit tests (cheapest first where a
#: proof costs minutes: the whole array's BMC runs after verify)
CHAINS = {
    "hdl/datapath.py": ("proof-datapath", "verify", "tests:tests/hdl/test_datapath.py"),
    "hdl/streams.py": ("proof-streams", "verify", "tests:tests/hdl/test_streams.py"),
    # the board co-simulation runs the memory arrangements the FPGA builds use (bit-sliced, tiled weights)
    "hdl/array.py": ("verify", "proof-array",
                     "tests:tests/hdl/test_array.py,tests/sim/test_verify.py::test_spikes_propagate_back_to_back,"
                     "tests/boards/test_cosim.py"),
    "hdl/ram.py": ("verify", "tests:tests/hdl/test_ram.py,tests/boards/test_cosim.py"),
    "hdl/uart.py": ("tests:tests/hdl/test_uart.py", "proof-uart",
                    "tests:tests/hdl/test_bridge.py,tests/boards/test_cosim.py"),
    "hdl/bridge.py": ("proof-bridge", "tests:tests/hdl/test_bridge.py,tests/boards/test_cosim.py"),
    "hdl/harness.py": ("verify", "tests:tests/boards/test_cosim.py"),
    # the network core (issue 20): against the network's fixed model in Amaranth's simulator, then on Verilator
    "hdl/network.py": ("tests:tests/hdl/test_network.py,tests/sim/test_network.py",),
    # not yet in the array (issue 20): its rows against the contract's are its only check
    "hdl/procedural.py": ("tests:tests/hdl/test_procedural.py",),
}
#: the arrays `verify` runs: (neurons, lanes, seed, steps, rounding) or an example spec
VERIFY_RUNS = ((64, 2, 0, 100, "toward_zero"), (9, 3, 2, 100, "toward_zero"), (3, 3, 3, 60, "toward_zero"),
               ("examples/hysteresis.toml", None, 4, 100, None), (32, 2, 5, 100, "floor"))
STEP_TIMEOUT_S = 900

#: survivors shown equivalent, by id, with the reason no port can tell them from the original
EQUIVALENT: dict[str, str] = {
    "hdl/procedural.py:111:34:constant": "the hash's last xorshift by 17 instead of 16: it changes only bits below "
                                         "32 - 16, and the skip table reads the top 10 (SKIP_BITS <= 16), so every "
                                         "row is the same",
    "hdl/procedural.py:111:34:constant:1": "the hash's last xorshift by 15 instead of 16: it changes only bits below "
                                           "32 - 15, and the skip table reads the top 10, so every row is the same",
    "hdl/procedural.py:78:21:constant": "the row key's register one bit wider (33): it is loaded from the 32-bit "
                                        "payload, so the extra bit is 0, and the draw is taken mod 2**32",
    "hdl/procedural.py:80:19:constant": "the draw counter one bit wider (33): the draw is taken mod 2**32",
    "hdl/procedural.py:80:19:constant:1": "the draw counter one bit narrower (31): a row draws at most "
                                          "2**target_bits + 1 numbers, far below 2**31",
    "hdl/procedural.py:82:55:constant": "the position one bit wider than its sum needs (position < 2**target_bits, "
                                        "skip + 1 <= 2**skip_bits): the extra bit is always 0",
    "hdl/procedural.py:79:43:constant": "the row length's register one bit wider: loaded from the payload's "
                                        "target_bits + 1 bits, the extra bit is always 0",
    "hdl/procedural.py:92:13:condition:1": "the output's valid cleared on ready alone: when it is not valid, "
                                           "clearing it changes nothing",
    "hdl/procedural.py:98:37:constant": "the hash stages one bit wider (33): every value assigned to them is 32 bits",
    "hdl/procedural.py:120:78:constant": "skip + 1 one bit wider than it needs (skip_bits + 2): the extra bit is "
                                         "always 0",
    "hdl/procedural.py:130:57:constant": "the end beat's index 1 instead of 0: the interface says the end beat's "
                                         "index is not a target, and nothing reads it",
    "hdl/procedural.py:134:37:constant": "the position loaded as 1 instead of 0 with a new row: while `first` is set "
                                         "the step is the skip alone and the position is not read",
    "hdl/uart.py:74:27:constant:1": "the receiver's bit counter one value shorter (range(8)): it reaches 8 only "
                                    "on the step after the last data bit, when the FSM has left for the stop bit "
                                    "and never reads it; the next start bit resets it",
    "hdl/array.py:368:19:compare": "the weight tiles' read-select register built for a single tile too: its "
                                   "value is always 0 and the switch passes tile 0's data, the same data in the "
                                   "same cycle (the select is registered, the data path is not)",
    "hdl/datapath.py:173:37:constant": "the leaked membrane one bit wider (w.v + 2): the leak moves v towards 0 and "
                                       "never past it for every parameter the spec allows (an exponential factor "
                                       "at most 4096, a linear leak at most v's maximum), so the value fits w.v + 1 "
                                       "bits and the extra bit copies the sign; the datapath's k-induction proof "
                                       "passes on it for every input in range",
    "hdl/datapath.py:146:35:operator": "the leak product two bits narrower (w.v + leak_bits - 1): it is used only "
                                       "with the exponential leak, whose factor is at most 4096 = 2**12 < "
                                       "2**(leak_bits - 1), so |v x leak| <= 2**(w.v - 1 + 12) still fits; the "
                                       "datapath's k-induction proof passes on it for every input in range",
    "hdl/ram.py:90:28:constant": "the ECP5 block's padded input one bit wider (37): the pins take bits 0-17 and "
                                 "18-35 of it, and the extra top bit (always 0) goes to no pin",
    "hdl/bridge.py:146:47:constant": "the reply engine's byte counter one value longer (range(rec_bytes + 2)): "
                                     "it is loaded with a record's length, at most rec_bytes, and counts down, so "
                                     "the extra value is never reached",
    "hdl/harness.py:143:35:negation": "the board probe's monitor packer flushes while the array is busy instead of "
                                      "when it is idle: updates are made only while busy, so every beat still "
                                      "arrives, in order; beats only carry fewer updates (see the spike packer's "
                                      "twin, harness.py:101)",
    "hdl/harness.py:101:35:negation": "the test harness's spike packer flushes while the array is busy instead of "
                                      "when it is idle: the array emits events only while busy (a step ends once "
                                      "its events have left), so every event still arrives, in order; beats only "
                                      "carry fewer items, which no contract fixes",
}


@dataclass(frozen=True)
class Mutant:
    file: str
    line: int
    col: int
    kind: str
    variant: int  # which of the node's changes (a condition's left or right term, a constant's +1 or -1)
    before: str
    after: str

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}:{self.col}:{self.kind}" + (f":{self.variant}" if self.variant else "")


# -- finding and making mutants --------------------------------------------------------------------


def _hardware_functions(tree: ast.Module):
    """The functions that build hardware: `elaborate` methods and the helpers taking the module `m`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and (
                node.name == "elaborate" or any(arg.arg == "m" for arg in node.args.args)):
            yield node


def _changes(node: ast.AST):
    """The mutations of one node: (kind, variant, a function making the changed node)."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARE_SWAPS:
        yield "compare", 0, lambda n: ast.Compare(n.left, [COMPARE_SWAPS[type(n.ops[0])]()], n.comparators)
    elif isinstance(node, ast.BinOp) and type(node.op) in OPERATOR_SWAPS:
        yield "operator", 0, lambda n: ast.BinOp(n.left, OPERATOR_SWAPS[type(n.op)](), n.right)
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        yield "constant", 0, lambda n: ast.Constant(n.value + 1)
        if node.value > 0:
            yield "constant", 1, lambda n: ast.Constant(n.value - 1)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        yield "negation", 0, lambda n: n.operand
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("If", "Elif")
          and len(node.args) == 1 and isinstance(node.args[0], ast.BinOp)
          and isinstance(node.args[0].op, (ast.BitAnd, ast.BitOr))):
        yield "condition", 0, lambda n: ast.Call(n.func, [n.args[0].left], n.keywords)
        yield "condition", 1, lambda n: ast.Call(n.func, [n.args[0].right], n.keywords)
    elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice) and node.slice.upper is not None:
        yield "truncate", 0, lambda n: ast.Subscript(n.value, ast.Slice(
            n.slice.lower, ast.BinOp(n.slice.upper, ast.Sub(), ast.Constant(1)), n.slice.step), n.ctx)
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "eq"
          and isinstance(node.func.value, ast.Attribute) and node.func.value.attr in HANDSHAKES and node.args
          and not (isinstance(node.args[0], ast.Constant) and node.args[0].value == 1)):
        yield "handshake", 0, lambda n: ast.Call(n.func, [ast.Constant(1)], n.keywords)


def _walk_mutable(path: Path):
    """(node, kind, variant, make) for every mutable node of a file's hardware functions, in a fixed order."""
    source = path.read_text()
    tree = ast.parse(source)
    lines = source.splitlines()
    seen = set()
    for function in _hardware_functions(tree):
        for node in ast.walk(function):
            if not hasattr(node, "lineno") or (node.lineno, node.col_offset, type(node)) in seen:
                continue
            seen.add((node.lineno, node.col_offset, type(node)))
            text = lines[node.lineno - 1]
            # the seeded bugs' switches are test scaffolding, and docstrings and names are not hardware
            if "inject_bug" in text or "BUG" in text:
                continue
            for kind, variant, make in _changes(node):
                yield tree, node, kind, variant, make


def candidates(root: Path = REPO) -> list[Mutant]:
    out = []
    for file in FILES:
        for _, node, kind, variant, make in _walk_mutable(root / file):
            out.append(Mutant(file, node.lineno, node.col_offset, kind, variant, ast.unparse(node),
                              ast.unparse(make(node))))
    return out


def mutated_source(mutant: Mutant, root: Path = REPO) -> str:
    """The file with the mutant's change made (the syntax tree unparsed: comments do not survive)."""
    for tree, node, kind, variant, make in _walk_mutable(root / mutant.file):
        if (node.lineno, node.col_offset, kind, variant) == (mutant.line, mutant.col, mutant.kind, mutant.variant):
            parent = next(p for p in ast.walk(tree) for field, value in ast.iter_fields(p)
                          if value is node or (isinstance(value, list) and any(v is node for v in value)))
            changed = ast.copy_location(make(node), node)
            for field, value in ast.iter_fields(parent):
                if value is node:
                    setattr(parent, field, changed)
                elif isinstance(value, list):
                    setattr(parent, field, [changed if v is node else v for v in value])
            return ast.unparse(ast.fix_missing_locations(tree)) + "\n"
    raise KeyError(f"no mutant {mutant.id} in {mutant.file}")


def draw(pool: list[Mutant], count: int, seed: int) -> list[Mutant]:
    """`count` mutants spread over the kinds of change and then the files: round robin over the kinds,
    within a kind round robin over the files, each in a seeded random order."""
    rng = random.Random(seed)
    groups: dict[str, dict[str, list[Mutant]]] = {}
    for m in pool:
        groups.setdefault(m.kind, {}).setdefault(m.file, []).append(m)
    for files in groups.values():
        for members in files.values():
            rng.shuffle(members)
    queues = {kind: list(_interleave(list(files.values()))) for kind, files in groups.items()}
    chosen: list[Mutant] = []
    while len(chosen) < count and any(queues.values()):
        for kind in KINDS:
            if queues.get(kind) and len(chosen) < count:
                chosen.append(queues[kind].pop(0))
    return chosen


def _interleave(lists):
    """One from each list in turn."""
    lists = [list(x) for x in lists]
    while any(lists):
        for x in lists:
            if x:
                yield x.pop(0)


def make_tree(mutant: Mutant, dest: Path) -> None:
    """A copy of the package (and the tests and examples) in `dest`, with the mutant's file changed."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for sub, folder in PACKAGE_DIRS.items():
        shutil.copytree(REPO / folder, dest / "lapicque" / sub if sub else dest / "lapicque", ignore=ignore,
                        dirs_exist_ok=True)
    for folder in ("tests", "examples"):
        shutil.copytree(REPO / folder, dest / folder, ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", dest / "pyproject.toml")
    (dest / "lapicque" / mutant.file.removeprefix("hdl/").join(("hdl/", ""))).write_text(mutated_source(mutant))


# -- the kill chain ----------------------------------------------------------------------------------


def worker(step: str) -> dict:
    """Run one step of a chain in this process (started with PYTHONPATH at a mutant's tree):
    {"failed": bool, "reason": str}."""
    from lapicque.spec import ArraySpec, load_spec, random_spec

    if step == "elaborate":
        from lapicque.hdl import verilog
        from lapicque.hdl.harness import BoardProbe, PackedArray

        verilog.convert(PackedArray(random_spec(16, 2, seed=1)), name="top")
        verilog.convert(BoardProbe(random_spec(8, 2, seed=1), divisor=4), name="top")
        return {"failed": False, "reason": ""}
    if step.startswith("proof-"):
        from lapicque.formal.prove import (
            bridge_properties,
            datapath_properties,
            stream_properties,
            uart_properties,
            whole_array_properties,
        )
        from lapicque.formal.sby import run_property, warm_up

        part = step.removeprefix("proof-")
        if part == "datapath":
            props = [p for rounding in ("toward_zero", "floor")
                     for p in datapath_properties(ArraySpec(8, 2, rounding=rounding)) if "(array," in p.name]
        elif part == "streams":
            props = stream_properties()
        elif part == "uart":
            props = uart_properties()
        elif part == "bridge":
            props = bridge_properties(ArraySpec(8, 2))
        else:
            props = whole_array_properties(ArraySpec(8, 2))
        warm_up()
        with tempfile.TemporaryDirectory() as tmp:
            for k, prop in enumerate(props):
                outcome = run_property(prop.design(), prop.kind, prop.depth, Path(tmp) / str(k),
                                       flat_memories=prop.flat_memories, timeout=STEP_TIMEOUT_S)
                if outcome.status == "fail":
                    return {"failed": True, "reason": f"prove: {prop.name} ({prop.spec.rounding}) fails"}
        return {"failed": False, "reason": ""}
    if step == "verify":
        from lapicque.sim.verify import verify

        with tempfile.TemporaryDirectory() as tmp:
            for neurons, lanes, seed, steps, rounding in VERIFY_RUNS:
                spec = (load_spec(neurons) if isinstance(neurons, str)
                        else random_spec(neurons, lanes, seed=seed, rounding=rounding))
                label = neurons if isinstance(neurons, str) else f"{neurons}x{lanes} {rounding}"
                try:
                    s = verify(spec, steps, Path(tmp) / "run", seed=seed)
                except Exception as exc:  # a testbench or build that breaks on the mutant has found it
                    return {"failed": True, "reason": f"verify {label}: {type(exc).__name__}: {str(exc)[:120]}"}
                if not s["passed"]:
                    m = s["first_mismatch"] or s["first_float_violation"] or {}
                    what = ("timed out" if s["timed_out"] else
                            f"step {m.get('step')} neuron {m.get('neuron')} {m.get('field')}: "
                            f"expected {m.get('expected')}, got {m.get('got')}")
                    return {"failed": True, "reason": f"verify {label}: {what}"}
        return {"failed": False, "reason": ""}
    raise ValueError(f"unknown step {step!r}")


def _run_step(step: str, tree: Path, cache: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), LAPICQUE_CACHE=str(cache))
    started = time.perf_counter()
    if step.startswith("tests:"):
        files = step.removeprefix("tests:").split(",")
        command = [sys.executable, "-m", "pytest", "-q", "-x", "-n", "0", "-p", "no:cacheprovider", *files]
    else:
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", step]
    # a session of its own, so that a step that hangs is stopped with its simulator and helpers
    process = subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=STEP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return {"failed": True, "reason": f"{step}: no answer in {STEP_TIMEOUT_S} s (hangs)",
                "seconds": time.perf_counter() - started}
    done = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    seconds = time.perf_counter() - started
    if step.startswith("tests:"):
        failed = done.returncode != 0
        first = next((line for line in done.stdout.splitlines() if line.startswith("FAILED")), "")
        return {"failed": failed, "reason": f"unit tests: {first[:160] or 'exit ' + str(done.returncode)}"
                if failed else "", "seconds": seconds}
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        result = {"failed": True, "reason": f"{step}: {tail[:160]}", "crashed": True}
    return {**result, "seconds": seconds}


def in_seeded_bug_branch(mutant: Mutant, root: Path = REPO) -> bool:
    """Whether the mutant sits in the body of an `if` on `inject_bug`: hardware built only when a test asks
    for that seeded bug, so no run of the real design can see it."""
    tree = ast.parse((root / mutant.file).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "inject_bug" in ast.unparse(node.test):
            if node.body[0].lineno <= mutant.line <= node.body[-1].end_lineno:
                return True
    return False


def run_chain(mutant: Mutant, cache: Path) -> dict:
    started = time.perf_counter()
    if in_seeded_bug_branch(mutant):
        return _verdict(mutant, "equivalent", "inside a seeded bug's branch (built only when a test asks for that "
                        "bug)", [], started)
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        tree = Path(tmp)
        make_tree(mutant, tree)
        steps = []
        first = _run_step("elaborate", tree, cache)
        steps.append({"step": "elaborate", **first})
        if first["failed"]:
            return _verdict(mutant, "stillborn", first["reason"], steps, started)
        for step in CHAINS[mutant.file]:
            outcome = _run_step(step, tree, cache)
            steps.append({"step": step, **outcome})
            if outcome["failed"]:
                return _verdict(mutant, "killed", outcome["reason"], steps, started)
    if mutant.id in EQUIVALENT:
        return _verdict(mutant, "equivalent", EQUIVALENT[mutant.id], steps, started)
    return _verdict(mutant, "survived", "", steps, started)


def _verdict(mutant: Mutant, verdict: str, reason: str, steps: list, started: float) -> dict:
    return {"id": mutant.id, **asdict(mutant), "verdict": verdict, "reason": reason,
            "killed_by": steps[-1]["step"] if verdict == "killed" else None, "steps": steps,
            "seconds": time.perf_counter() - started}


def score(results: list[dict]) -> dict:
    counts = {v: sum(r["verdict"] == v for r in results) for v in ("killed", "survived", "equivalent", "stillborn")}
    scored = counts["killed"] + counts["survived"]
    return {**counts, "drawn": len(results), "score": counts["killed"] / scored if scored else float("nan")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=80, help="mutants drawn (default 80)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draw (default 0)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--only", action="append", default=[], help="run this mutant id (repeatable)")
    parser.add_argument("--list", action="store_true", help="list every candidate mutant and stop")
    parser.add_argument("--out", type=Path, default=Path("runs/mutants"), help="results folder (default runs/mutants)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return 0
    pool = candidates()
    if args.list:
        for m in pool:
            print(f"{m.id:40} {m.before[:50]:>50} -> {m.after[:50]}")
        print(f"{len(pool)} candidates")
        return 0
    by_id = {m.id: m for m in pool}
    unknown = [i for i in args.only if i not in by_id]
    if unknown:
        print(f"unknown mutant id(s): {', '.join(unknown)}; see --list", file=sys.stderr)
        return 2
    chosen = [by_id[i] for i in args.only] if args.only else draw(pool, args.count, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    cache = args.out / "cache"
    print(f"{len(chosen)} mutants of {len(pool)} candidates, {args.jobs} at a time", flush=True)
    results = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool_exec:
        for k, result in enumerate(pool_exec.map(lambda m: run_chain(m, cache), chosen), 1):
            results.append(result)
            print(f"[{k}/{len(chosen)}] {result['verdict']:>10} {result['id']:40} {result['before'][:30]!r} -> "
                  f"{result['after'][:30]!r}  {result['reason'][:90]}  ({result['seconds']:.0f} s)", flush=True)
    summary = {"seed": args.seed, "count": len(chosen), **score(results), "results": results}
    tmp = args.out / "results.json.tmp"
    tmp.write_text(json.dumps(summary, indent=1))
    tmp.replace(args.out / "results.json")
    s = summary
    print(f"killed {s['killed']}, survived {s['survived']}, equivalent {s['equivalent']}, stillborn {s['stillborn']} "
          f"of {s['drawn']}: score {s['score']:.1%} of the non-equivalent")
    for r in results:
        if r["verdict"] == "survived":
            print(f"  survivor {r['id']}: {r['before']} -> {r['after']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

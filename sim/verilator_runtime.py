"""Verilator's runtime objects, compiled once and shared by every build.

Every Verilator build compiles the same runtime (verilated.cpp, its VPI, DPI, timing and thread support) with
the same command before it compiles the design: 10.5 s of the 13 s of CPU that one array's build took. This
step runs between Verilator and make (`runner._get_runner` inserts it into cocotb's build commands): it asks
make for the runtime's compile commands (`make -n`), and keys the objects on those commands and the compiler's
and Verilator's versions. The first build with a key compiles them and stores them in the cache; every later
one copies them into its build folder, newer than their sources, so make leaves them alone and compiles only
the design.

    python -m lapicque.sim.verilator_runtime --cache DIR --verilator EXE BUILD_DIR [MAKE_VARIABLE=VALUE ...]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from filelock import FileLock

MAKEFILE = "Vtop.mk"
CLASSES = "Vtop_classes.mk"
COMPLETE = "complete"


def runtime_objects(build_dir: Path) -> list[str]:
    """The runtime's object files this build links (Verilator lists them in its classes makefile)."""
    names: list[str] = []
    continued = False
    for line in (build_dir / CLASSES).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        listed = re.match(r"VM_GLOBAL_(FAST|SLOW)\s*\+=", line)
        if listed or continued:
            words = line[listed.end():] if listed else line
            names += [word for word in words.split() if word != "\\"]
        continued = (listed is not None or continued) and line.endswith("\\")
    return [f"{name}.o" for name in names]


def compile_commands(build_dir: Path, make_variables: list[str], objects: list[str]) -> str:
    """What make would run to compile `objects` here (the same MAKEFLAGS as the build itself), whether or not
    they are already there."""
    done = subprocess.run(["make", "-n", "-B", "-f", MAKEFILE, *make_variables, *objects], cwd=build_dir,
                          capture_output=True, text=True, check=True)
    return done.stdout


def _version(command: list[str]) -> str:
    done = subprocess.run([*command, "--version"], capture_output=True, text=True, check=False)
    return done.stdout + done.stderr


def runtime_key(commands: str, verilator: str) -> str:
    """A hash of everything the objects depend on: the commands (flags, defines, the runtime's path), the
    compiler they call, Verilator's version (its runtime sources change with it) and the machine's
    architecture (a cache shared between machines)."""
    compilers = sorted({line.split()[0] for line in commands.splitlines() if line.strip()})
    h = hashlib.sha256(commands.encode())
    h.update(platform.machine().encode())
    for compiler in compilers:
        h.update(_version([compiler]).encode())
    h.update(_version([verilator]).encode())
    return h.hexdigest()[:16]


def _with_dependencies(objects: list[str]) -> list[str]:
    """The objects with make's dependency files (`-MMD`), so make's view of them is complete."""
    return [name for obj in objects for name in (obj, obj[:-2] + ".d")]


def design_dependencies(build_dir: Path, objects: list[str]) -> list[str]:
    """The files in the build folder the compiled objects include (make's `-MMD` lists them by relative path):
    an object that includes one depends on the design and is not shared."""
    local: set[str] = set()
    for obj in objects:
        listing = build_dir / (obj[:-2] + ".d")
        if not listing.exists():
            local.add(f"{obj} (no dependency list)")
            continue
        words = listing.read_text().replace("\\\n", " ").split()
        local |= {w for w in words[1:] if not Path(w).is_absolute()}
    return sorted(local)


def provide(build_dir: Path, cache: Path, verilator: str, make_variables: list[str]) -> str:
    """Put the runtime objects into `build_dir`, from the cache or compiled once into it; returns how."""
    objects = runtime_objects(build_dir)
    if not objects:
        return "no runtime objects to share"
    key = runtime_key(compile_commands(build_dir, make_variables, objects), verilator)
    stored = cache / "verilator-runtime" / key
    stored.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(stored) + ".lock"):  # parallel builds compile a new runtime once
        if not (stored / COMPLETE).exists():
            subprocess.run(["make", "-j", str(os.cpu_count() or 1), "-f", MAKEFILE, *make_variables, *objects],
                           cwd=build_dir, check=True)
            local = design_dependencies(build_dir, objects)
            if local:
                return f"verilator runtime compiled here, not shared: it includes the design's {', '.join(local)}"
            scratch = stored.with_name(f".{key}.{uuid.uuid4().hex[:8]}")
            scratch.mkdir()
            for name in _with_dependencies(objects):
                if (build_dir / name).exists():
                    shutil.copyfile(build_dir / name, scratch / name)
            (scratch / COMPLETE).write_text(" ".join(objects))
            os.replace(scratch, stored)
            return f"verilator runtime {key}: compiled and stored"
    for name in _with_dependencies(objects):
        if (stored / name).exists():
            # a fresh copy is newer than the runtime's sources: make sees it up to date
            shutil.copyfile(stored / name, build_dir / name)
    return f"verilator runtime {key}: from the cache"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="the build cache's root folder")
    parser.add_argument("--verilator", required=True, help="the Verilator executable the build used")
    parser.add_argument("build_dir", type=Path)
    parser.add_argument("make_variables", nargs="*", help="the build's own make variables (VM_TRACE=...)")
    args = parser.parse_args(argv)
    print(provide(args.build_dir, args.cache, args.verilator, args.make_variables), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run a benchmark against another revision of lapicque, side by side in one run (`bench_verify.py --baseline`).

`checkout(rev)` makes a git worktree of the revision in a temporary folder and a `sitecustomize` shim that imports
`lapicque` (and its sub-packages, placed by the revision's own pyproject.toml) from that worktree, in every Python
process started with `environment(...)` (the simulator's, the model's helper): the revision's code, this
machine's tools and installed libraries, the same moment.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import tomllib
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SHIM = '''import importlib.abc
import importlib.util
import os
import sys

MAPPING = {mapping!r}


class RevisionFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        folder = MAPPING.get(fullname)
        if folder is None:
            return None
        return importlib.util.spec_from_file_location(fullname, os.path.join(folder, "__init__.py"),
                                                      submodule_search_locations=[folder])


sys.meta_path.insert(0, RevisionFinder())
'''


@contextmanager
def checkout(rev: str):
    """(worktree, shim folder) of `rev`, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="lapicque-baseline-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), rev], cwd=REPO, check=True)
        try:
            config = tomllib.loads((tree / "pyproject.toml").read_text())
            package_dir = config["tool"]["setuptools"]["package-dir"]
            mapping = {name: str(tree / folder) for name, folder in package_dir.items()}
            shim = Path(tmp) / "shim"
            shim.mkdir()
            (shim / "sitecustomize.py").write_text(SHIM.format(mapping=mapping))
            yield tree, shim
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO, check=False)


def environment(shim: Path | None) -> dict:
    """The environment of a process that imports lapicque from the shim's revision (None: this checkout's)."""
    env = dict(os.environ)
    if shim is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(shim), *filter(None, [env.get("PYTHONPATH")])])
    return env

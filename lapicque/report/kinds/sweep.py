"""`lapicque sweep` folders: the Pareto fronts per pair of objectives (and per board), every point, its run."""

from __future__ import annotations

import math
import os

from ..sections import Check, Run, Section, provenance_rows

FILE = "summary.json"
#: the points listed in the table (a sweep may have thousands): the fronts' and the failed ones come first
SHOWN_POINTS = 300
MARKERS = "osD^v<>ph*"
ANNOTATED_POINTS = 60  # up to this many points, each marker carries its point's number


def matches(data: dict) -> bool:
    return data.get("sweep") is True


def _number(x) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) else None


def section(run: Run) -> Section:
    from lapicque.errors import LapicqueError

    from ..runs import read_json

    s = run.data
    sec = Section(run)
    sweep_file, pareto_file = run.folder / "sweep.json", run.folder / "pareto.json"
    for path in (sweep_file, pareto_file):
        if not path.exists():
            raise LapicqueError(f"{path} is missing: the sweep did not finish writing; rerun it to resume")
    points = read_json(sweep_file)["points"]
    fronts = read_json(pareto_file)["fronts"]
    states = {state: sum(p["status"] == state for p in points) for state in ("done", "failed", "pending")}
    # the verdicts come from the points listed below, not from the summary's own counts
    sec.checks = [
        Check.equals("pending", "points without a result", states["pending"], 0),
        Check.equals("points", "points in sweep.json against the summary", len(points), s["points"]),
        Check.equals("done", "points done in sweep.json against the summary", states["done"], s["done"]),
        Check.equals("failed_reasons", "failed points without a reason",
                     sum(p["status"] == "failed" and not p.get("reason") for p in points), 0),
    ]
    sec.numbers = {"points": len(points), "done": states["done"], "failed": states["failed"],
                   "from_cache": s["from_cache"], "tasks_computed": s["tasks"]["computed"],
                   "tasks_from_cache": s["tasks"]["from_cache"], "wall_s": s["wall_s"]}
    sec.config = [("workload", s["kind"]), ("sweep file", s["file"]), ("stages", ", ".join(s["stages"])),
                  ("axes", "; ".join(f"{k} = {v}" for k, v in s["axes"].items())),
                  ("fixed", "; ".join(f"{k} = {v}" for k, v in s["fixed"].items()) or "-"),
                  ("seeds", str(s["seeds"])),
                  ("objectives", ", ".join(f"{k} ({v})" for k, v in s["objectives"].items())),
                  ("cache", s["cache"]), ("workers", str(s["workers"])), ("dashboard", str(s.get("dashboard")))]
    sec.config += provenance_rows(s.get("provenance"))
    add_fronts(sec, s, points, fronts)
    on_front = {i for f in fronts for i in f["points"]}
    order = sorted(points, key=lambda p: (p["index"] not in on_front, p["status"] == "done", p["index"]))
    shown = order[:SHOWN_POINTS]
    objectives = list(s["objectives"])
    sec.extra["axes"] = list(s["axes"])
    sec.extra["objectives"] = objectives
    sec.extra["points"] = [{"index": p["index"], "params": [p["params"][a] for a in s["axes"]], "status": p["status"],
                            "reason": p.get("reason") or "", "front": p["index"] in on_front,
                            "figures": [_shown(p["figures"].get(o)) for o in objectives],
                            "runs": _links(run.folder, p.get("runs", {}))} for p in shown]
    sec.extra["left_out"] = len(points) - len(shown)
    sec.extra["fronts"] = [{"x": f["x"], "y": f["y"], "group": f["group"], "points": f["points"]} for f in fronts]
    return sec


def _shown(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def _links(folder, runs: dict) -> list[tuple[str, str]]:
    """Each stage's run report (or its folder when it has none), relative to the report where it can be."""
    links = []
    for stage, folders in runs.items():
        for k, path in enumerate(folders):
            target = os.path.join(path, "report.html")
            target = target if os.path.exists(target) else path
            try:
                href = os.path.relpath(target, folder)
            except ValueError:
                href = target
            links.append((f"{stage}{'' if len(folders) == 1 else k}", href))
    return links


def add_fronts(sec: Section, s: dict, points: list[dict], fronts: list[dict]) -> None:
    """One figure per pair of objectives: every point done (a marker per board when board is an axis) and the
    fronts, over all points and per board."""
    from lapicque.plots import figure

    by_index = {p["index"]: p for p in points}
    boards = s["axes"].get("board", [None])
    for x, y in dict.fromkeys((f["x"], f["y"]) for f in fronts):
        fig, ax = figure(7, 4)
        for k, board in enumerate(boards):
            members = [p for p in points if p["status"] == "done" and (board is None or p["params"]["board"] == board)]
            xy = [(_number(p["figures"].get(x)), _number(p["figures"].get(y))) for p in members]
            xy = [v for v in xy if None not in v]
            if xy:
                ax.scatter(*zip(*xy, strict=True), marker=MARKERS[k % len(MARKERS)], s=22, alpha=0.6,
                           label=board or "points")
            if len(points) <= ANNOTATED_POINTS:  # the table's numbers beside the markers
                for p in members:
                    at = (_number(p["figures"].get(x)), _number(p["figures"].get(y)))
                    if None not in at:
                        ax.annotate(str(p["index"]), at, fontsize=6, xytext=(3, 3), textcoords="offset points")
        for f in fronts:
            if (f["x"], f["y"]) != (x, y):
                continue
            line = [(by_index[i]["figures"][x], by_index[i]["figures"][y]) for i in f["points"]]
            if line:
                style = "-" if f["group"] == "all" else ":"
                ax.plot(*zip(*line, strict=True), style, lw=1.4 if f["group"] == "all" else 1.0,
                        label=f"front ({f['group']})")
        positive = all((_number(p["figures"].get(x)) or 0) > 0 for p in points if p["status"] == "done")
        if x == "rel_gap" and positive:
            ax.set_xscale("log")
        ax.set_xlabel(f"{x} ({s['objectives'][x]})")
        ax.set_ylabel(f"{y} ({s['objectives'][y]})")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
        else:
            sec.notes.append(f"No point has both {x} and {y}: the figure of this pair is empty.")
        title = f"{y} against {x}" if x != y else f"{x}: the best points"
        sec.add_figure(title, fig)


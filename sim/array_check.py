"""The array's recorded transfers checked in the parent process, on the other core while the simulator runs.

The simulator records every monitor and spike transfer (`runner.ARRAY_RECORDED`); `ArrayChecker.poll` takes what
was recorded since its last look, decodes many transfers at once (`MonitorDecoder`), puts the beats in (step, index)
order (`MonitorConsumer`) and hands each completed step to the scoreboard, which compares every field with the
fixed model; the AER stream is compared with the monitor's spikes at the end (`aer_differences`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lapicque.golden.neuron import State
from lapicque.hdl.harness import SPIKE_PACK, monitor_pack, packed_aer_layout, packed_monitor_layout
from lapicque.hdl.layouts import lane_update_layout, monitor_layout
from lapicque.sim.bits import FieldPlan, leaves
from lapicque.sim.runner import RecordFile, record_file
from lapicque.sim.scoreboard import FIELDS, Scoreboard
from lapicque.spec import ArraySpec


class MonitorDecoder:
    """Decodes one wide monitor transfer (`pack` beats of every lane) into per-neuron field arrays."""

    def __init__(self, spec: ArraySpec, pack: int):
        wide = dict(packed_monitor_layout(spec, pack))
        self.items = FieldPlan([wide["items"].offset], wide["items"].width, False)
        mon = dict(monitor_layout(spec))
        upd = lane_update_layout(spec)
        beat_base = wide["data"].offset + np.arange(pack) * monitor_layout(spec).size
        lane_base = (beat_base[:, None] + mon["lanes"].offset + np.arange(spec.lanes)[None, :] * upd.size).ravel()
        self.fields = [(path[-1], FieldPlan(lane_base + off, width, sgn)) for path, off, width, sgn in leaves(upd)]
        self.timestep = FieldPlan(beat_base + mon["timestep"].offset, mon["timestep"].width, False)
        self.index = FieldPlan(beat_base + mon["index"].offset, mon["index"].width, False)
        self.cycle = FieldPlan(beat_base + mon["cycle"].offset, mon["cycle"].width, False)

    def decode(self, bits: np.ndarray):
        """Transfers [transfers, bits] -> (items [transfers], then [transfers, slots] timestep and index, and each
        field [transfers, slots x lanes])."""
        fields = {name: plan(bits) for name, plan in self.fields}
        return self.items(bits)[:, 0], self.timestep(bits), self.index(bits), fields


class MonitorConsumer:
    """Takes wide monitor transfers, checks that beats come in (step, local index) order, and
    hands each completed step to the scoreboard."""

    def __init__(self, spec: ArraySpec, steps: int, scoreboard: Scoreboard, ext: np.ndarray, pack: int):
        self.spec, self.scoreboard, self.ext, self.pack = spec, scoreboard, ext, pack
        self.decoder = MonitorDecoder(spec, pack)
        self.received = np.zeros((len(FIELDS), steps * spec.neurons), dtype=np.int64)
        self.beat_cycle = np.zeros(steps * spec.depth, dtype=np.int64)  # the cycle each beat was written back
        self.beats_seen = 0
        self.steps_seen = 0

    def take(self, bits: np.ndarray) -> None:
        """One transfer [bits], or many in order [transfers, bits] (decoded at once: far cheaper per transfer)."""
        bits = np.atleast_2d(bits)
        if not len(bits):
            return
        D, P, N, K = self.spec.depth, self.spec.lanes, self.spec.neurons, self.pack
        items, steps, index, fields = self.decoder.decode(bits)
        # a partial transfer fills the top slots
        held = np.arange(K)[None, :] >= (K - items)[:, None]  # [transfers, slots]
        first = self.beats_seen
        count = int(held.sum())
        if first + count > len(self.beat_cycle):
            raise AssertionError(f"the monitor carried {first + count} beats; the run has {len(self.beat_cycle)}")
        expected = np.arange(first, first + count)
        got_t, got_k = steps[held], index[held]
        wrong = np.flatnonzero((got_t != expected // D) | (got_k != expected % D))
        if wrong.size:
            j = int(wrong[0])
            raise AssertionError(
                f"monitor out of order: got step {got_t[j]} index {got_k[j]}, expected step "
                f"{expected[j] // D} index {expected[j] % D}")
        lanes_held = np.repeat(held, P, axis=1)
        lo, hi = first * P, (first + count) * P
        for k, name in enumerate(FIELDS):
            self.received[k, lo:hi] = fields[name][lanes_held]
        self.beat_cycle[first:first + count] = self.decoder.cycle(bits)[held]
        self.beats_seen += count
        while self.beats_seen >= (self.steps_seen + 1) * D:
            t = self.steps_seen
            self.scoreboard.check_step(self.received[:, t * N:(t + 1) * N], self.ext[t])
            self.steps_seen += 1


class ArrayChecker:
    """Checks a run's recorded transfers as they come: `poll` while the simulator runs, `complete` once every step's
    updates and as many spike events as the monitor reported have come."""

    def __init__(self, spec: ArraySpec, initial: State, ext: np.ndarray, folder: Path):
        self.spec, self.ext, self.steps = spec, ext, len(ext)
        self.scoreboard = Scoreboard(spec, initial, self.steps)
        self.consumer = MonitorConsumer(spec, self.steps, self.scoreboard, ext, monitor_pack(spec))
        self.monitor = RecordFile(Path(folder) / record_file("monitor"),
                                  packed_monitor_layout(spec, monitor_pack(spec)).size)
        self.spikes = RecordFile(Path(folder) / record_file("spikes"), packed_aer_layout(spec).size)
        fields = {path: (off, width) for path, off, width, _ in leaves(packed_aer_layout(spec))}
        self.aer_items = FieldPlan([fields[("items",)][0]], fields[("items",)][1], False)
        self.aer_timestep = FieldPlan([fields[("data", k, "timestep")][0] for k in range(SPIKE_PACK)],
                                      fields[("data", 0, "timestep")][1], False)
        self.aer_neuron = FieldPlan([fields[("data", k, "neuron")][0] for k in range(SPIKE_PACK)],
                                    fields[("data", 0, "neuron")][1], False)
        self.aer: list[tuple[int, int]] = []

    def poll(self) -> int:
        """Take the transfers recorded since the last look; the steps checked so far."""
        self.consumer.take(self.monitor.read())
        events = self.spikes.read()
        if len(events):
            # a partial transfer holds its items in the top slots (see StreamPacker)
            held = np.arange(SPIKE_PACK)[None, :] >= (SPIKE_PACK - self.aer_items(events)[:, 0])[:, None]
            self.aer.extend(zip(self.aer_timestep(events)[held].tolist(), self.aer_neuron(events)[held].tolist(),
                                strict=True))
        self.scoreboard.finish(self.ext)  # the float bound of the steps just taken
        return self.consumer.steps_seen

    def complete(self) -> bool:
        return (self.consumer.steps_seen == self.steps
                and len(self.aer) == int(self.scoreboard.rtl["spike"][: self.steps].sum()))

    def left_over(self) -> int:
        """Bytes of records not yet taken (a finished run leaves none)."""
        return self.monitor.left_over() + self.spikes.left_over()


def aer_differences(spikes: np.ndarray, events: list[tuple[int, int]]) -> tuple[int, dict | None]:
    """Spike events the AER stream lost, duplicated or made up against the monitor's spikes
    [step, neuron]: (how many, the first as a mismatch: field "aer", expected and got the number of
    times the event was carried). Runs are at most 65535 steps: the timestep field does not wrap."""
    from collections import Counter

    wanted = Counter((int(t), int(n)) for t, n in np.argwhere(spikes))
    carried = Counter(events)
    bad = sorted(key for key in set(wanted) | set(carried) if wanted[key] != carried[key])
    if not bad:
        return 0, None
    t, n = bad[0]
    count = sum(abs(wanted[key] - carried[key]) for key in bad)
    return count, {"step": t, "neuron": n, "field": "aer", "expected": wanted[(t, n)], "got": carried[(t, n)]}

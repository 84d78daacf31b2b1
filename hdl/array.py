"""The neuron array: time-multiplexed lanes, memories, event-driven spike propagation, streams.

Structure (P = lanes, D = neurons / P; neuron n lives in lane n % P at local index n // P)::

    run ──► step control ──► update pipeline (per lane: state, param, acc memories; NeuronDatapath)
    stim ─────────────────►      │ one update per cycle per lane, in local-index order
                                 ├──► monitor (cycle, timestep, index, per-lane update)   [optional]
                                 └──► spike queue per lane ──► propagation engine ──► spikes (AER)
                                                                    │ per spike: D cycles, reads one
                                                                    ▼ weight per lane per cycle
                                                  next step's accumulators (double-buffered)

Timestep t: the update pipeline reads and clears accumulator bank t % 2 while the propagation
engine adds the weights of step t's spikes into bank (t + 1) % 2, overlapping the update. The step
ends when both are done; the next starts the cycle after.

Latency and throughput: an update leaves the datapath 1 cycle after its read is issued and enters
the monitor FIFO; a spike reaches the propagation engine 1-2 cycles after its update. Cycles per
step are max(D + 2, t_first_spike + spikes * D + 3) + 1 without back-pressure; the lower bound
the benchmark quotes is max(D, spikes * D) + `PIPELINE_LATENCY`.

After reset the array clears its accumulators, one address per cycle (D cycles); `cfg` and `run`
are not ready until then. Memories are otherwise loaded through `cfg` (state, parameters and every
weight), so nothing depends on power-up contents.

Stalls come only from registered FIFO levels, never combinationally from a consumer's `ready`:
`stim.ready` does not depend on `monitor.ready` or `spikes.ready` in the same cycle.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from lapicque.spec import ArraySpec

from .datapath import NeuronDatapath
from .layouts import (
    CFG_PARAM,
    CFG_STATE,
    CFG_WEIGHT,
    STAT_NAMES,
    TIMESTEP_BITS,
    aer_layout,
    bits_for,
    cfg_layout,
    monitor_layout,
    param_layout,
    state_layout,
    stats_layout,
    stim_layout,
)

SPIKE_QUEUE_DEPTH = 8
MONITOR_FIFO_DEPTH = 4
AER_FIFO_DEPTH = 4
#: cycles a step needs beyond max(D, spikes * D): spike queue and weight read (2), accumulate (1),
#: step turnaround (1)
PIPELINE_LATENCY = 4


class NeuronArray(wiring.Component):
    """An array of `spec.neurons` neurons in `spec.lanes` lanes.

    Ports:
      run       In stream, payload = steps to run (16 bits); accepted when idle.
      cfg       In stream of configuration writes (state, parameter, weight memories); ready when idle.
      stim      In stream: external input of one local index for every lane, consumed in order.
      spikes    Out stream of AER events (timestep, neuron).
      monitor   Out stream of every update (present when `spec.monitor`).
      busy, timestep, stats   status outputs.
    """

    def __init__(self, spec: ArraySpec, *, inject_bug: str | None = None):
        self.spec = spec
        self.inject_bug = inject_bug
        members = {
            "run": In(stream.Signature(unsigned(16))),
            "cfg": In(stream.Signature(cfg_layout(spec))),
            "stim": In(stream.Signature(stim_layout(spec))),
            "spikes": Out(stream.Signature(aer_layout(spec))),
            "busy": Out(1),
            "timestep": Out(TIMESTEP_BITS),
            "stats": Out(stats_layout()),
        }
        if spec.monitor:
            members["monitor"] = Out(stream.Signature(monitor_layout(spec)))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        spec = self.spec
        lanes, depth = spec.lanes, spec.depth
        index_bits = bits_for(depth)
        cfg = self.cfg.payload

        # -- step control ------------------------------------------------------------------------
        remaining = Signal(16)
        parity = Signal()  # accumulator bank the update side reads this step
        issuing = Signal()
        k = Signal(index_bits, name="issue_index")
        # after reset the accumulators are cleared, one address per cycle in every bank, so that
        # nothing depends on memory contents at power-up (simulators start them unknown)
        clearing = Signal(init=1)
        clear_index = Signal(index_bits)
        with m.If(clearing):
            m.d.sync += clear_index.eq(clear_index + 1)
            with m.If(clear_index == depth - 1):
                m.d.sync += clearing.eq(0)
        idle = Signal()
        m.d.comb += idle.eq((remaining == 0) & ~clearing)
        m.d.comb += [self.busy.eq(remaining != 0), self.run.ready.eq(idle), self.cfg.ready.eq(idle)]
        cfg_write = Signal()
        m.d.comb += cfg_write.eq(self.cfg.valid & self.cfg.ready)

        # -- spike queues, monitor and AER FIFOs -------------------------------------------------
        queues = []
        for lane in range(lanes):
            q = SyncFIFOBuffered(width=index_bits, depth=SPIKE_QUEUE_DEPTH)
            m.submodules[f"spike_queue{lane}"] = q
            queues.append(q)
        queue_full = Signal()
        m.d.comb += queue_full.eq(Cat(*[q.level >= SPIKE_QUEUE_DEPTH - 1 for q in queues]).any())
        monitor_full = Signal()
        if spec.monitor:
            mon_fifo = SyncFIFOBuffered(width=monitor_layout(spec).size, depth=MONITOR_FIFO_DEPTH)
            m.submodules.monitor_fifo = mon_fifo
            m.d.comb += [
                monitor_full.eq(mon_fifo.level >= MONITOR_FIFO_DEPTH - 1),
                self.monitor.payload.eq(mon_fifo.r_data),
                self.monitor.valid.eq(mon_fifo.r_rdy),
                mon_fifo.r_en.eq(self.monitor.ready),
            ]
        aer_fifo = SyncFIFOBuffered(width=aer_layout(spec).size, depth=AER_FIFO_DEPTH)
        m.submodules.aer_fifo = aer_fifo
        m.d.comb += [
            self.spikes.payload.eq(aer_fifo.r_data),
            self.spikes.valid.eq(aer_fifo.r_rdy),
            aer_fifo.r_en.eq(self.spikes.ready),
        ]

        # -- update pipeline: issue (S0) -> compute and write back (S1) ---------------------------
        stall = Signal()
        m.d.comb += stall.eq(queue_full | monitor_full)
        issue = Signal()
        m.d.comb += [issue.eq(issuing & self.stim.valid & ~stall), self.stim.ready.eq(issuing & ~stall)]
        valid1 = Signal()
        index1 = Signal(index_bits)
        ext1 = Signal.like(self.stim.payload)
        with m.If(~stall):
            m.d.sync += [valid1.eq(issue), index1.eq(k), ext1.eq(self.stim.payload)]
        with m.If(issue):
            m.d.sync += k.eq(k + 1)
            with m.If(k == depth - 1):
                m.d.sync += [issuing.eq(0), k.eq(0)]
        write_back = Signal()
        m.d.comb += write_back.eq(valid1 & ~stall)

        # -- propagation engine ------------------------------------------------------------------
        prop_busy = Signal()
        src = Signal(bits_for(spec.neurons))
        j = Signal(index_bits, name="target_index")
        prop_valid1 = Signal()
        prop_j1 = Signal(index_bits)
        can_pop = Signal()
        m.d.comb += can_pop.eq((~prop_busy | (j == depth - 1)) & (aer_fifo.level < AER_FIFO_DEPTH - 1))
        pop_any = Signal()
        pop_neuron = Signal.like(src)
        with m.If(can_pop):
            # the lowest-numbered lane with a queued spike goes first; order does not change the sums
            for lane in reversed(range(lanes)):
                with m.If(queues[lane].r_rdy):
                    m.d.comb += [pop_any.eq(1), pop_neuron.eq(queues[lane].r_data * lanes + lane)]
            for lane in range(lanes):
                earlier = Cat(*[queues[x].r_rdy for x in range(lane)]).any() if lane else Const(0)
                m.d.comb += queues[lane].r_en.eq(queues[lane].r_rdy & ~earlier)
        m.d.sync += [prop_valid1.eq(prop_busy), prop_j1.eq(j)]
        with m.If(prop_busy):
            m.d.sync += j.eq(j + 1)
        with m.If(pop_any):
            m.d.sync += [prop_busy.eq(1), src.eq(pop_neuron), j.eq(0)]
        with m.Elif(prop_busy & (j == depth - 1)):
            m.d.sync += [prop_busy.eq(0), j.eq(0)]
        m.d.comb += [
            aer_fifo.w_en.eq(pop_any),
            aer_fifo.w_data.eq(Cat(self.timestep, pop_neuron)),
        ]
        weight_addr = Signal(bits_for(spec.neurons * depth))
        m.d.comb += weight_addr.eq(src * depth + j)

        # -- per-lane memories and datapaths ------------------------------------------------------
        mon_lanes = []
        for lane in range(lanes):
            cfg_here = cfg_write & (cfg.lane == lane)
            state_mem = Memory(shape=state_layout(spec), depth=depth, init=[])
            param_mem = Memory(shape=param_layout(spec), depth=depth, init=[])
            weight_mem = Memory(shape=signed(spec.widths.w), depth=spec.neurons * depth, init=[])
            m.submodules[f"state_mem{lane}"] = state_mem
            m.submodules[f"param_mem{lane}"] = param_mem
            m.submodules[f"weight_mem{lane}"] = weight_mem

            state_w = state_mem.write_port()
            state_r = state_mem.read_port()
            param_w = param_mem.write_port()
            param_r = param_mem.read_port()
            weight_w = weight_mem.write_port()
            weight_r = weight_mem.read_port()
            m.d.comb += [
                state_r.addr.eq(k), state_r.en.eq(~stall),
                param_r.addr.eq(k), param_r.en.eq(~stall),
                weight_r.addr.eq(weight_addr), weight_r.en.eq(1),
                param_w.addr.eq(cfg.addr), param_w.data.eq(cfg.data),
                param_w.en.eq(cfg_here & (cfg.target == CFG_PARAM)),
                weight_w.addr.eq(cfg.addr), weight_w.data.eq(cfg.data),
                weight_w.en.eq(cfg_here & (cfg.target == CFG_WEIGHT)),
            ]

            # double-buffered accumulators: bank `parity` is read and cleared by the update side,
            # the other receives this step's spikes (read-modify-write, transparent read)
            acc_r_data = []
            acc_for_update = Signal(signed(spec.acc_bits), name=f"acc_in{lane}")
            acc_for_prop = Signal(signed(spec.acc_bits), name=f"acc_old{lane}")
            for bank in range(2):
                mem = Memory(shape=signed(spec.acc_bits), depth=depth, init=[])
                m.submodules[f"acc_mem{lane}_{bank}"] = mem
                wp = mem.write_port()
                rp = mem.read_port(transparent_for=(wp,))
                updating = parity == bank
                with m.If(clearing):
                    m.d.comb += [wp.addr.eq(clear_index), wp.data.eq(0), wp.en.eq(1)]
                with m.Elif(updating):
                    m.d.comb += [
                        rp.addr.eq(k), rp.en.eq(~stall),
                        wp.addr.eq(index1), wp.data.eq(0), wp.en.eq(write_back),
                    ]
                with m.Else():
                    m.d.comb += [
                        rp.addr.eq(j), rp.en.eq(1),
                        wp.addr.eq(prop_j1), wp.data.eq(acc_for_prop + weight_r.data), wp.en.eq(prop_valid1),
                    ]
                acc_r_data.append(rp.data)
            m.d.comb += [
                acc_for_update.eq(Mux(parity, acc_r_data[1], acc_r_data[0])),
                acc_for_prop.eq(Mux(parity, acc_r_data[0], acc_r_data[1])),
            ]

            dp = NeuronDatapath(spec, inject_bug=self.inject_bug)
            m.submodules[f"datapath{lane}"] = dp
            m.d.comb += [
                dp.state.eq(state_r.data),
                dp.params.eq(param_r.data),
                dp.acc.eq(acc_for_update),
                dp.ext.eq(ext1[lane]),
            ]
            with m.If(cfg_write):
                m.d.comb += [
                    state_w.addr.eq(cfg.addr), state_w.data.eq(cfg.data),
                    state_w.en.eq(cfg_here & (cfg.target == CFG_STATE)),
                ]
            with m.Else():
                m.d.comb += [state_w.addr.eq(index1), state_w.data.eq(dp.update.state), state_w.en.eq(write_back)]
            queue = queues[lane]
            m.d.comb += [queue.w_en.eq(write_back & dp.update.spike), queue.w_data.eq(index1)]
            mon_lanes.append(dp.update)

        cycle = Signal(32)
        m.d.sync += cycle.eq(cycle + 1)
        if spec.monitor:
            m.d.comb += [
                mon_fifo.w_en.eq(write_back),
                mon_fifo.w_data.eq(Cat(cycle, self.timestep, index1, *mon_lanes)),
            ]

        # -- step sequencing -----------------------------------------------------------------------
        step_done = Signal()
        m.d.comb += step_done.eq(
            (remaining != 0) & ~issuing & ~valid1 & ~prop_busy & ~prop_valid1
            & Cat(*[q.level == 0 for q in queues]).all()
        )
        with m.If(self.run.valid & self.run.ready & (self.run.payload != 0)):
            m.d.sync += [remaining.eq(self.run.payload), issuing.eq(1), k.eq(0)]
        with m.If(step_done):
            m.d.sync += [self.timestep.eq(self.timestep + 1), parity.eq(~parity), remaining.eq(remaining - 1)]
            with m.If(remaining != 1):
                m.d.sync += [issuing.eq(1), k.eq(0)]

        # -- performance counters ----------------------------------------------------------------
        events = {
            "cycles": Const(1),
            "busy_cycles": self.busy,
            "update_cycles": issuing | valid1,
            "propagate_cycles": prop_busy,
            "stall_queue_full": (issuing | valid1) & queue_full,
            "stall_monitor_full": (issuing | valid1) & monitor_full,
            "stim_starved": issuing & ~stall & ~self.stim.valid,
            "spike_backpressure": self.spikes.valid & ~self.spikes.ready,
            "monitor_backpressure": (self.monitor.valid & ~self.monitor.ready) if spec.monitor else Const(0),
        }
        for name in STAT_NAMES:
            counter = getattr(self.stats, name)
            with m.If(events[name]):
                m.d.sync += counter.eq(counter + 1)
        return m

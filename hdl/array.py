"""The neuron array: time-multiplexed lanes, memories, event-driven spike propagation, streams.

Structure (P = lanes, D = neurons / P; neuron n lives in lane n % P at local index n // P)::

    run ──► step control ──► update pipeline (per lane: state, param, acc memories; NeuronDatapath)
    stim ─────────────────►      │ one update per cycle per lane, in local-index order
                                 ├──► monitor (cycle, timestep, index, per-lane update)   [optional]
                                 └──► spike queue per lane ──► propagation engine ──► spikes (AER)
                                                                    │ per spike: D cycles, reads one
                                                                    ▼ weight per lane per cycle
                                                  next step's accumulators (double-buffered)

Timestep t: the update pipeline reads accumulator bank t % 2 while the propagation engine adds the
weights of step t's spikes into bank (t + 1) % 2, overlapping the update. Nothing clears a bank: every
spike writes every address of its bank, so a step's first spike writes its weights over the old
contents, and a bank that no spike of its step wrote reads as 0 (`filled`). Step t + 1's sweep starts
once step t's updates are written back and its spikes all taken from the queues, while the last of
them may still be propagating: the sweep reads bank (t + 1) % 2 behind that spike's writes (both move
an address a cycle), so the spike's D cycles and the next sweep's first ones overlap. Spikes in the
queues carry their step's parity, for the bank they fill and the timestep of their AER event. The run's
last step ends when everything is quiet.

Latency and throughput: an update leaves the datapath 1 + `DATAPATH_LATENCY` cycles after its read
is issued and enters the monitor FIFO; a spike reaches the propagation engine 1-2 cycles after its
update. The bound issue 20 quotes for a step is max(D, spikes * D) + `PIPELINE_LATENCY`, less
`SPIKE_PATH_LATENCY` for a step without spikes (nothing to propagate); since steps overlap, a run
pays the latency less than once a step and can take fewer cycles (`sim.verify.cycles_floor` is what
none beats).

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

from .datapath import BUGS as DATAPATH_BUGS
from .datapath import MAX_LATENCY, NeuronDatapath
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
from .ram import RegisteredRAM

#: deliberately wrong arrays, for the whole-array proof's own tests (`lapicque prove --inject-bug`); the
#: datapath's bugs (`datapath.BUGS`) are passed on to every lane's datapath
BUGS = (
    "read_during_config_write",  # an update may read its memories in the cycle a configuration write lands
    "accumulator_not_cleared",  # a step's first spike adds to its bank's old sums instead of writing over them
    "accumulator_bank_swapped",  # the update side reads the bank propagation is filling
    "spike_event_lost",  # neuron 0's spikes are propagated but never put on the AER stream
)
SPIKE_QUEUE_DEPTH = 8
MONITOR_FIFO_DEPTH = 5
AER_FIFO_DEPTH = 4
#: register stages inside the neuron datapath (see `NeuronDatapath`), the state and parameter RAMs'
#: output registers counted: what lets the FPGA clock reach 32 MHz on an iCE40 UP5K and 100 MHz on an ECP5
DATAPATH_LATENCY = MAX_LATENCY + 1
#: cycles a spike takes from its update to its last weight accumulated: spike queue and weight read (2),
#: weight register (1), accumulate (1); a step without spikes does not wait for them
SPIKE_PATH_LATENCY = 4
#: cycles a step needs beyond max(D, spikes * D): the spike path, step turnaround (2: the registered quiet
#: test), and the datapath's stages
PIPELINE_LATENCY = SPIKE_PATH_LATENCY + 2 + DATAPATH_LATENCY
#: addresses a propagating spike must be ahead of the next step's sweep, beyond its weight stage, before that
#: sweep may start reading the bank the spike fills. None: address j's sum is written weight_stage + 2 cycles after
#: the spike's walk issues j, and the sweep issues its first address two cycles after the registered start
#: condition saw the walk at weight_stage or beyond, so each write lands at least a cycle before the sweep reads its
#: address (the whole-array proof checks it, its two-address lanes overlapping steps)
SWEEP_MARGIN = 0


def pipeline_latency(weight_tile_depth: int | None = None, neurons: int = 0, lanes: int = 1) -> int:
    """`PIPELINE_LATENCY` of an array built with `weight_tile_depth`: tiled weights (more than one
    tile per lane) add two register stages to propagation."""
    tiled = weight_tile_depth is not None and neurons * (neurons // lanes) > weight_tile_depth
    return PIPELINE_LATENCY + 2 * int(tiled)


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

    def __init__(self, spec: ArraySpec, *, inject_bug: str | None = None, weight_ram_style: str | None = None,
                 weight_bit_slices: bool = False, weight_tile_depth: int | None = None,
                 acc_ram_style: str | None = None, datapath=None, latency: int = DATAPATH_LATENCY):
        """Synthesis options (the behaviour is the same with any of them):

        - `weight_ram_style`: hint for the weight memories (`"huge"`: the iCE40 UP5K's SPRAM);
        - `weight_bit_slices`: store each weight bit in its own memory, so that a deep weight
          memory is tiled in depth by 1-bit-wide RAMs (a 4:1 read multiplexer where 9-bit-wide ones
          need 32:1: what lets an ECP5 run propagation at 100 MHz);
        - `weight_tile_depth`: split deep weight memories into tiles of this many words (a power
          of two: one block RAM each), each read registered next to its RAM before the tiles are
          multiplexed, and the address registered per lane in front of them; two more cycles of
          propagation latency, and no long routes into or out of the RAMs (what an ECP5 at
          100 MHz needs for 64K-deep weights);
        - `acc_ram_style`: hint for the accumulators (`"distributed"`: ECP5 LUT RAM, whose read
          is fast enough for the read-modify-write of propagation at 100 MHz).
        """
        if not 1 <= latency <= DATAPATH_LATENCY:
            raise ValueError(f"latency must be 1..{DATAPATH_LATENCY}, not {latency}")
        # the datapath's stages (`DATAPATH_LATENCY`, what every build uses; a shorter pipeline for the
        # whole-array proof, which then reaches more timesteps in the same number of cycles)
        self.latency = latency
        if inject_bug is not None and inject_bug not in BUGS + DATAPATH_BUGS:
            raise ValueError(f"unknown bug {inject_bug!r}; one of {', '.join(BUGS + DATAPATH_BUGS)}")
        self.spec = spec
        self.inject_bug = inject_bug
        self.weight_ram_style = weight_ram_style
        self.weight_bit_slices = weight_bit_slices
        if weight_tile_depth is not None and (weight_tile_depth < 2 or weight_tile_depth & (weight_tile_depth - 1)):
            raise ValueError(f"weight_tile_depth must be a power of two, not {weight_tile_depth}")
        self.weight_tile_depth = weight_tile_depth
        self.acc_ram_style = acc_ram_style
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
        # read by the whole-array proof (formal/whole_array.py), which checks what each datapath is fed and
        # what becomes of its updates: the datapaths (`datapaths`, made when first asked for, so that an
        # array never elaborated leaves no unused datapath behind), and the write-back of an update
        # (`datapath`: another component with the same ports in each lane's place, for that proof)
        self._datapath = datapath
        self._datapaths = None
        self.write_back = Signal()
        self.write_back_index = Signal(bits_for(spec.depth))
        # and whether a step's sweep starts while a spike of the step before still fills the bank it reads
        self.overlap = Signal()

    @property
    def datapaths(self) -> list:
        """Each lane's datapath (a `NeuronDatapath`, or what `datapath=` makes)."""
        if self._datapaths is None:
            self._datapaths = [
                self._datapath() if self._datapath is not None else
                NeuronDatapath(self.spec, latency=self.latency, registered_memories=True,
                               inject_bug=self.inject_bug if self.inject_bug in DATAPATH_BUGS else None)
                for _ in range(self.spec.lanes)
            ]
        return self._datapaths

    def elaborate(self, platform):
        m = Module()
        spec = self.spec
        lanes, depth = spec.lanes, spec.depth
        index_bits = bits_for(depth)

        # -- step control ------------------------------------------------------------------------
        remaining = Signal(16)
        # registered tests of `remaining` (!= 0, == 1): a 16-bit compare in the step logic was the
        # slowest path on an iCE40
        running = Signal()
        last_step = Signal()
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
        m.d.comb += idle.eq(~running & ~clearing)
        # a configuration write is registered, then done the next cycle: memory addresses and
        # enables then come from registers, not from whoever drives the cfg stream
        cfg = Signal.like(self.cfg.payload, name="cfg_held")
        cfg_write = Signal()  # the held write happens this cycle
        m.d.sync += cfg_write.eq(self.cfg.valid & self.cfg.ready)
        with m.If(self.cfg.valid & self.cfg.ready):
            m.d.sync += cfg.eq(self.cfg.payload)
        m.d.comb += [
            self.busy.eq(running),
            # a run may be accepted in the cycle a write is: the write then lands in the run's first
            # cycle, and the first read waits for it (`issue` below)
            self.run.ready.eq(idle),
            self.cfg.ready.eq(idle),
        ]

        # -- spike queues, monitor and AER FIFOs -------------------------------------------------
        queues = []
        for lane in range(lanes):
            q = SyncFIFOBuffered(width=index_bits + 1, depth=SPIKE_QUEUE_DEPTH)  # local index, step's parity
            m.submodules[f"spike_queue{lane}"] = q
            queues.append(q)
        queue_full = Signal()
        # registered (the FIFO levels feed every pipeline enable: too far to go in one cycle), so it
        # acts a cycle late; one more free entry than a same-cycle test keeps the FIFOs from overflowing
        m.d.sync += queue_full.eq(Cat(*[q.level >= SPIKE_QUEUE_DEPTH - 2 for q in queues]).any())
        monitor_full = Signal()
        if spec.monitor:
            mon_fifo = SyncFIFOBuffered(width=monitor_layout(spec).size, depth=MONITOR_FIFO_DEPTH)
            m.submodules.monitor_fifo = mon_fifo
            m.d.sync += monitor_full.eq(mon_fifo.level >= MONITOR_FIFO_DEPTH - 2)  # registered, as above
            m.d.comb += [
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
        # not while a configuration write lands: the memories' read of that cycle would see the old word
        # (found by `lapicque prove`'s whole-array property: a write taken with the run read stale parameters)
        can_issue = Signal()
        m.d.comb += can_issue.eq(issuing & ~stall & (~cfg_write | (self.inject_bug == "read_during_config_write")))
        m.d.comb += [issue.eq(can_issue & self.stim.valid), self.stim.ready.eq(can_issue)]
        valid1 = Signal()
        index1 = Signal(index_bits)
        ext1 = Signal.like(self.stim.payload)
        with m.If(~stall):
            m.d.sync += [valid1.eq(issue), index1.eq(k), ext1.eq(self.stim.payload)]
        # the datapath's own stages follow S1; valid and index travel alongside to write-back
        valids, indices = [valid1], [index1]
        for stage in range(2, self.latency + 2):
            valids.append(Signal(name=f"valid{stage}"))
            indices.append(Signal(index_bits, name=f"index{stage}"))
            with m.If(~stall):
                m.d.sync += [valids[-1].eq(valids[-2]), indices[-1].eq(indices[-2])]
        in_flight = Signal()
        m.d.comb += in_flight.eq(Cat(*valids).any())
        valid_wb, index_wb = valids[-1], indices[-1]
        with m.If(issue):
            m.d.sync += k.eq(k + 1)
            with m.If(k == depth - 1):
                m.d.sync += [issuing.eq(0), k.eq(0)]
        write_back = self.write_back
        m.d.comb += [write_back.eq(valid_wb & ~stall), self.write_back_index.eq(index_wb)]

        # -- propagation engine ------------------------------------------------------------------
        prop_busy = Signal()
        src = Signal(bits_for(spec.neurons))
        j = Signal(index_bits, name="target_index")
        # propagation pipeline: weight read issued (stage 0), weight data registered and the
        # accumulator read issued (stage 1), accumulator + weight written back (stage 2)
        weight_depth = spec.neurons * depth
        tile_depth = min(self.weight_tile_depth or weight_depth, weight_depth)
        tiles = -(-weight_depth // tile_depth)
        # with tiles, the weight arrives two cycles later (the address is registered in front of
        # the RAMs, their reads behind them): the accumulate stages move back by two
        weight_stage = 3 if tiles > 1 else 1
        prop_valids = [Signal(name=f"prop_valid{s}") for s in range(1, weight_stage + 2)]
        prop_js = [Signal(index_bits, name=f"prop_j{s}") for s in range(1, weight_stage + 2)]
        acc_read_j = prop_js[weight_stage - 1]
        acc_write_valid, acc_write_j = prop_valids[weight_stage], prop_js[weight_stage]
        can_pop = Signal()
        m.d.comb += can_pop.eq((~prop_busy | (j == depth - 1)) & (aer_fifo.level < AER_FIFO_DEPTH - 1))
        pop_any = Signal()
        pop_neuron = Signal.like(src)
        pop_parity = Signal()  # the parity of the step whose update made the spike
        # `filled[b]`: bank b holds the sums of its step's spikes so far. The first spike a step propagates writes
        # its weights over the bank's old contents (every spike writes every address), so nothing clears a bank;
        # a bank no spike wrote reads as 0. A sweep's start empties the bank the previous sweep read.
        filled = Signal(2)
        pop_first = Signal()
        with m.If(can_pop):
            # the lowest-numbered lane with a queued spike goes first; order does not change the sums
            for lane in reversed(range(lanes)):
                with m.If(queues[lane].r_rdy):
                    m.d.comb += [pop_any.eq(1), pop_neuron.eq(queues[lane].r_data[:index_bits] * lanes + lane),
                                 pop_parity.eq(queues[lane].r_data[index_bits])]
            for lane in range(lanes):
                earlier = Cat(*[queues[x].r_rdy for x in range(lane)]).any() if lane else Const(0)
                m.d.comb += queues[lane].r_en.eq(queues[lane].r_rdy & ~earlier)
        # the bank the spike fills (its step's parity flipped) and whether it is that bank's first, along the stages
        prop_bank, prop_first = Signal(), Signal()
        prop_banks = [Signal(name=f"prop_bank{s}") for s in range(1, weight_stage + 2)]
        prop_firsts = [Signal(name=f"prop_first{s}") for s in range(1, weight_stage + 2)]
        m.d.sync += [prop_valids[0].eq(prop_busy), prop_js[0].eq(j), prop_banks[0].eq(prop_bank),
                     prop_firsts[0].eq(prop_first)]
        for stage in range(1, len(prop_valids)):
            m.d.sync += [prop_valids[stage].eq(prop_valids[stage - 1]), prop_js[stage].eq(prop_js[stage - 1]),
                         prop_banks[stage].eq(prop_banks[stage - 1]), prop_firsts[stage].eq(prop_firsts[stage - 1])]
        acc_write_bank = prop_banks[weight_stage]
        acc_write_first = prop_firsts[weight_stage]
        with m.If(prop_busy):
            m.d.sync += j.eq(j + 1)
        m.d.comb += pop_first.eq(~filled.bit_select(~pop_parity, 1) & (self.inject_bug != "accumulator_not_cleared"))
        with m.If(pop_any):
            m.d.sync += [prop_busy.eq(1), src.eq(pop_neuron), j.eq(0), prop_bank.eq(~pop_parity),
                         prop_first.eq(pop_first), filled.bit_select(~pop_parity, 1).eq(1)]
        with m.Elif(prop_busy & (j == depth - 1)):
            m.d.sync += [prop_busy.eq(0), j.eq(0)]
        m.d.comb += [
            aer_fifo.w_en.eq(pop_any & ~((self.inject_bug == "spike_event_lost") & (pop_neuron == 0))),
            # a queued spike is of the step being swept or of the one before (whose last spike may still be
            # propagating while the next step's sweep runs)
            aer_fifo.w_data.eq(Cat(Mux(pop_parity == parity, self.timestep, (self.timestep - 1)[:TIMESTEP_BITS]),
                                    pop_neuron)),
        ]
        # one address for the weight memories' read and write ports: writes (cfg, idle) and reads
        # (propagation, running) never coincide, and a single-port memory maps to SPRAM on the UP5K
        weight_addr = Signal(bits_for(weight_depth))
        m.d.comb += weight_addr.eq(Mux(cfg_write, cfg.addr, src * depth + j))

        # -- per-lane memories and datapaths ------------------------------------------------------
        mon_lanes = []
        for lane in range(lanes):
            cfg_here = cfg_write & (cfg.lane == lane)
            # state and parameters: read data registered in the RAM (the datapath's first cut; on
            # an ECP5 the EBR's own output register)
            state_mem = RegisteredRAM(state_layout(spec), depth)
            param_mem = RegisteredRAM(param_layout(spec), depth)
            m.submodules[f"state_mem{lane}"] = state_mem
            m.submodules[f"param_mem{lane}"] = param_mem
            m.d.comb += [
                state_mem.r_addr.eq(k), state_mem.r_en.eq(~stall), state_mem.o_en.eq(~stall),
                param_mem.r_addr.eq(k), param_mem.r_en.eq(~stall), param_mem.o_en.eq(~stall),
                param_mem.w_addr.eq(cfg.addr), param_mem.w_data.eq(cfg.data),
                param_mem.w_en.eq(cfg_here & (cfg.target == CFG_PARAM)),
            ]

            # weights: one memory, or one per bit; either way a single address port (see above)
            weight_attrs = {"ram_style": self.weight_ram_style} if self.weight_ram_style else None
            slices = ([(bit, unsigned(1)) for bit in range(spec.widths.w)] if self.weight_bit_slices
                      else [(None, signed(spec.widths.w))])
            weight_read = []
            tile_bits = bits_for(tile_depth)
            weight_we = Signal(name=f"weight_we{lane}")
            m.d.comb += weight_we.eq(cfg_here & (cfg.target == CFG_WEIGHT))
            address, write, write_data = weight_addr, weight_we, cfg.data[:spec.widths.w]
            if tiles > 1:
                # registered per lane in front of the tiles: no net from one register to every RAM
                address = Signal.like(weight_addr, name=f"weight_addr{lane}")
                write = Signal(name=f"weight_we{lane}_q")
                write_data = Signal(spec.widths.w, name=f"weight_data{lane}")
                m.d.sync += [address.eq(weight_addr), write.eq(weight_we), write_data.eq(cfg.data[:spec.widths.w])]
            tile_of_read = Signal(range(tiles), name=f"weight_tile{lane}")  # the tile whose data is in
            m.d.sync += tile_of_read.eq(address >> tile_bits if tiles > 1 else 0)
            for bit, shape in slices:
                tile_data = []
                for tile in range(tiles):
                    name = (f"weight_mem{lane}" + ("" if bit is None else f"_bit{bit}")
                            + (f"_t{tile}" if tiles > 1 else ""))
                    words = min(tile_depth, weight_depth - tile * tile_depth)
                    here = (address >> tile_bits) == tile if tiles > 1 else Const(1)
                    if tiles > 1:
                        # the read registered in the RAM itself (on an ECP5 the EBR's own output register):
                        # a register of the fabric meant to sit beside it was once placed 87 columns away
                        ram = RegisteredRAM(shape, words)
                        m.submodules[name] = ram
                        m.d.comb += [
                            ram.r_addr.eq(address), ram.w_addr.eq(address), ram.r_en.eq(1), ram.o_en.eq(1),
                            ram.w_data.eq(write_data if bit is None else write_data[bit]), ram.w_en.eq(write & here),
                        ]
                        tile_data.append(ram.r_data)
                        continue
                    mem = Memory(shape=shape, depth=words, init=[], attrs=weight_attrs)
                    m.submodules[name] = mem
                    wp, rp = mem.write_port(), mem.read_port()
                    m.d.comb += [
                        rp.addr.eq(address), wp.addr.eq(address),
                        wp.data.eq(write_data if bit is None else write_data[bit]),
                        wp.en.eq(write & here),
                    ]
                    if self.weight_ram_style == "huge":
                        # no read while writing: the read data holds, as a single-port SPRAM's does
                        m.d.comb += rp.en.eq(~cfg_write)
                    tile_data.append(rp.data)
                if tiles > 1:
                    tile_held = Signal.like(tile_of_read, name=f"{name}_sel")
                    m.d.sync += tile_held.eq(tile_of_read)
                    chosen = Signal(shape, name=f"weight{lane}_{'w' if bit is None else bit}")
                    with m.Switch(tile_held):
                        for tile, value in enumerate(tile_data):
                            with m.Case(tile):
                                m.d.comb += chosen.eq(value)
                    weight_read.append(chosen)
                else:
                    weight_read.append(tile_data[0])
            weight = Signal(signed(spec.widths.w), name=f"weight{lane}")  # registered
            m.d.sync += weight.eq(Cat(*weight_read))

            # double-buffered accumulators: bank `parity` is read by the update side, the other receives this
            # step's spikes (read-modify-write; a step's first spike writes its weights over the old contents).
            # The last spike of a step may still be filling the bank the next step's sweep reads: the sweep starts
            # behind it (`may_advance`) and each bank has a read port per side (block RAMs are duplicated for
            # it), at a fixed address, so no address multiplexer stands between a register and the RAM.
            acc_r_update, acc_r_prop = [], []
            acc_for_update = Signal(signed(spec.acc_bits), name=f"acc_in{lane}")
            acc_for_prop = Signal(signed(spec.acc_bits), name=f"acc_old{lane}")
            for bank in range(2):
                acc_attrs = {"ram_style": self.acc_ram_style} if self.acc_ram_style else None
                mem = Memory(shape=signed(spec.acc_bits), depth=depth, init=[], attrs=acc_attrs)
                m.submodules[f"acc_mem{lane}_{bank}"] = mem
                wp = mem.write_port()
                # read-modify-write of the same address in consecutive cycles (one neuron per lane)
                # needs the new value: forwarded here from a register, not by a transparent port,
                # so that the RAM's read data is registered right at the RAM whatever the RAM
                rp = mem.read_port()
                forward = Signal(name=f"acc_fwd{lane}_{bank}")
                forward_data = Signal(signed(spec.acc_bits), name=f"acc_fwd_data{lane}_{bank}")
                m.d.sync += [forward.eq(wp.en & (wp.addr == rp.addr)), forward_data.eq(wp.data)]
                rp_update = mem.read_port()
                m.d.comb += [rp_update.addr.eq(k), rp_update.en.eq(~stall), rp.addr.eq(acc_read_j)]
                with m.If(clearing):
                    m.d.comb += [wp.addr.eq(clear_index), wp.data.eq(0), wp.en.eq(1)]
                with m.Else():
                    m.d.comb += [wp.addr.eq(acc_write_j),
                                 wp.data.eq(Mux(acc_write_first, 0, acc_for_prop) + weight),
                                 wp.en.eq(acc_write_valid & (acc_write_bank == bank))]
                read = Signal(signed(spec.acc_bits), name=f"acc_read{lane}_{bank}")
                m.d.comb += read.eq(Mux(forward, forward_data, rp.data))
                acc_r_update.append(Mux(filled[bank], rp_update.data, 0))
                acc_r_prop.append(read)
            m.d.comb += [
                acc_for_update.eq(Mux(parity ^ (self.inject_bug == "accumulator_bank_swapped"),
                                      acc_r_update[1], acc_r_update[0])),
                acc_for_prop.eq(Mux(acc_write_bank, acc_r_prop[1], acc_r_prop[0])),
            ]

            dp = self.datapaths[lane]
            m.submodules[f"datapath{lane}"] = dp
            m.d.comb += [
                dp.en.eq(~stall),
                dp.state.eq(state_mem.r_data),
                dp.params.eq(param_mem.r_data),
                dp.acc.eq(acc_for_update),
                dp.ext.eq(ext1[lane]),
            ]
            with m.If(cfg_write):
                m.d.comb += [
                    state_mem.w_addr.eq(cfg.addr), state_mem.w_data.eq(cfg.data),
                    state_mem.w_en.eq(cfg_here & (cfg.target == CFG_STATE)),
                ]
            with m.Else():
                # valid_wb, not write_back: a stalled write-back holds its index and state, so writing
                # them again is harmless, and the stall (the FIFO levels, far away) stays off the
                # paths into the state RAM's write port
                m.d.comb += [state_mem.w_addr.eq(index_wb), state_mem.w_data.eq(dp.update.state),
                             state_mem.w_en.eq(valid_wb)]
            queue = queues[lane]
            m.d.comb += [queue.w_en.eq(write_back & dp.update.spike), queue.w_data.eq(Cat(index_wb, parity))]
            mon_lanes.append(dp.update)

        cycle = Signal(32)
        m.d.sync += cycle.eq(cycle + 1)
        if spec.monitor:
            m.d.comb += [
                mon_fifo.w_en.eq(write_back),
                mon_fifo.w_data.eq(Cat(cycle, self.timestep, index_wb, *mon_lanes)),
            ]

        # -- step sequencing -----------------------------------------------------------------------
        # A step's sweep may start once the previous one's updates are all written back and its spikes all
        # taken from the queues (none of a step is left to take when the next one's come), and the spike being
        # propagated, if any, is `SWEEP_MARGIN` addresses ahead: each of its writes then lands before the sweep
        # reads the address (both move one address a cycle, and the sweep never faster). The run's last step ends
        # when everything is quiet. Both conditions are registered (they gather the FIFO levels and every stage's
        # valid, too slow to feed the step counters directly); a step or a run that starts in a cycle makes the
        # next cycle's registered values stale, so `fresh` masks them.
        quiet = Signal()
        may_advance = Signal()
        fresh = Signal()
        queues_empty = Cat(*[q.level == 0 for q in queues]).all()
        sweep_over = ~issuing & ~in_flight
        prop_writing = Cat(*prop_valids).any()  # a propagated spike's last sums are on their way to the RAM
        m.d.sync += [
            quiet.eq(sweep_over & ~prop_busy & ~prop_writing & queues_empty),
            may_advance.eq(sweep_over & queues_empty
                           & Mux(prop_busy, j >= min(SWEEP_MARGIN + weight_stage, depth), ~prop_writing)),
        ]
        step_done = Signal()  # a step ends: the next one's sweep starts, or the run ends
        m.d.comb += [step_done.eq(running & ~fresh & Mux(last_step, quiet, may_advance)),
                     self.overlap.eq(step_done & ~last_step & (prop_busy | prop_writing))]
        m.d.sync += fresh.eq(step_done | (self.run.valid & self.run.ready))
        with m.If(self.run.valid & self.run.ready & (self.run.payload != 0)):
            m.d.sync += [remaining.eq(self.run.payload), issuing.eq(1), k.eq(0), running.eq(1),
                         last_step.eq(self.run.payload == 1), filled.bit_select(~parity, 1).eq(0)]
        with m.If(step_done):
            m.d.sync += [self.timestep.eq(self.timestep + 1), parity.eq(~parity), remaining.eq(remaining - 1),
                         last_step.eq(remaining == 2)]
            with m.If(last_step):
                m.d.sync += running.eq(0)
            with m.Else():
                # the sweep of the bank `parity` read is over: it is empty until the next step's first spike
                m.d.sync += [issuing.eq(1), k.eq(0), filled.bit_select(parity, 1).eq(0)]

        # -- performance counters ----------------------------------------------------------------
        events = {
            "cycles": Const(1),
            "busy_cycles": self.busy,
            "update_cycles": issuing | in_flight,
            "propagate_cycles": prop_busy,
            "stall_queue_full": (issuing | in_flight) & queue_full,
            "stall_monitor_full": (issuing | in_flight) & monitor_full,
            "stim_starved": can_issue & ~self.stim.valid,
            "spike_backpressure": self.spikes.valid & ~self.spikes.ready,
            "monitor_backpressure": (self.monitor.valid & ~self.monitor.ready) if spec.monitor else Const(0),
        }
        for name in STAT_NAMES:
            counter = getattr(self.stats, name)
            with m.If(events[name]):
                m.d.sync += counter.eq(counter + 1)
        return m

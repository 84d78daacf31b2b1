"""Properties of the stream width converters: nothing lost, duplicated, reordered or changed, no deadlock.

Each harness drives a converter from free top-level inputs (every valid, payload and ready, every
cycle) under the stream protocol's one assumption on the producer: a beat offered is held, unchanged,
until it is taken. The items the producer sends are numbered: item n carries `(key + n) mod 2**bits`,
`key` free but fixed for the run, so every bit of an item takes both values while the numbering
makes any loss, duplicate or reordering show as a wrong value at the consumer. Asserted, every cycle:

- a beat the converter offers is held, unchanged, until the consumer takes it (valid until ready);
- every item taken out is the next one in the producer's order (none lost, duplicated, reordered or
  altered; a partial beat of the packer holds exactly the items it says);
- no deadlock: a converter holding items offers them (the unpacker at once; the packer once it is
  full or told to flush), and one holding nothing takes input.

Covers show the interesting states reachable: back-pressure on each side, a full and a partial
wide beat, a wide beat taken in the cycle the previous one's last item leaves, several beats
through. Proved by k-induction (`STREAM_DEPTH` steps; the invariants that make it inductive are
asserted too: the converter holds exactly the next items, in order), so for every cycle of every
run, not only a bounded one. No fairness assumption is needed: the consumer's ready is free, and
progress is asserted for the cycles it is high.
"""

from __future__ import annotations

from amaranth.hdl import Assert, Assume, Cover, Module, ResetSignal, Signal, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from lapicque.hdl.layouts import unpack
from lapicque.hdl.streams import StreamPacker, StreamUnpacker, packed_layout

#: the induction's depth: the base case checks the first cycles, the step every later one
STREAM_DEPTH = 4


class _Numbered:
    """Item numbering shared by the harnesses: item n is `(key + n) mod 2**bits`."""

    def __init__(self, key, bits: int, name: str):
        self.bits = bits
        self.count = Signal(bits, name=f"{name}_count")  # items so far, modulo 2**bits
        self.key = key

    def item(self, offset=0):
        return (self.key + self.count + offset)[: self.bits]


def _stable_key(m: Module, key) -> None:
    """`key` is free in the first cycle and fixed afterwards."""
    first = Signal(init=1, name="first_cycle")
    held = Signal.like(key, name="key_held")
    m.d.sync += [first.eq(0), held.eq(key)]
    with m.If(~first):
        m.d.comb += Assume(key == held)


def _held_until_taken(m: Module, valid, ready, payload, name: str):
    """(was offered and not taken last cycle, the payload then): for valid-until-ready checks."""
    waiting = Signal(name=f"{name}_waiting")
    previous = Signal.like(payload, name=f"{name}_previous")
    m.d.sync += [waiting.eq(valid & ~ready), previous.eq(payload)]
    return waiting, previous


class UnpackerProperties(wiring.Component):
    """`StreamUnpacker(count)` with items of `bits` bits between a free producer and a free consumer."""

    def __init__(self, count: int = 3, bits: int = 4, *, inject_bug: str | None = None, checks: bool = True):
        self.count, self.bits, self.inject_bug, self.checks = count, bits, inject_bug, checks
        super().__init__({
            "key": In(bits),
            "wide_valid": In(1),
            "narrow_ready": In(1),
            # what the consumer sees, and the item it should see next (for a counterexample's table)
            "narrow_valid": Out(1),
            "narrow_payload": Out(bits),
            "expected_item": Out(bits),
        })

    def explain(self, trace: list[dict[str, int]]) -> dict:
        """A replayed counterexample's table (formal.prove.replay)."""
        return _explain(trace, ("key", "wide_valid", "narrow_ready"), "narrow", _unpacker_rows)

    def elaborate(self, platform):
        m = Module()
        count, bits = self.count, self.bits
        m.submodules.dut = dut = StreamUnpacker(unsigned(bits), count, inject_bug=self.inject_bug)
        sent = _Numbered(self.key, bits, "sent")  # items the producer has handed over
        taken = _Numbered(self.key, bits, "taken")  # items the consumer has taken
        m.d.comb += [
            dut.wide.valid.eq(self.wide_valid),
            dut.wide.payload.eq(sum((sent.item(j) << (bits * j) for j in range(count)), 0)),
            dut.narrow.ready.eq(self.narrow_ready),
            self.narrow_valid.eq(dut.narrow.valid),
            self.narrow_payload.eq(dut.narrow.payload),
            self.expected_item.eq(taken.item()),
        ]
        wide_taken = dut.wide.valid & dut.wide.ready
        narrow_taken = dut.narrow.valid & dut.narrow.ready
        with m.If(wide_taken):
            m.d.sync += sent.count.eq(sent.count + count)
        with m.If(narrow_taken):
            m.d.sync += taken.count.eq(taken.count + 1)
        if not self.checks:
            return m
        m.d.comb += Assume(~ResetSignal("sync"))
        _stable_key(m, self.key)
        # the producer's side of the protocol: an offered wide beat stays until taken (its payload is the
        # numbering's next items, unchanged while it waits)
        wide_waiting, _ = _held_until_taken(m, dut.wide.valid, dut.wide.ready, dut.wide.payload, "wide")
        with m.If(wide_waiting):
            m.d.comb += Assume(dut.wide.valid)
        held = Signal(range(2 * count + 1), name="items_inside")  # items taken in, not yet out
        m.d.sync += held.eq(held + wide_taken * count - narrow_taken)
        narrow_waiting, narrow_previous = _held_until_taken(m, dut.narrow.valid, dut.narrow.ready,
                                                            dut.narrow.payload, "narrow")
        with m.If(narrow_waiting):
            m.d.comb += Assert(dut.narrow.valid & (dut.narrow.payload == narrow_previous))
        with m.If(narrow_taken):
            m.d.comb += Assert(dut.narrow.payload == taken.item())
        m.d.comb += [
            Assert(held <= count),
            Assert(dut.narrow.valid == (held != 0)),  # items inside are offered at once
            Assert(dut.wide.ready | (held != 0)),  # an empty converter takes input
        ]
        # the induction's invariant: the converter holds exactly the next `held` items, in order
        m.d.comb += [Assert(dut.left == held), Assert(sent.count == (taken.count + held)[:bits])]
        for j in range(count):
            with m.If(j < held):
                m.d.comb += Assert(dut.held[bits * j:][:bits] == taken.item(j))
        last_out = Signal(name="last_item_left")
        m.d.comb += last_out.eq(narrow_taken & (held == 1))
        beats_out = Signal(range(4), name="wide_beats_emptied")
        with m.If(last_out & (beats_out != 3)):
            m.d.sync += beats_out.eq(beats_out + 1)
        m.d.comb += [
            Cover(dut.narrow.valid & ~dut.narrow.ready),  # back-pressure from the consumer
            Cover(dut.wide.valid & ~dut.wide.ready),  # back-pressure on the producer
            Cover(last_out & wide_taken),  # a wide beat taken as the last item of the previous leaves
            Cover(beats_out == 3),  # three wide beats through
        ]
        return m


class PackerProperties(wiring.Component):
    """`StreamPacker(count)` with items of `bits` bits between a free producer and a free consumer, `flush` free."""

    def __init__(self, count: int = 3, bits: int = 4, *, inject_bug: str | None = None, checks: bool = True):
        self.count, self.bits, self.inject_bug, self.checks = count, bits, inject_bug, checks
        super().__init__({
            "key": In(bits),
            "narrow_valid": In(1),
            "wide_ready": In(1),
            "flush": In(1),
            # what the consumer sees, and the items it should see next (for a counterexample's table)
            "wide_valid": Out(1),
            "wide_payload": Out(packed_layout(unsigned(bits), count)),
            "expected_items": Out(data.ArrayLayout(unsigned(bits), count)),
        })

    def explain(self, trace: list[dict[str, int]]) -> dict:
        """A replayed counterexample's table (formal.prove.replay)."""
        return _explain(trace, ("key", "narrow_valid", "wide_ready", "flush"), "wide",
                        _packer_rows(self.count, self.bits))

    def elaborate(self, platform):
        m = Module()
        count, bits = self.count, self.bits
        m.submodules.dut = dut = StreamPacker(unsigned(bits), count, inject_bug=self.inject_bug)
        layout = packed_layout(unsigned(bits), count)
        sent = _Numbered(self.key, bits, "sent")
        taken = _Numbered(self.key, bits, "taken")
        m.d.comb += [
            dut.narrow.valid.eq(self.narrow_valid),
            dut.narrow.payload.eq(sent.item()),
            dut.wide.ready.eq(self.wide_ready),
            dut.flush.eq(self.flush),
            self.wide_valid.eq(dut.wide.valid),
            self.wide_payload.eq(dut.wide.payload),
            *[self.expected_items[j].eq(taken.item(j)) for j in range(count)],
        ]
        narrow_taken = dut.narrow.valid & dut.narrow.ready
        wide_taken = dut.wide.valid & dut.wide.ready
        word = dut.wide.payload
        items = word[: layout["items"].width]
        slot_bits = layout["data"].offset
        with m.If(narrow_taken):
            m.d.sync += sent.count.eq(sent.count + 1)
        with m.If(wide_taken):
            m.d.sync += taken.count.eq(taken.count + items)
        if not self.checks:
            return m
        m.d.comb += Assume(~ResetSignal("sync"))
        _stable_key(m, self.key)
        narrow_waiting, _ = _held_until_taken(m, dut.narrow.valid, dut.narrow.ready, dut.narrow.payload, "narrow")
        with m.If(narrow_waiting):
            m.d.comb += Assume(dut.narrow.valid)
        held = Signal(range(count + 2), name="items_inside")
        m.d.sync += held.eq(held + narrow_taken - wide_taken * items)
        wide_waiting, wide_previous = _held_until_taken(m, dut.wide.valid, dut.wide.ready, word, "wide")
        with m.If(wide_waiting):
            m.d.comb += Assert(dut.wide.valid & (word == wide_previous))
        with m.If(wide_taken):
            # the beat holds `items` items (the invariant below says which)
            m.d.comb += Assert((items >= 1) & (items <= count))
        # no deadlock: a full packer offers its beat; one told to flush offers what it holds a cycle later;
        # one offering nothing takes input
        # (an item arriving in the same cycle as the flush goes in first)
        flushing = Signal(name="flush_pending")
        m.d.sync += flushing.eq(self.flush & (held != 0) & ~dut.wide.valid & ~dut.narrow.valid)
        m.d.comb += [
            Assert(held <= count),
            Assert(dut.wide.valid | (held < count)),
            Assert(dut.wide.valid | ~flushing),
            Assert(dut.narrow.ready | dut.wide.valid),
        ]
        # the induction's invariant: the word holds exactly the next `held` items, oldest first, in the top
        # slots, whether offered yet or not
        m.d.comb += [Assert(items == held), Assert(sent.count == (taken.count + held)[:bits])]
        with m.If(dut.wide.valid):
            m.d.comb += Assert(held != 0)
        for slot in range(count):
            for j in range(count):
                with m.If((j < held) & (slot == count - held + j)):
                    m.d.comb += Assert(word[slot_bits + bits * slot:][:bits] == taken.item(j))
        beats_out = Signal(range(4), name="wide_beats_out")
        with m.If(wide_taken & (beats_out != 3)):
            m.d.sync += beats_out.eq(beats_out + 1)
        m.d.comb += [
            Cover(wide_taken & (items == count)),  # a full beat
            Cover(wide_taken & (items == 1)),  # a flushed beat of one item
            Cover(dut.wide.valid & ~dut.wide.ready & dut.narrow.valid),  # back-pressure reaching the producer
            Cover(beats_out == 3),  # three wide beats through
        ]
        return m


def _explain(trace: list[dict[str, int]], inputs: tuple[str, ...], side: str, outputs, last: int = 4) -> dict:
    """A counterexample's table: the free inputs of the last `last` steps, the converter's `side` output
    held until taken, and `outputs(t, values)` (rows of signal, expected, got) at each of them."""
    steps = range(max(0, len(trace) - last), len(trace))
    rows = [{"signal": f"step {t}: {name}", "value": trace[t][name]} for t in steps for name in inputs]
    out = []
    for t in steps:
        previous = trace[t - 1] if t else None
        if previous is not None and previous[f"{side}_valid"] and not previous[f"{side}_ready"]:
            # offered and not taken a cycle ago: still offered now (valid until ready)
            out.append({"signal": f"step {t}: {side}.valid", "expected": 1, "got": trace[t][f"{side}_valid"]})
        out += outputs(t, trace[t])
    return {"step": len(trace) - 1, "inputs": rows, "outputs": out,
            "differs": [o["signal"] for o in out if o["expected"] != o["got"]]}


def _unpacker_rows(t: int, values: dict) -> list[dict]:
    if not values["narrow_valid"]:
        return []
    return [{"signal": f"step {t}: narrow.payload", "expected": values["expected_item"],
             "got": values["narrow_payload"]}]


def _packer_rows(count: int, bits: int):
    layout = packed_layout(unsigned(bits), count)

    def rows(t: int, values: dict) -> list[dict]:
        if not values["wide_valid"]:
            return []
        beat = unpack(layout, values["wide_payload"])
        items, slots = beat["items"], beat["data"]
        expected = unpack(data.ArrayLayout(unsigned(bits), count), values["expected_items"])
        out = [{"signal": f"step {t}: wide.items", "expected": items if 1 <= items <= count else f"1..{count}",
                "got": items}]
        for j in range(min(items, count)):
            out.append({"signal": f"step {t}: item {j} (slot {count - items + j})", "expected": expected[j],
                        "got": slots[count - items + j]})
        return out

    return rows


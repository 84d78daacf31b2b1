"""The host side of the UART bridge: encode commands, parse records, drive a board.

The protocol is defined in `lapicque.hdl.bridge` (and docs/protocol.md); this module is its one
Python implementation, used by `lapicque run`, by the co-simulation test (the same bytes drive the
simulated board top) and by anyone scripting a board::

    from lapicque.boards.host import ArrayLink
    link = ArrayLink.open("/dev/ttyUSB1", spec)        # pyserial underneath
    link.load(initial_state)                           # parameters, state, every weight
    link.watch([0, 5])                                 # up to WATCH_SLOTS neurons
    result = link.run(100)                             # spikes (timestep, neuron) and watched states
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from lapicque.errors import LapicqueError
from lapicque.hdl.bridge import (
    CMD_CFG,
    CMD_IDENT,
    CMD_RUN,
    CMD_SYNC,
    CMD_WATCH,
    CMD_WEIGHT_ROW,
    MAGIC,
    PROTOCOL_VERSION,
    REC_DONE,
    REC_IDENT,
    REC_SPIKE,
    REC_STATE,
    REC_SYNC,
    WATCH_SLOTS,
    cfg_bytes,
    datapath_from_code,
    record_lengths,
    weight_bytes,
)
from lapicque.hdl.layouts import cfg_word, neuron_writes, state_layout, unpack
from lapicque.spec import ArraySpec

from .board import DEFAULT_BAUD

MAX_STEPS_PER_COMMAND = (1 << 16) - 1


class ProtocolError(LapicqueError):
    """The board said something the protocol does not allow, or nothing at all."""


# -- commands ------------------------------------------------------------------------------------


def ident_command() -> bytes:
    return bytes([CMD_IDENT])


def sync_command(token: int) -> bytes:
    return bytes([CMD_SYNC, token & 0xFF])


def cfg_command(spec: ArraySpec, write: tuple[int, int, int, int]) -> bytes:
    return bytes([CMD_CFG]) + cfg_word(spec, write).to_bytes(cfg_bytes(spec), "little")


def weight_row_command(spec: ArraySpec, src: int) -> bytes:
    size = weight_bytes(spec)
    mask = (1 << (8 * size)) - 1
    row = b"".join((int(w) & mask).to_bytes(size, "little") for w in spec.weights[src])
    return bytes([CMD_WEIGHT_ROW]) + struct.pack("<H", src) + row


def watch_command(slot: int, neuron: int, on: bool = True) -> bytes:
    if not 0 <= slot < WATCH_SLOTS:
        raise ValueError(f"watch slot must be 0..{WATCH_SLOTS - 1}, not {slot}")
    return bytes([CMD_WATCH]) + struct.pack("<BHB", slot, neuron, int(on))


def watch_commands(neurons) -> bytes:
    """Watch `neurons` (at most WATCH_SLOTS), clearing the other slots."""
    neurons = [int(n) for n in neurons]
    if len(neurons) > WATCH_SLOTS:
        raise LapicqueError(f"a board watches at most {WATCH_SLOTS} neurons at once, not {len(neurons)}")
    return b"".join(watch_command(k, neurons[k] if k < len(neurons) else 0, k < len(neurons))
                    for k in range(WATCH_SLOTS))


def run_command(steps: int) -> bytes:
    if not 0 <= steps <= MAX_STEPS_PER_COMMAND:
        raise ValueError(f"steps per run command must be 0..{MAX_STEPS_PER_COMMAND}, not {steps}")
    return bytes([CMD_RUN]) + struct.pack("<H", steps)


def load_commands(spec: ArraySpec, state) -> bytes:
    """Every parameter, the state and every weight (row by row), as one byte string."""
    out = [cfg_command(spec, w) for w in neuron_writes(spec, state)]
    out += [weight_row_command(spec, src) for src in range(spec.neurons)]
    return b"".join(out)


# -- records -------------------------------------------------------------------------------------


@dataclass
class Record:
    tag: str  # "ident", "spike", "state", "done", "sync", "error"
    fields: dict


class RecordParser:
    """Turns the board's byte stream into records; feed it bytes as they come."""

    def __init__(self, spec: ArraySpec):
        self.spec = spec
        self.lengths = record_lengths(spec)
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[Record]:
        self.buffer += data
        records = []
        while self.buffer:
            tag = self.buffer[0]
            length = self.lengths.get(tag)
            if length is None:
                raise ProtocolError(f"unexpected byte 0x{tag:02x} from the board; is it running a lapicque bitstream?")
            if len(self.buffer) < length:
                break
            body = bytes(self.buffer[1:length])
            del self.buffer[:length]
            records.append(self._decode(tag, body))
        return records

    def _decode(self, tag: int, body: bytes) -> Record:
        if tag == REC_SPIKE:
            timestep, neuron = struct.unpack("<IH", body)
            return Record("spike", {"timestep": timestep, "neuron": neuron})
        if tag == REC_STATE:
            timestep, neuron = struct.unpack("<IH", body[:6])
            state = unpack(state_layout(self.spec), int.from_bytes(body[6:], "little"))
            return Record("state", {"timestep": timestep, "neuron": neuron, **state})
        if tag == REC_DONE:
            timestep, busy_cycles = struct.unpack("<II", body)
            return Record("done", {"timestep": timestep, "busy_cycles": busy_cycles})
        if tag == REC_IDENT:
            magic, version, neurons, lanes, *widths, slots, datapath = struct.unpack("<3sBHB6BBB", body)
            names = ("v", "i", "w", "bias", "ext", "refractory")
            return Record("ident", {"magic": magic, "version": version, "neurons": neurons or 1 << 16,
                                    "lanes": lanes, "widths": dict(zip(names, widths, strict=True)),
                                    "watch_slots": slots, **datapath_from_code(datapath)})
        if tag == REC_SYNC:
            return Record("sync", {"token": body[0]})
        return Record("error", {"byte": body[0]})


@dataclass
class RunResult:
    """What a run sent back: spikes as (timestep, neuron) rows, watched states, final counters."""

    spikes: np.ndarray
    states: list[dict] = field(default_factory=list)
    timestep: int = 0
    busy_cycles: int = 0


def run_result(records: list[Record]) -> RunResult:
    """A run's spikes, watched states and last done record, gathered from its records."""
    spikes = [(r.fields["timestep"], r.fields["neuron"]) for r in records if r.tag == "spike"]
    done = [r.fields for r in records if r.tag == "done"]
    return RunResult(np.array(spikes, dtype=np.int64).reshape(-1, 2),
                     [r.fields for r in records if r.tag == "state"], **(done[-1] if done else {}))


def check_ident(spec: ArraySpec, ident: dict) -> None:
    """Refuse a board whose bitstream was built for another array."""
    if ident["magic"] != MAGIC:
        raise ProtocolError("the board did not identify as a lapicque array; check the port and the bitstream")
    if ident["version"] != PROTOCOL_VERSION:
        raise ProtocolError(f"the board speaks protocol {ident['version']}, this host {PROTOCOL_VERSION}; "
                            "rebuild the bitstream with this lapicque")
    w = spec.widths
    want = {"neurons": spec.neurons, "lanes": spec.lanes,
            "widths": {"v": w.v, "i": w.i, "w": w.w, "bias": w.bias, "ext": w.ext, "refractory": w.refractory},
            "rounding": spec.rounding, "weight_exponent": spec.weight_exponent}
    for key, value in want.items():
        if ident[key] != value:
            raise ProtocolError(f"the board's bitstream has {key} = {ident[key]}, the spec {value}; "
                                "rebuild it with lapicque build for this spec")


class ArrayLink:
    """A board running the bridge, over any transport with `write(bytes)` and `read(n)`."""

    def __init__(self, transport, spec: ArraySpec):
        self.transport = transport
        self.spec = spec
        self.parser = RecordParser(spec)
        self.pending: list[Record] = []

    @classmethod
    def open(cls, port: str, spec: ArraySpec, baud: int = DEFAULT_BAUD, timeout: float = 2.0) -> ArrayLink:
        import serial  # pyserial

        try:
            transport = serial.Serial(port, baud, timeout=timeout)
        except serial.SerialException as exc:
            raise LapicqueError(f"cannot open {port}: {exc}; check the port name (--port) and permissions") from None
        link = cls(transport, spec)
        check_ident(spec, link.identify())
        return link

    # -- low level ---------------------------------------------------------------------------
    def _next(self) -> Record:
        while not self.pending:
            data = self.transport.read(64)
            if not data:
                raise ProtocolError("the board stopped answering (timeout); is it programmed and on this port?")
            self.pending += self.parser.feed(data)
        return self.pending.pop(0)

    def _expect(self, tag: str) -> Record:
        record = self._next()
        if record.tag == "error":
            raise ProtocolError(f"the board rejected command byte 0x{record.fields['byte']:02x}")
        if record.tag != tag:
            raise ProtocolError(f"expected a {tag} record from the board, got {record.tag}")
        return record

    # -- commands ----------------------------------------------------------------------------
    def identify(self) -> dict:
        self.transport.write(ident_command())
        return self._expect("ident").fields

    def sync(self, token: int = 0x5A) -> None:
        self.transport.write(sync_command(token))
        if self._expect("sync").fields["token"] != token & 0xFF:
            raise ProtocolError("sync token mismatch: bytes were lost on the line")

    def load(self, state) -> None:
        self.transport.write(load_commands(self.spec, state))
        self.sync()

    def watch(self, neurons) -> None:
        """Stream back the states of `neurons` (at most WATCH_SLOTS) in the following runs."""
        self.transport.write(watch_commands(neurons))

    def run(self, steps: int) -> RunResult:
        records = []
        left = steps
        while left > 0:
            chunk = min(left, MAX_STEPS_PER_COMMAND)
            self.transport.write(run_command(chunk))
            while True:
                record = self._next()
                if record.tag not in ("spike", "state", "done"):
                    raise ProtocolError(f"unexpected {record.tag} record during a run")
                records.append(record)
                if record.tag == "done":
                    break
            left -= chunk
        return run_result(records)


def model_run(spec: ArraySpec, state, steps: int, watch=()) -> RunResult:
    """What a board must send back for `run(steps)` after `load(state)`: the bit-exact model's
    spikes and watched states, with external input zero as on boards."""
    from lapicque.golden.neuron import ArrayModel

    model = ArrayModel(spec, fixed=True, state=state)
    spikes, states = [], []
    watched = sorted(set(int(n) for n in watch))
    zero = np.zeros(spec.neurons, dtype=np.int64)
    for t in range(steps):
        result = model.step(zero)
        spikes += [(t, int(n)) for n in np.flatnonzero(result.spike)]
        s = result.state
        states += [{"timestep": t, "neuron": n, "v": int(s.v[n]), "i": int(s.i[n]), "ref": int(s.ref[n]),
                    "pulse": int(s.pulse[n])} for n in watched]
    return RunResult(np.array(spikes, dtype=np.int64).reshape(-1, 2), states, timestep=steps)


def compare_runs(board: RunResult, model: RunResult) -> list[str]:
    """Differences between a board's run and the model's, as sentences (empty when equal)."""
    problems = []
    got = sorted(map(tuple, board.spikes.tolist()))
    want = sorted(map(tuple, model.spikes.tolist()))
    if got != want:
        extra = sorted(set(got) - set(want))[:3]
        missing = sorted(set(want) - set(got))[:3]
        problems.append(f"spikes differ: {len(got)} from the board, {len(want)} from the model "
                        f"(board only {extra}, model only {missing})")
    key = lambda s: (s["timestep"], s["neuron"])  # noqa: E731
    got_states = sorted(board.states, key=key)
    want_states = sorted(model.states, key=key)
    if got_states != want_states:
        padded = max(len(got_states), len(want_states))
        got_states += [None] * (padded - len(got_states))
        want_states += [None] * (padded - len(want_states))
        first = next((g, w) for g, w in zip(got_states, want_states, strict=True) if g != w)
        problems.append(f"watched states differ: board {first[0]}, model {first[1]}")
    if board.timestep != model.timestep:
        problems.append(f"the board ended at timestep {board.timestep}, the model at {model.timestep}")
    return problems

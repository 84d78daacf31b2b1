"""A block RAM whose read data passes an output register, on an ECP5 the EBR's own.

An ECP5 EBR read straight from its array has a slow clock-to-out (about 5.6 ns in nextpnr's model):
with the route to the first register that is most of a 10 ns cycle. The DP16KD's output register
(`REGMODE = OUTREG`) answers sooner, but yosys never infers it, so on an ECP5 platform the RAM is
built from DP16KD instances; elsewhere (iCE40, simulation, Verilog for cocotb) it is a `Memory` and
a register, cycle for cycle the same:

    cycle t:     r_addr, r_en      the array is read when r_en is high (else its read data holds)
    cycle t + 1: o_en              the output register takes the read data when o_en is high
    cycle t + 2: r_data            the registered data

Writes (w_addr, w_data, w_en) take effect at the clock edge; a read of the address being written
in the same cycle is not defined (the array never does one).
"""

from __future__ import annotations

from math import ceil

from amaranth.hdl import Cat, ClockSignal, Const, Instance, Module, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

#: DP16KD data widths and the address bit where the word address starts in its 14-bit address
#: (the lower bits are byte enables at 18 and 36 bits, unused below); 36 is the pseudo-dual-port
#: mode (write on port A with both ports' data pins, read on port B with both ports' outputs)
EBR_MODES = ((36, 5), (18, 4), (9, 3), (4, 2), (2, 1), (1, 0))
EBR_ADDRESS_BITS = 14


def ebr_mode(depth: int, width: int) -> tuple[int, int, int] | None:
    """The DP16KD width that stores depth x width in the fewest blocks, as yosys would choose it:
    (data width, first address bit, blocks); None when the memory needs more than one block deep."""
    fits = [(ceil(width / bits), bits, shift) for bits, shift in EBR_MODES
            if depth <= 1 << (EBR_ADDRESS_BITS - shift)]
    if not fits:
        return None
    blocks, bits, shift = min(fits)
    return bits, shift, blocks


def _address_pins(port: str, address, shift: int, low=None) -> dict:
    """A DP16KD port's 14 address pins: the word address from bit `shift` up, below it `low` (byte
    enables) or zeros."""
    pins = {}
    for bit in range(EBR_ADDRESS_BITS):
        if bit < shift:
            pins[f"i_AD{port}{bit}"] = low[bit] if low is not None and bit < len(low) else Const(0)
        else:
            at = bit - shift
            pins[f"i_AD{port}{bit}"] = address[at] if at < len(address) else Const(0)
    return pins


class RegisteredRAM(wiring.Component):
    """`depth` words of `shape`: one write port, one read port with its output registered (see above)."""

    def __init__(self, shape, depth: int):
        self.shape = shape
        self.depth = depth
        super().__init__({
            "w_addr": In(range(depth)), "w_data": In(shape), "w_en": In(1),
            "r_addr": In(range(depth)), "r_en": In(1), "o_en": In(1),
            "r_data": Out(shape),
        })

    def elaborate(self, platform):
        m = Module()
        width = Value.cast(self.w_data).shape().width
        mode = ebr_mode(self.depth, width)
        if getattr(platform, "family", None) == "ecp5" and mode is not None:
            self._ecp5(m, width, *mode)
            return m
        m.submodules.mem = mem = Memory(shape=self.shape, depth=self.depth, init=[])
        write, read = mem.write_port(), mem.read_port()
        m.d.comb += [
            write.addr.eq(self.w_addr), write.data.eq(self.w_data), write.en.eq(self.w_en),
            read.addr.eq(self.r_addr), read.en.eq(self.r_en),
        ]
        with m.If(self.o_en):
            m.d.sync += Value.cast(self.r_data).eq(read.data)
        return m

    def _ecp5(self, m: Module, width: int, bits: int, shift: int, blocks: int):
        data_in = Value.cast(self.w_data)
        outputs = []
        for block in range(blocks):
            padded = Signal(36, name=f"di{block}")
            m.d.comb += padded.eq(data_in[block * bits:min(width, (block + 1) * bits)])
            out_a, out_b = Signal(18, name=f"doa{block}"), Signal(18, name=f"dob{block}")
            if bits == 36:
                # pseudo dual port: port A writes both ports' data pins, every byte enable is the write
                # enable and the write strobe is held high; port B reads both ports' outputs
                byte_enables, data_b = Value.cast(self.w_en).replicate(4), padded[18:]
                write_strobe, regmode_a, oce_a = Const(1), "OUTREG", self.o_en
                read_data = [out_a, out_b]
            else:
                byte_enables, data_b = (Const(0b11, 2) if bits == 18 else None), Const(0, 18)
                write_strobe, regmode_a, oce_a = self.w_en, "NOREG", Const(0)
                read_data = [out_b[:bits]]
            pins = _address_pins("A", self.w_addr, shift, byte_enables)
            pins.update(_address_pins("B", self.r_addr, shift))
            pins.update({f"i_DIA{i}": padded[i] for i in range(18)})
            pins.update({f"i_DIB{i}": data_b[i] for i in range(18)})
            pins.update({f"o_DOA{i}": out_a[i] for i in range(18)})
            pins.update({f"o_DOB{i}": out_b[i] for i in range(18)})
            for port in "AB":
                pins.update({f"i_CS{port}{i}": Const(0) for i in range(3)})
                pins[f"i_CLK{port}"] = ClockSignal()
                pins[f"i_RST{port}"] = Const(0)
            pins.update({"i_WEA": write_strobe, "i_CEA": Const(1), "i_OCEA": oce_a,
                         "i_WEB": Const(0), "i_CEB": self.r_en, "i_OCEB": self.o_en})
            m.submodules[f"ebr{block}"] = Instance(
                "DP16KD",
                p_DATA_WIDTH_A=bits, p_DATA_WIDTH_B=bits,
                p_REGMODE_A=regmode_a, p_REGMODE_B="OUTREG",
                p_RESETMODE="SYNC", p_ASYNC_RESET_RELEASE="SYNC",
                p_CSDECODE_A="0b000", p_CSDECODE_B="0b000",
                p_WRITEMODE_A="NORMAL", p_WRITEMODE_B="NORMAL",
                p_GSR="DISABLED",
                **pins,
            )
            outputs.extend(read_data)
        m.d.comb += Value.cast(self.r_data).eq(Cat(*outputs)[:width])

from lapicque.hdl.streams import StreamPacker
from lapicque.hdl.verilog import convert


def test_registers_keep_their_enables():
    """The wide packer register must update under an enable, not be copied every clock edge."""
    text = convert(StreamPacker(8, 4), name="packer")
    assert "module packer(" in text
    assert "if (rst)" in text and "else if" in text

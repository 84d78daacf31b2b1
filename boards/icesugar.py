"""MuseLab iCESugar v1.5: the iCEBreaker's device (iCE40UP5K-SG48) and oscillator, UART through its iCELink."""

from dataclasses import replace

from amaranth_boards.icesugar import ICESugarPlatform

from .board import register
from .icebreaker import ICEBREAKER

ICESUGAR = register(replace(
    ICEBREAKER, name="icesugar", title="MuseLab iCESugar (iCE40UP5K)", platform=ICESugarPlatform,
))

"""lapicque: one integrate-and-fire array description; float model, bit-exact model, RTL, proven equal."""

from .errors import LapicqueError, SpecError
from .spec import ArraySpec, Widths, load_spec, random_spec

__version__ = "0.1.0"
__all__ = ["ArraySpec", "LapicqueError", "SpecError", "Widths", "load_spec", "random_spec", "__version__"]

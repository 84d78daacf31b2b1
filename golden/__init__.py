"""Reference models: float and bit-exact fixed point (`lapicque.golden.neuron`)."""

from .neuron import FLAG_NAMES, ArrayModel, State, array_step, quantisation_bound, synaptic_input, zero_state

__all__ = ["FLAG_NAMES", "ArrayModel", "State", "array_step", "quantisation_bound", "synaptic_input", "zero_state"]

"""Amaranth 0.5 RTL of the neuron array (`NeuronArray`) and its neuron datapath."""

from .array import PIPELINE_LATENCY, NeuronArray
from .datapath import BUGS, NeuronDatapath

__all__ = ["BUGS", "PIPELINE_LATENCY", "NeuronArray", "NeuronDatapath"]

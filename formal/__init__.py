"""Formal verification of the array: the contract as a combinational reference, properties, and the SymbiYosys runs."""

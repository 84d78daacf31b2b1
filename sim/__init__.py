"""cocotb verification of the RTL against the models: testbench, scoreboard, runners."""

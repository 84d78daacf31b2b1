"""FPGA boards: amaranth-boards platforms, the board top, the build flow and the host driver."""

"""`lapicque tem`: time encoding of a band-limited signal by integrate-and-fire neurons, decoded and scored."""

from __future__ import annotations

import argparse

from rich.table import Table

from lapicque.jobs import tem as job

from .options import EXIT_FAILED, EXIT_OK, add_rtl_run_options, positive_real, real_in, run_with_status, seed, whole_in

NAME = "tem"
HELP = "time encoding: encode a band-limited signal with IAF neurons and decode it"
DESCRIPTION = ("Encode a band-limited signal with integrate-and-fire time encoders (ideal or leaky, one or a "
               "population) on a backend, check the recovery condition, decode the spikes and score the SNR "
               "(lapicque.golden.tem, docs/tem.md).")
OUTPUTS = "OUT/summary.json, OUT/signal.npz, OUT/tem.png; --backend rtl adds OUT/rtl/; with --report OUT/report.html"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--signal", default="multitone", help="multitone (default, seeded) or a .wav / .npy file")
    p.add_argument("--bandwidth", type=real_in(1e-3, 1e5), default=100.0,
                   help="bandwidth in Hz (default 100); allowed 1e-3 to 1e5")
    p.add_argument("--duration", type=real_in(1e-3, 3600.0),
                   help="seconds (default 0.2 for multitone, a file's length); allowed 1e-3 to 3600.0")
    p.add_argument("--tones", type=whole_in(1, 1000), default=10,
                   help="multitone: tones (default 10); allowed 1 to 1000")
    p.add_argument("--peak", type=real_in(1e-6, 1e6), default=1.0,
                   help="peak |u| of the signal (default 1; files are scaled)")
    p.add_argument("--seed", type=seed, default=0, help="multitone: seed (default 0)")
    p.add_argument("--rate", type=float, help=".npy signals: their sample rate in Hz")
    p.add_argument("--lowpass", action="store_true", help="files: filter out energy above the band instead of "
                                                          "refusing a signal that is not band-limited")
    p.add_argument("--neuron", default="ideal", help="ideal (default) or leaky")
    p.add_argument("--bias", type=float, default=3.5, help="bias b (default 3.5)")
    p.add_argument("--delta", type=float, default=0.7, help="threshold delta (default 0.7)")
    p.add_argument("--kappa", type=float, default=0.01, help="integration constant kappa, the capacitance C of "
                                                             "a leaky neuron (default 0.01)")
    p.add_argument("--resistance", type=float, default=10.0, help="leaky: resistance R (default 10)")
    p.add_argument("--encoders", type=whole_in(1, 256), default=1,
                   help="encoders in the population (default 1); allowed 1 to 256")
    p.add_argument("--spread", type=float, default=0.2, help="population: relative spread of the biases "
                                                             "(default 0.2)")
    p.add_argument("--decoder", default="spline", help="spline (default), sinc or vandermonde")
    p.add_argument("--block", type=float, help="decode in windows of this many seconds (default: one block "
                                               "for short runs; vandermonde: 24 intervals)")
    p.add_argument("--overlap", type=float, help="overlap of the windows at each side, s (default block / 5)")
    p.add_argument("--backend", default="float", help="float (default), fixed or rtl")
    p.add_argument("--grid-us", type=positive_real, default=1.0, help="float: encoder grid in us (default 1)")
    p.add_argument("--step-us", type=positive_real, default=10.0,
                   help="fixed and rtl: array timestep in us (default 10)")
    add_rtl_run_options(p, "tem")


def run(args: argparse.Namespace, console) -> int:
    s = run_with_status(args, console, job)
    cond = s["recoverable"]
    table = Table(title=f"tem: {s['signal'].get('kind')} {s['bandwidth_hz']:g} Hz, {s['duration_s']:g} s, "
                        f"{s['encoders']} {args.neuron} encoder(s), {args.backend}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("spikes", str(s["spikes"]))
    table.add_row("recovery condition", f"{cond['value']:.3f} < {cond['bound']:.3f}: "
                                        f"{'met' if cond['satisfied'] else 'NOT met'}")
    table.add_row(f"SNR ({args.decoder}, {s['snr_window_s'][0]:g}-{s['snr_window_s'][1]:g} s)",
                  f"{s['snr_db']:.1f} dB")
    if "fixed_snr_db" in s:
        table.add_row("SNR of the fixed model's spikes", f"{s['fixed_snr_db']:.1f} dB")
    table.add_row("decode time", f"{s['decode_s']:.2f} s")
    console.print(table)
    if s["recovery_warning"]:
        console.print(f"[yellow]warning: {s['recovery_warning']}[/]")
    if "verified" in s:
        console.print(f"RTL: {s['updates_checked']:,} updates checked, {s['bit_exact_mismatches']} bit-exact "
                      f"mismatches, spikes equal to the fixed model: {s['rtl_spikes_equal_fixed']}")
    console.print(f"results: {args.out / 'summary.json'}, {args.out / 'tem.png'}")
    if args.report:
        console.print(f"report: {args.out / 'report.html'}")
    return EXIT_OK if s.get("verified", True) else EXIT_FAILED

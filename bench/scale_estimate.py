#!/usr/bin/python3
"""Data-parallel scaling estimate from measured step times (bench/step_times.sh).

Model (docs/scale-out.md): every node keeps the measured per-node batch B and
step time t1 (weak scaling: the global batch is p*B); after backward one ring
allreduce sums the gradient, S = 4 * params bytes, with no overlap with
compute (actlab reduces once, after the whole backward):
    t_comm(p) = 2 (p-1)/p * S / BW + 2 (p-1) * alpha
    efficiency = t1 / (t1 + t_comm),  speedup = p * efficiency
BW is the line rate (25 or 100 Gb/s) and alpha the per-message latency
(ALPHA_US, default 10 us). Usage: scale_estimate.py RESULTS.jsonl
"""
import json
import os
import sys

ALPHA = float(os.environ.get("ALPHA_US", "10")) * 1e-6
NODES = (8, 64, 512)
LINKS = (25, 100)


def t_comm(p, nbytes, gbps):
    bw = gbps * 1e9 / 8
    return 2 * (p - 1) / p * nbytes / bw + 2 * (p - 1) * ALPHA


def main():
    recs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    hdr = ["model", "params", "MB/step", "B", "t1 (ms)"]
    for g in LINKS:
        for p in NODES:
            hdr.append(f"{g}G p={p}")
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for r in sorted(recs, key=lambda r: r["params"]):
        nbytes = 4 * r["params"]
        t1 = r["batch"] / r["img_per_s"]
        row = [r["model"], f'{r["params"]:,}', f"{nbytes / 1e6:.1f}", str(r["batch"]),
               f"{t1 * 1e3:.0f}"]
        for g in LINKS:
            for p in NODES:
                tc = t_comm(p, nbytes, g)
                eff = t1 / (t1 + tc)
                row.append(f"{eff * 100:.0f}% ({p * eff:.0f}x, {tc * 1e3:.1f} ms)")
        print("| " + " | ".join(row) + " |")
    # the same allreduce against faster nodes: the step time at which the
    # allreduce costs 10% (90% efficiency) is 9 t_comm, whatever the node
    print()
    hdr = ["model", "MB/step"]
    for g in LINKS:
        for p in NODES:
            hdr.append(f"{g}G p={p}")
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for r in sorted(recs, key=lambda r: r["params"]):
        nbytes = 4 * r["params"]
        row = [r["model"], f"{nbytes / 1e6:.1f}"]
        for g in LINKS:
            for p in NODES:
                row.append(f"{9 * t_comm(p, nbytes, g) * 1e3:.0f}")
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()

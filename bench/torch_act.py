#!/usr/bin/python3
"""torch_act.py — PyTorch's counterparts of actlab's element-wise activations,
timed the way bench/act_bench.c times actlab's: one JSON line per
(variant, size) with fwd_gbs, fwdbwd_gbs, copy_gbs and median times.

Byte accounting (per float32 element): forward reads x and writes y (8 B);
backward reads x (or y) and dy and writes dx (12 B); forward+backward 20 B;
copy 8 B. GB/s = bytes / median time, 1 GB = 1e9 B.

Per repetition (up to --reps / --reps-dram, but no more than --max-seconds
of them, at least 3), back to back: torch's own copy into a preallocated tensor
(y.copy_(x)) and x.clone(); the forward under torch.no_grad(); then
y = fn(x); y.backward(dy) with x.requires_grad (and the parameters' grads
for PReLU and the trainable entries), with x.grad and every parameter's
.grad set to None before each repetition, so autograd writes the gradient
(as actlab's backward does) instead of accumulating into an old one.

Each repetition also counts the process's involuntary context switches;
as in act_bench.c, a repetition is clean with at most one per 50 ms of its
duration, and when at least 3 and at least a third of the repetitions are
clean, the medians are over those ("stat": "clean"), otherwise over all
("stat": "all"); all_*_gbs are always over all repetitions.

Variants use the keys of act_bench.c ("prelu:per=channel",
"gelu:approximate=tanh", "rrelu[train]", ...). "counterpart" in the JSON
says what was run: "direct" — PyTorch's own operator (F.gelu, F.prelu,
...); "composite" — no PyTorch operator exists, so the formula is written
with torch ops the way a PyTorch user would (several passes over memory);
run only with --composite small|both. identity is x.clone() (nn.Identity copies
nothing). softsign and tanhshrink are composites inside PyTorch 1.13 itself
(F.softsign = x / (1 + |x|)) and count as direct.

Allocation (--malloc): PyTorch allocates every output and gradient, and
glibc serves blocks above 32 MB (its largest mmap threshold) with fresh
mmap'd pages each time, so at the DRAM size every 256 MB tensor costs
65,538 page faults of 4 KiB. In these VMs a fault costs 15-35 us, which
put x.clone() and every DRAM-size PyTorch figure at 0.2-1.6 GB/s (against
20-35 GB/s for y.copy_(x) into a preallocated tensor): a measurement of the
VM's page faults, not of PyTorch's kernels. With --malloc thp (default) the
script runs under GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (re-executing
itself when the variable is not set), so glibc asks for transparent huge
pages (madvise) and a 256 MB tensor takes 130-640 faults of 2 MiB:
allocation and the kernel's page zeroing are still timed, as they are
part of what PyTorch costs, but at their native cost. --malloc glibc keeps
glibc's default. The JSON records the mode and the minor page faults per
repetition of the forward+backward and of x.clone().

Run with /usr/bin/python3 (Debian's PyTorch 1.13). Thread variables are set
before `import torch`:
  /usr/bin/python3 bench/torch_act.py --threads 2 --sizes both --only gelu
"""
import argparse
import json
import math
import os
import resource
import sys
import time


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=30, help="repetitions, small size")
    ap.add_argument("--reps-dram", type=int, default=5, help="repetitions, DRAM size")
    ap.add_argument("--warmup", type=int, default=2, help="(at most 1 at the DRAM size)")
    ap.add_argument("--max-seconds", type=float, default=3.0,
                    help="stop repeating after this many seconds (at least 3 repetitions)")
    ap.add_argument("--only", default=None, help="entry names or variant keys, comma-separated")
    ap.add_argument("--sizes", default="both", choices=["small", "dram", "both"])
    ap.add_argument("--composite", default="none", choices=["none", "small", "both"],
                    help="also time torch-op compositions for entries PyTorch lacks, at these "
                         "sizes (they make several passes over memory: slow at the DRAM size)")
    ap.add_argument("--malloc", default="thp", choices=["thp", "glibc"],
                    help="thp: run under GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (transparent "
                         "huge pages for malloc'd memory; re-executes itself to set it); glibc: "
                         "glibc's default (4 KiB pages, a page fault per 4 KiB of every fresh "
                         "DRAM-size tensor)")
    ap.add_argument("--list", action="store_true")
    return ap.parse_args()


ARGS = parse_args()
THP_TUNABLE = "glibc.malloc.hugetlb=1"
if ARGS.malloc == "thp" and THP_TUNABLE not in os.environ.get("GLIBC_TUNABLES", ""):
    # glibc reads its tunables at process start: set it and start again
    env = dict(os.environ)
    env["GLIBC_TUNABLES"] = ":".join(t for t in (env.get("GLIBC_TUNABLES"), THP_TUNABLE) if t)
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable] + sys.argv, env)
for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[v] = str(ARGS.threads)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(ARGS.threads)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass

SIZES = {"small": (64, 32, 32, 32), "dram": (256, 64, 64, 64)}

# ---- parameters: name -> (initial values), as in actlab's catalog ----------
SELU_L = 1.0507009873554805
SELU_A = 1.6732632423543772
PARAMS = {
    "prelu": [0.25],
    "frelu": [0.0, 0.0],
    "agsig": [1.0, 1.0],
    "swish_beta": [1.0],
    "pelu": [1.0, 1.0],
    "asigmoid": [1.0, 1.0, 0.0, 0.0],
    "atanh": [1.0, 1.0, 0.0, 0.0],
    "arelu": [1.0, 0.0, 0.0, 0.0],
    "adaptive": [1.0, 1.0, 0.0, 0.0],
    "method1": [0.0, 0.0, 0.0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0],
    "method2": [0.0, 0.0, 0.0],
    "tleaky_relu": [0.01],
    "thardswish": [3.0],
    "tgelu": [0.5, math.sqrt(2.0)],
    "tselu": [SELU_L, SELU_A],
    "tsqrt": [0.5],
    "tswish": [math.e],
    "tsqrt_tanh": [0.5],
}


def make_params(entry, per, c):
    """One tensor per parameter: shape [1] (per=layer) or [C, 1, 1] (per=channel)."""
    out = []
    for v in PARAMS[entry]:
        shape = (1,) if per == "layer" else (c, 1, 1)
        out.append(torch.full(shape, float(v), requires_grad=True))
    return out


def blend(p):
    """softmax(theta) weights of method1/method2 (compat default: softmax)."""
    th = torch.stack(p[:3], 0)
    w = torch.softmax(th, 0)
    return w[0], w[1], w[2]


# ---- direct counterparts: key -> fn(x) --------------------------------------
DIRECT = {
    "identity": lambda x: x.clone(),
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.01),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu6": F.relu6,
    "rrelu": lambda x: F.rrelu(x, 0.125, 1.0 / 3.0, training=False),
    "rrelu[train]": lambda x: F.rrelu(x, 0.125, 1.0 / 3.0, training=True),
    "elu": lambda x: F.elu(x, 1.0),
    "celu": lambda x: F.celu(x, 1.0),
    "selu": F.selu,
    "gelu": F.gelu,
    "gelu:approximate=tanh": lambda x: F.gelu(x, approximate="tanh"),
    "silu": F.silu,
    "mish": F.mish,
    "hardswish": F.hardswish,
    "hardsigmoid": F.hardsigmoid,
    "hardtanh": lambda x: F.hardtanh(x, -1.0, 1.0),
    "softplus": lambda x: F.softplus(x, 1.0, 20.0),
    "softsign": F.softsign,
    "logsigmoid": F.logsigmoid,
    "tanhshrink": F.tanhshrink,
    "softshrink": lambda x: F.softshrink(x, 0.5),
    "hardshrink": lambda x: F.hardshrink(x, 0.5),
}
# parameterised direct counterparts: entry -> fn(x, params, per)
DIRECT_P = {
    # nn.PReLU(num_parameters=1) / nn.PReLU(num_parameters=C)
    "prelu": lambda x, p, per: F.prelu(x, p[0].reshape(-1)),
    # tleaky_relu is PReLU with z as the weight
    "tleaky_relu": lambda x, p, per: F.prelu(x, p[0].reshape(-1)),
}


def _sgnpow(x, z):
    return torch.sign(x) * torch.abs(x).pow(z)


COMPOSITE = {
    "sqrt": lambda x: torch.sign(x) * torch.sqrt(torch.abs(x)),
    "tanhexp": lambda x: x * torch.tanh(torch.exp(x)),
}
COMPOSITE_P = {
    "frelu": lambda x, p: F.relu(x + p[0]) + p[1],
    "agsig": lambda x, p: p[0] * torch.sigmoid(p[1] * x),
    "swish_beta": lambda x, p: x * torch.sigmoid(p[0] * x),
    "pelu": lambda x, p: torch.where(x >= 0, p[0] / p[1] * x, p[0] * torch.expm1(x / p[1])),
    "asigmoid": lambda x, p: p[1] * torch.sigmoid(p[0] * x + p[2]) + p[3],
    "atanh": lambda x, p: p[1] * torch.tanh(p[0] * x + p[2]) + p[3],
    "arelu": lambda x, p: torch.maximum(p[0] * x + p[2], p[1] * x + p[3]),
    "adaptive": lambda x, p: p[1] * F.relu(p[0] * x + p[2]) + p[3],
    "method2": lambda x, p: (lambda w: w[0] * torch.tanh(x) + w[1] * torch.sigmoid(x)
                             + w[2] * F.relu(x))(blend(p)),
    "method1": lambda x, p: (lambda w: w[0] * (p[4] * torch.tanh(p[3] * x + p[5]) + p[6])
                             + w[1] * (p[8] * torch.sigmoid(p[7] * x + p[9]) + p[10])
                             + w[2] * torch.maximum(p[11] * x + p[13], p[12] * x + p[14]))(blend(p)),
    "thardswish": lambda x, p: torch.where(x <= -p[0], torch.zeros_like(x),
                                           torch.where(x >= p[0], x, x * (x + p[0]) / (2 * p[0]))),
    "tgelu": lambda x, p: p[0] * x * (1 + torch.erf(x / p[1])),
    "tselu": lambda x, p: torch.where(x >= 0, p[0] * x, p[0] * p[1] * torch.expm1(x)),
    "tsqrt": lambda x, p: _sgnpow(x, p[0]),
    "tswish": lambda x, p: x * torch.sigmoid(x * torch.log(p[0])),
    "tsqrt_tanh": lambda x, p: x * torch.tanh(torch.exp(torch.clamp(_sgnpow(x, p[0]), max=20.0))),
}


def variants():
    """(entry, key, kind, builder) in actlab's catalog order; builder(c) -> (fn, params)."""
    order = ["identity", "relu", "leaky_relu", "sigmoid", "tanh", "prelu", "relu6", "rrelu",
             "elu", "celu", "selu", "gelu", "silu", "mish", "hardswish", "hardsigmoid",
             "hardtanh", "softplus", "softsign", "logsigmoid", "tanhshrink", "softshrink",
             "hardshrink", "sqrt", "tanhexp", "frelu", "agsig", "swish_beta", "pelu",
             "asigmoid", "atanh", "arelu", "adaptive", "method1", "method2", "tleaky_relu",
             "thardswish", "tgelu", "tselu", "tsqrt", "tswish", "tsqrt_tanh"]
    out = []
    for e in order:
        if e in PARAMS:
            for per in ("layer", "channel"):
                key = "%s:per=%s" % (e, per)
                if e in DIRECT_P:
                    f = DIRECT_P[e]
                    out.append((e, key, "direct",
                                lambda c, f=f, e=e, per=per: (lambda p: (lambda x: f(x, p, per), p))(
                                    make_params(e, per, c))))
                elif e in COMPOSITE_P:
                    f = COMPOSITE_P[e]
                    out.append((e, key, "composite",
                                lambda c, f=f, e=e, per=per: (lambda p: (lambda x: f(x, p), p))(
                                    make_params(e, per, c))))
            continue
        keys = [e] + (["gelu:approximate=tanh"] if e == "gelu" else []) + \
            (["rrelu[train]"] if e == "rrelu" else [])
        for key in keys:
            if key in DIRECT:
                out.append((e, key, "direct", lambda c, f=DIRECT[key]: (f, [])))
            elif key in COMPOSITE:
                out.append((e, key, "composite", lambda c, f=COMPOSITE[key]: (f, [])))
    return out


def selected(entry, key):
    if not ARGS.only:
        return True
    toks = ARGS.only.split(",")
    return entry in toks or key in toks


def median(v):
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def nivcsw():
    """Involuntary context switches of the whole process (all threads) so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw


def minflt():
    """Minor page faults of the whole process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return f.read().strip()
    except OSError:
        return ""


def run(entry, key, kind, builder, size, x0, dy, ycp, reps):
    n, c, h, w = SIZES[size]
    fn, params = builder(c)
    x = x0.detach().requires_grad_(True)
    R = []  # per repetition: copy, clone, fwd, fwd (grad mode), bwd, fwd+bwd, preemptions,
    #         page faults of the clone and of the forward+backward
    now = time.perf_counter
    warmup = ARGS.warmup if size == "small" else min(ARGS.warmup, 1)
    t_begin = now()
    for r in range(-warmup, reps):
        c0 = nivcsw()
        t0 = now()
        ycp.copy_(x0)
        t1 = now()
        f0 = minflt()
        z = x0.clone()
        t2 = now()
        f1 = minflt()
        del z
        with torch.no_grad():
            t3 = now()
            y = fn(x0)
            t4 = now()
        del y
        x.grad = None
        for p in params:
            p.grad = None
        f2 = minflt()
        t5 = now()
        y = fn(x)
        t6 = now()
        y.backward(dy)
        t7 = now()
        f3 = minflt()
        del y
        c1 = nivcsw()
        if r < 0:
            continue
        R.append((t1 - t0, t2 - t1, t4 - t3, t6 - t5, t7 - t6, t7 - t5, c1 - c0, f1 - f0,
                  f3 - f2))
        if len(R) >= 3 and now() - t_begin > ARGS.max_seconds:
            break  # time budget spent: at least 3 repetitions
    # Repetitions during which a thread was preempted measure the other
    # processes on the machine: use the median of the others when there are
    # enough of them (the rule of act_bench.c).
    # clean: at most one preemption per 50 ms of the repetition's duration
    clean = [r for r in R if r[6] * 0.05 <= r[0] + r[1] + r[2] + r[5]]
    use_clean = len(clean) >= 3 and 3 * len(clean) >= len(R)
    S = clean if use_clean else R
    mc, mcl, mf, mfg, mb, mfb = (median([r[k] for r in S]) for k in range(6))
    ac, af, afb = (median([r[k] for r in R]) for k in (0, 2, 5))
    ne = x0.numel()
    rec = {
        "impl": "torch", "key": key, "entry": entry, "counterpart": kind,
        "train": 1 if key.endswith("[train]") else 0, "size": size, "shape": [n, c, h, w],
        "elements": ne, "threads": torch.get_num_threads(), "reps": len(R),
        "clean_reps": len(clean), "stat": "clean" if use_clean else "all",
        "preemptions": sum(r[6] for r in R),
        "bytes_fwd": 8 * ne, "bytes_bwd": 12 * ne, "bytes_fwdbwd": 20 * ne,
        "t_copy_ms": mc * 1e3, "t_clone_ms": mcl * 1e3, "t_fwd_ms": mf * 1e3,
        "t_fwd_grad_ms": mfg * 1e3, "t_bwd_ms": mb * 1e3, "t_fwdbwd_ms": mfb * 1e3,
        "copy_gbs": 8 * ne / mc / 1e9, "clone_gbs": 8 * ne / mcl / 1e9,
        "fwd_gbs": 8 * ne / mf / 1e9, "bwd_gbs": 12 * ne / mb / 1e9,
        "fwdbwd_gbs": 20 * ne / mfb / 1e9,
        "all_copy_gbs": 8 * ne / ac / 1e9, "all_fwd_gbs": 8 * ne / af / 1e9,
        "all_fwdbwd_gbs": 20 * ne / afb / 1e9,
        "best_copy_gbs": 8 * ne / min(r[0] for r in R) / 1e9,
        "best_fwd_gbs": 8 * ne / min(r[2] for r in R) / 1e9,
        "best_fwdbwd_gbs": 20 * ne / min(r[5] for r in R) / 1e9,
        "malloc": ARGS.malloc, "glibc_tunables": os.environ.get("GLIBC_TUNABLES", ""),
        "minflt_clone": median([r[7] for r in R]), "minflt_fwdbwd": median([r[8] for r in R]),
        "loadavg": loadavg(), "torch": torch.__version__,
    }
    print(json.dumps(rec), flush=True)


def main():
    vs = [v for v in variants() if ARGS.composite != "none" or v[2] == "direct"]
    if ARGS.list:
        for e, key, kind, _ in vs:
            print(e, key, kind)
        return 0
    vs = [v for v in vs if selected(v[0], v[1])]
    if not vs:
        return 0  # no counterpart for this entry: nothing to print
    sizes = ["small", "dram"] if ARGS.sizes == "both" else [ARGS.sizes]
    torch.manual_seed(0)
    for size in sizes:
        shape = SIZES[size]
        x0 = torch.randn(shape)
        dy = torch.randn(shape)
        ycp = torch.empty(shape)
        ycp.copy_(x0)  # touch every page
        reps = ARGS.reps if size == "small" else ARGS.reps_dram
        for e, key, kind, builder in vs:
            if kind == "composite" and ARGS.composite == "small" and size != "small":
                continue
            run(e, key, kind, builder, size, x0, dy, ycp, reps)
        del x0, dy, ycp
    return 0


if __name__ == "__main__":
    sys.exit(main())

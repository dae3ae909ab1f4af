#!/usr/bin/env bash
# Element-wise activation kernels: actlab vs PyTorch 1.13 (Debian) vs the
# machine's copy bandwidth, forward and forward+backward, on [64,32,32,32]
# (8 MB, L2/L3) and [256,64,64,64] (256 MB, DRAM). Compiles bench/act_bench.c
# against build/release/libactlab.a with the Makefile's flags, then runs
# act_bench and bench/torch_act.py alternately, one catalog entry at a time
# (actlab, torch, actlab, torch, ...), so both see the same machine
# conditions, and prints a markdown table of medians with the targets.
# See bench/README.md ("Activation kernels").
#
# Environment knobs:
#   BENCH_THREADS=2        threads of both programs
#   BENCH_REPS=30          repetitions at the small size (median reported)
#   BENCH_REPS_DRAM=5      repetitions at the DRAM size
#   BENCH_WARMUP=2         untimed repetitions before them (at most 1 at the DRAM size)
#   BENCH_MAX_SECONDS=3    stop repeating a variant after this long (at least 3 reps)
#   BENCH_QUIET_WAIT=5     before each entry, wait up to this many seconds for a
#                          moment when no other process is runnable (0: don't)
#   BENCH_SIZES=both       small | dram | both
#   BENCH_ONLY=NAME[,...]  entry names or variant keys (default: every entry)
#   BENCH_COMPOSITE=small  torch-op compositions for entries PyTorch lacks, at
#                          none | small | both sizes (slow at the DRAM size)
#   BENCH_OUT=FILE         also write the table (markdown) to FILE
#   BENCH_JSONL=FILE       also keep every JSON line (written as the runs go)
#   BENCH_MALLOC=thp       thp: both programs run under
#                          GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (transparent huge
#                          pages for malloc'd memory: PyTorch's fresh DRAM-size
#                          outputs then cost 2 MiB page faults, not 65,538 faults
#                          of 4 KiB each); glibc: glibc's default (bench/README.md)
#   PYTHON=/usr/bin/python3  LIB=build/release/libactlab.a  CC=gcc
# Exit status: 0 if every run succeeded (targets missed or not), 1 if a run
# failed, 2 on bad setup.
set -u

cd "$(dirname "$0")/.." || exit 2

THREADS=${BENCH_THREADS:-2}
REPS=${BENCH_REPS:-30}
REPS_DRAM=${BENCH_REPS_DRAM:-5}
WARMUP=${BENCH_WARMUP:-2}
MAX_SECONDS=${BENCH_MAX_SECONDS:-3}
QUIET_WAIT=${BENCH_QUIET_WAIT:-5}
SIZES=${BENCH_SIZES:-both}
ONLY=${BENCH_ONLY:-}
COMPOSITE=${BENCH_COMPOSITE:-small}
OUT=${BENCH_OUT:-}
JSONL=${BENCH_JSONL:-}
PY=${PYTHON:-/usr/bin/python3}
LIB=${LIB:-build/release/libactlab.a}
CC=${CC:-gcc}
MALLOC=${BENCH_MALLOC:-thp}

for v in "$THREADS" "$REPS" "$REPS_DRAM"; do
	case $v in '' | *[!0-9]* | 0) echo "run_act.sh: BENCH_THREADS/REPS/REPS_DRAM must be positive integers" >&2; exit 2 ;; esac
done
for v in "$WARMUP" "$MAX_SECONDS" "$QUIET_WAIT"; do
	case $v in '' | *[!0-9]*) echo "run_act.sh: BENCH_WARMUP/MAX_SECONDS/QUIET_WAIT must be non-negative integers" >&2; exit 2 ;; esac
done
[ "$MAX_SECONDS" -gt 0 ] || { echo "run_act.sh: BENCH_MAX_SECONDS must be positive" >&2; exit 2; }
case $SIZES in small | dram | both) ;; *) echo "run_act.sh: BENCH_SIZES must be small, dram or both" >&2; exit 2 ;; esac
case $MALLOC in
thp)
	case ${GLIBC_TUNABLES:-} in
	*glibc.malloc.hugetlb=1*) ;;
	*) GLIBC_TUNABLES=${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.malloc.hugetlb=1 ;;
	esac
	export GLIBC_TUNABLES
	;;
glibc) ;;
*) echo "run_act.sh: BENCH_MALLOC must be thp or glibc" >&2; exit 2 ;;
esac
[ -f "$LIB" ] || { echo "run_act.sh: $LIB not found; run 'make' first" >&2; exit 2; }
"$PY" -c 'import torch, numpy' 2>/dev/null ||
	{ echo "run_act.sh: $PY cannot import torch and numpy (Debian: python3-torch)" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/actlab-actbench.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
RESULTS=${JSONL:-$TMP/results.jsonl} # written as the runs go: a partial run keeps its lines
: >"$RESULTS" || exit 2

# Same flags as the Makefile's release build. The binary is private to this
# run, so a concurrent rebuild of the library does not change what is measured.
BIN=$TMP/act_bench
CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -O3 -march=native -fopenmp -fno-math-errno -fno-trapping-math -ffp-contract=off -Iinclude -Isrc"
LIBS="-lopenblas -llapacke -linih -lsqlite3 -lz -lm -lpthread"
compile="$CC $CFLAGS bench/act_bench.c $LIB $LIBS -o $BIN"
# shellcheck disable=SC2086
$compile || { echo "run_act.sh: compiling bench/act_bench.c failed" >&2; exit 2; }
lib_id="$LIB, sha256 $(sha256sum "$LIB" | cut -c1-12), built $(date -u -r "$LIB" '+%Y-%m-%d %H:%M:%S UTC')"

rev=$(git rev-parse --short HEAD 2>/dev/null || echo "none (no commits)")
if [ -n "$(git status --porcelain 2>/dev/null | head -1)" ]; then rev="$rev+dirty"; fi
torch_ver=$("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date +%s)

common="--threads $THREADS --reps $REPS --reps-dram $REPS_DRAM --warmup $WARMUP --max-seconds $MAX_SECONDS --sizes $SIZES"
act_args=$common
py_args=$common
case $COMPOSITE in none | small | both) ;; *) echo "run_act.sh: BENCH_COMPOSITE must be none, small or both" >&2; exit 2 ;; esac
py_args="$py_args --composite $COMPOSITE --malloc $MALLOC"

{
	echo "## Activation kernels: actlab vs PyTorch vs copy bandwidth"
	echo
	echo "- command: \`$0\` (BENCH_THREADS=$THREADS BENCH_REPS=$REPS BENCH_REPS_DRAM=$REPS_DRAM BENCH_WARMUP=$WARMUP BENCH_MAX_SECONDS=$MAX_SECONDS BENCH_QUIET_WAIT=$QUIET_WAIT BENCH_SIZES=$SIZES BENCH_COMPOSITE=$COMPOSITE BENCH_MALLOC=$MALLOC${ONLY:+ BENCH_ONLY=$ONLY})"
	echo "- compile: \`$compile\`"
	echo "- per entry: \`$BIN $act_args --only ENTRY\` then \`$PY bench/torch_act.py $py_args --only ENTRY\`"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); git rev: $rev; library: $lib_id"
	echo "- machine: $cpu, nproc $(nproc); torch $torch_ver; load average at start: $load0"
	echo "- environment: $(env | grep -E '^(OMP|GOMP|KMP|MALLOC)_|^GLIBC_TUNABLES=' | sort | tr '\n' ' ')(OMP_NUM_THREADS is set by torch_act.py)"
} >"$TMP/head.md"
cat "$TMP/head.md"
echo

# Entries in catalog order (act_bench --list prints "entry key" per variant).
if [ -n "$ONLY" ]; then
	entries=$(echo "$ONLY" | tr ',' ' ')
else
	entries=$("$BIN" --list | awk '!seen[$1]++ {print $1}')
fi

# Waits (up to QUIET_WAIT s) until nothing else is runnable: the 4th field of
# /proc/loadavg counts runnable tasks, the reading process included. True
# if a quiet second (5 samples) was found.
quiet_wait() {
	local end=$(($(date +%s) + QUIET_WAIT)) ok=0 r
	[ "$QUIET_WAIT" -gt 0 ] || return 0
	while [ "$(date +%s)" -lt "$end" ]; do
		r=$(cut -d' ' -f4 /proc/loadavg)
		if [ "${r%/*}" -le 1 ]; then
			ok=$((ok + 1))
			[ $ok -ge 5 ] && return 0
		else
			ok=0
		fi
		sleep 0.2
	done
	return 1
}

failed=0
noisy=0
for e in $entries; do
	quiet_wait || noisy=$((noisy + 1))
	# shellcheck disable=SC2086
	if ! "$BIN" $act_args --only "$e" >>"$RESULTS" 2>"$TMP/err"; then
		echo "FAILED: act_bench --only $e: $(head -c 500 "$TMP/err")" >&2
		failed=1
	fi
	# shellcheck disable=SC2086
	if ! "$PY" bench/torch_act.py $py_args --only "$e" >>"$RESULTS" 2>"$TMP/err"; then
		echo "FAILED: torch_act.py --only $e: $(head -c 500 "$TMP/err")" >&2
		failed=1
	fi
	echo "  done: $e ($(($(date +%s) - t_start)) s, load $(cut -d' ' -f1 /proc/loadavg))" >&2
done
[ "$QUIET_WAIT" -gt 0 ] && echo "  entries started without a quiet moment (after ${QUIET_WAIT} s of waiting): $noisy" >&2

load1=$(cut -d' ' -f1-3 /proc/loadavg)

"$PY" - "$RESULTS" "$load1" "$(($(date +%s) - t_start))" "$noisy" >"$TMP/table.md" <<'EOF'
import json, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
load1, secs, noisy = sys.argv[2], sys.argv[3], sys.argv[4]
A = {(r["key"], r["size"]): r for r in rows if r["impl"] == "actlab"}
T = {(r["key"], r["size"]): r for r in rows if r["impl"] == "torch"}

# Cheap: no transcendental function in forward or backward (compares,
# selects, multiplies, a division or a square root at most).
CHEAP = {"identity", "relu", "leaky_relu", "prelu", "relu6", "rrelu", "hardswish",
         "hardsigmoid", "hardtanh", "softsign", "softshrink", "hardshrink", "sqrt", "frelu",
         "arelu", "adaptive", "tleaky_relu", "thardswish"}

def cls(r):
    if r["train"]:
        return "rng"  # rrelu in training: RNG-bound, only the >= 1x torch target
    return "cheap" if r["entry"] in CHEAP else "transc"

def tie(r):
    return " (within 5%: a tie)" if r >= 0.95 else ""

def f1(v):
    return "–" if v is None else ("%.1f" % v if v < 100 else "%.0f" % v)

def mark(r):
    return "" if r is None or r.get("stat", "clean") == "clean" else "†"

order = []
for r in rows:
    k = (r["key"], r["size"])
    if r["impl"] == "actlab" and k not in order:
        order.append(k)
order.sort(key=lambda k: (k[1] != "small",))  # small first, catalog order within

out = []
out.append("Bytes: forward 8 B/element (read x, write y); forward+backward 20 B/element "
           "(+ read x or y, read dy, write dx); copy 8 B/element. GB/s = bytes / median time. "
           "copy = actlab's copy of the same tensor, same threads, same process, the faster of "
           "memcpy and a plain vector loop, median over the same repetitions as the kernel. "
           "Medians are over the clean repetitions (at most one preemption per 50 ms) when there are "
           "enough of them (at least 3 and a third); † marks a median over all repetitions, "
           "i.e. a measurement disturbed by other processes (on 2 cores a preempted OpenMP "
           "thread costs a scheduler time slice, ~8-12 ms, per parallel region). "
           "Torch columns marked * are compositions of torch ops (PyTorch has no such "
           "operator). Targets: cheap (C) >= 70% of copy forward and forward+backward and >= 1x "
           "torch; transcendental (T) >= 2x torch forward+backward and >= 1x torch forward; "
           "R = rrelu training, >= 1x torch.")
out.append("")
out.append("| entry | size | class | copy GB/s | actlab fwd GB/s | torch fwd GB/s | actlab fwd+bwd GB/s "
           "| torch fwd+bwd GB/s | ratio fwd | ratio fwd+bwd | % of copy (fwd, fwd+bwd) | target met? |")
out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
missed, disturbed = [], 0
for k in order:
    a = A[k]
    t = T.get(k)
    c = cls(a)
    comp = t is not None and t.get("counterpart") == "composite"
    star = "*" if comp else ""
    ma, mt = mark(a), mark(t)
    noisy_row = bool(ma or mt)
    disturbed += noisy_row
    tf = t["fwd_gbs"] if t else None
    tfb = t["fwdbwd_gbs"] if t else None
    rf = a["fwd_gbs"] / tf if t else None
    rfb = a["fwdbwd_gbs"] / tfb if t else None
    pf = 100 * a["fwd_gbs"] / a["copy_gbs"]
    pfb = 100 * a["fwdbwd_gbs"] / a["copy_gbs"]
    why = []
    if c == "cheap":
        if pf < 70:
            why.append("fwd %.0f%% < 70%% of copy" % pf)
        if pfb < 70:
            why.append("fwd+bwd %.0f%% < 70%% of copy" % pfb)
    if t:
        if rf < 1:
            why.append("fwd %.2fx torch%s%s" % (rf, star, tie(rf)))
        if c == "transc" and rfb < 2:
            why.append("fwd+bwd %.2fx < 2x torch%s" % (rfb, star))
        elif c != "transc" and rfb < 1:
            why.append("fwd+bwd %.2fx torch%s%s" % (rfb, star, tie(rfb)))
    met = "yes" if not why else "**no**: " + "; ".join(why)
    if c == "transc" and not t:
        met = ("n/a" if not why else met) + " (no torch counterpart to compare with)"
    if noisy_row:
        met += " (†: disturbed)"
    if why:
        missed.append((k, why, noisy_row))
    out.append("| %s | %s | %s | %s%s | %s%s | %s%s%s | %s%s | %s%s%s | %s | %s | %.0f%%, %.0f%% | %s |" % (
        a["key"], k[1], {"cheap": "C", "transc": "T", "rng": "R"}[c], f1(a["copy_gbs"]), ma,
        f1(a["fwd_gbs"]), ma, f1(tf), star if t else "", mt, f1(a["fwdbwd_gbs"]), ma, f1(tfb),
        star if t else "", mt, "–" if rf is None else "%.2f" % rf,
        "–" if rfb is None else "%.2f" % rfb, pf, pfb, met))
out.append("")

def med(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])

for size in ("small", "dram"):
    ac = [a for (key, sz), a in A.items() if sz == size]
    tc = [t for (key, sz), t in T.items() if sz == size]
    if ac:
        s = ("Copy bandwidth, %s (median over the rows): actlab memcpy %.1f GB/s, plain loop "
             "%.1f GB/s" % (size, med([a["copy_memcpy_gbs"] for a in ac]),
                            med([a["copy_loop_gbs"] for a in ac])))
        if tc:
            s += "; torch y.copy_(x) %.1f GB/s, x.clone() %.1f GB/s" % (
                med([t["copy_gbs"] for t in tc]), med([t["clone_gbs"] for t in tc]))
            if all("minflt_fwdbwd" in t for t in tc):
                s += (", page faults per x.clone() %.0f and per forward+backward %.0f "
                      "(torch_act.py --malloc %s)" % (
                          med([t["minflt_clone"] for t in tc]),
                          med([t["minflt_fwdbwd"] for t in tc]),
                          "/".join(sorted({t.get("malloc", "?") for t in tc}))))
        out.append("- " + s + ".")
out.append("- rows with a † (disturbed) measurement: %d of %d; entries started without a quiet "
           "moment: %s; load average at end: %s; wall time %s s." % (disturbed, len(order), noisy,
                                                                    load1, secs))
out.append("")
out.append("Targets missed: %d of %d rows." % (len(missed), len(order)))
for (key, size), why, nz in missed:
    out.append("- %s (%s): %s%s" % (key, size, "; ".join(why), " (†: disturbed)" if nz else ""))
print("\n".join(out))
EOF
cat "$TMP/table.md"
if [ -n "$OUT" ]; then
	cat "$TMP/head.md" >"$OUT"
	echo >>"$OUT"
	cat "$TMP/table.md" >>"$OUT"
fi
exit $failed

#!/usr/bin/env bash
# LeNet-5 epoch cost of activations relative to ReLU by CPU time, for a
# shared machine: run_lenet_acts.sh measures wall time at 2 threads, which
# other jobs on the same cores disturb by up to 2x; this runs 1 thread and
# takes the process CPU time (perf stat task-clock), in interleaved pairs
# (relu, entry) BENCH_REPS times. The fixed cost outside the training loop
# (start-up, data loading, evaluation of the test set) is measured once as
# the CPU time of a run with a 64-image training set and subtracted from
# both sides ("loop" ratio); the "whole" ratio keeps it. Reports the median
# of the paired ratios and their range.
#   BENCH_REPS=3  BENCH_DATA=fashion-mnist:train=10000,test=1000
#   BENCH_ACTS="method1 tsqrt ..."  ACTLAB=./actlab (the binary to measure)
set -u
cd "$(dirname "$0")/.." || exit 2
REPS=${BENCH_REPS:-3}
DATA=${BENCH_DATA:-fashion-mnist:train=10000,test=1000}
BASE_DATA=$(printf '%s' "$DATA" | sed -E 's/train=[0-9]+/train=64/; t; s/$/:train=64/')
BIN=${ACTLAB:-./actlab}
PY=${PYTHON:-/usr/bin/python3}
ACTS=${BENCH_ACTS:-method1 tsqrt tsqrt_tanh prelu identity}
command -v perf >/dev/null || { echo "needs perf (linux-perf)" >&2; exit 2; }
[ -x "$BIN" ] || { echo "run 'make' first" >&2; exit 2; }
cpu_ms() { # act data -> CPU ms of one training run
	OMP_WAIT_POLICY=passive perf stat -x, -e task-clock "$BIN" train --model lenet5 --act "$1" \
		--data "$2" --epochs 1 --batch 64 --opt sgd --lr 0.01 --momentum 0.9 --threads 1 \
		--json --quiet 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}'
}
base=$(for _ in 1 2 3; do cpu_ms relu "$BASE_DATA"; done | sort -n | head -1)
echo "# LeNet-5 CPU time per activation vs relu ($DATA, 1 thread, $REPS pairs, $(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2>/dev/null), load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "fixed cost (relu, $BASE_DATA): $base ms CPU"
echo
echo "| activation | relu CPU ms (median) | entry CPU ms (median) | whole run vs relu (median; range) | training loop vs relu (median; range) |"
echo "|---|---|---|---|---|"
for a in $ACTS; do
	r=() e=()
	for _ in $(seq "$REPS"); do
		r+=("$(cpu_ms relu "$DATA")")
		e+=("$(cpu_ms "$a" "$DATA")")
	done
	"$PY" - "$a" "$base" "${r[*]}" "${e[*]}" <<'PYEOF'
import statistics, sys
name, base = sys.argv[1], float(sys.argv[2])
r = [float(v) for v in sys.argv[3].split()]
e = [float(v) for v in sys.argv[4].split()]
if not r or len(r) != len(e):
    print(f"| {name} | failed | | | |")
    sys.exit(0)
whole = [b / a for a, b in zip(r, e)]
loop = [(b - base) / (a - base) for a, b in zip(r, e)]
def fmt(p):
    return f"{statistics.median(p):.3f} ({min(p):.2f}-{max(p):.2f})"
print(f"| {name} | {statistics.median(r):.0f} | {statistics.median(e):.0f} | {fmt(whole)} | {fmt(loop)} |")
PYEOF
done

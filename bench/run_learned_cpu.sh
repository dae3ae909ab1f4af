#!/usr/bin/env bash
# LeNet-5 training cost of the learned-shape activations relative to relu, by
# process CPU time (user + sys) instead of wall time: on a loaded shared
# machine wall time mostly measures the scheduler. One thread; each entry
# interleaved with a relu run, BENCH_REPS times; a run on one batch gives
# the fixed cost (data load, test pass), subtracted from both before the
# ratio. Reported: median total CPU seconds and the median ratio of
# training CPU time (target <= 1.5).
#   BENCH_REPS=3  BENCH_TRAIN=10000  BENCH_ACTS="adact meta ..."
set -u
cd "$(dirname "$0")/.." || exit 2
REPS=${BENCH_REPS:-3}
NTR=${BENCH_TRAIN:-10000}
PY=${PYTHON:-/usr/bin/python3}
ACTS=${BENCH_ACTS:-adact meta bspline apl pau:per=channel vaf}
[ -x ./actlab ] || { echo "run 'make' first" >&2; exit 2; }
TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT
cpu() { # act train-count -> user+sys seconds
	/usr/bin/time -o "$TMP/t" -f "%U %S" ./actlab train --model lenet5 --act "$1" \
		--data "fashion-mnist:train=$2,test=500" --epochs 1 --batch 64 --opt sgd --lr 0.01 \
		--momentum 0.9 --threads 1 --quiet >/dev/null 2>&1 || return 1
	awk '{print $1 + $2}' "$TMP/t"
}
echo "# LeNet-5 CPU time vs relu ($(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2>/dev/null), 1 thread, load: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "command: ./actlab train --model lenet5 --act ACT --data fashion-mnist:train=$NTR,test=500 --epochs 1 --batch 64 --opt sgd --lr 0.01 --momentum 0.9 --threads 1 ($REPS reps interleaved with relu; fixed cost from train=64 subtracted)"
f1=$(cpu relu 64) && f2=$(cpu relu 64) || exit 1
F=$("$PY" -c "print(min($f1, $f2))")
echo "fixed cost (train=64): $F s"
echo
echo "| activation | CPU s (median) | relu CPU s (median) | training CPU time vs relu | target <= 1.5 |"
echo "|---|---|---|---|---|"
for a in $ACTS; do
	: >"$TMP/a"
	: >"$TMP/r"
	for _ in $(seq "$REPS"); do
		cpu relu "$NTR" >>"$TMP/r"
		cpu "$a" "$NTR" >>"$TMP/a"
	done
	"$PY" - "$a" "$TMP/a" "$TMP/r" "$F" <<'PYEOF'
import statistics, sys
name, fa, fr, F = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
a = [float(v) for v in open(fa).read().split()]
r = [float(v) for v in open(fr).read().split()]
if not a or len(a) != len(r):
    print(f"| {name} | failed | | | |")
    sys.exit(0)
ratio = statistics.median([(x - F) / (y - F) for x, y in zip(a, r)])
print(f"| {name} | {statistics.median(a):.2f} | {statistics.median(r):.2f} | {ratio:.2f} | {'yes' if ratio <= 1.5 else 'NO'} |")
PYEOF
done

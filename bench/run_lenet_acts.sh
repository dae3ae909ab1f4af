#!/usr/bin/env bash
# LeNet-5 training cost of every element-wise catalog entry relative to ReLU:
# one epoch on Fashion-MNIST (batch 64, SGD lr 0.01 momentum 0.9, 2 threads),
# each entry run next to a ReLU run, BENCH_REPS times, interleaved; reports
# the median over the interleaved pairs of the img/s ratio relu / entry
# (training loop only), i.e. the entry's epoch time relative to ReLU's. Trainable entries
# use their paper granularity; the target is <= 1.15x the ReLU epoch time.
#   BENCH_REPS=3  BENCH_THREADS=2  BENCH_DATA=fashion-mnist  BENCH_OUT=FILE
#   BENCH_ACTS="prelu asigmoid ..." (default: every element-wise entry)
set -u
cd "$(dirname "$0")/.." || exit 2
REPS=${BENCH_REPS:-3}
T=${BENCH_THREADS:-2}
DATA=${BENCH_DATA:-fashion-mnist}
PY=${PYTHON:-/usr/bin/python3}
[ -x ./actlab ] || { echo "run 'make' first" >&2; exit 2; }
ACTS=${BENCH_ACTS:-$(./actlab act list --json | "$PY" -c '
import json, sys
print(" ".join(e["name"] for e in json.load(sys.stdin) if e["kind"] == "element" and e["name"] != "relu"))')}
TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT
run() { # act -> img/s
	./actlab train --model lenet5 --act "$1" --data "$DATA" --epochs 1 --batch 64 --opt sgd \
		--lr 0.01 --momentum 0.9 --threads "$T" --json --quiet 2>/dev/null |
		"$PY" -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["img_per_s"])'
}
echo "# LeNet-5 epoch cost per activation vs relu ($DATA, $T threads, $REPS reps, $(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2>/dev/null))"
echo "command: ./actlab train --model lenet5 --act ACT --data $DATA --epochs 1 --batch 64 --opt sgd --lr 0.01 --momentum 0.9 --threads $T --json"
echo
echo "| activation | img/s (median) | relu img/s (median) | epoch time vs relu (median of paired ratios; range) | target <= 1.15 |"
echo "|---|---|---|---|---|"
fail=0
for a in $ACTS; do
	: >"$TMP/a"
	: >"$TMP/r"
	for _ in $(seq "$REPS"); do
		run relu >>"$TMP/r" || fail=1
		run "$a" >>"$TMP/a" || fail=1
	done
	"$PY" - "$a" "$TMP/a" "$TMP/r" <<'PYEOF'
import statistics, sys
name, fa, fr = sys.argv[1:]
a = [float(v) for v in open(fa).read().split()]
r = [float(v) for v in open(fr).read().split()]
if not a or not r:
    print(f"| {name} | failed | | | |")
    sys.exit(0)
ma, mr = statistics.median(a), statistics.median(r)
# epoch time ratio = inverse throughput ratio, per interleaved pair (a load
# change between pairs cancels), median over the pairs
pairs = [rv / av for av, rv in zip(a, r)]
ratio = statistics.median(pairs)
spread = f"{min(pairs):.2f}-{max(pairs):.2f}"
print(f"| {name} | {ma:.0f} | {mr:.0f} | {ratio:.3f} ({spread}) | {'yes' if ratio <= 1.15 else 'NO'} |")
PYEOF
done | tee "${BENCH_OUT:-/dev/null}"
exit $fail

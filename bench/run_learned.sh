#!/usr/bin/env bash
# Cost of the learned-shape activations (adact, apl, pau, vaf, bspline,
# meta), side by side with relu in one run:
#  1. kernels: forward+backward on [64,32,32,32] relative to relu at
#     per=layer, per=channel and per=neuron (bench/learned_bench.c; median
#     over BENCH_KREPS repetitions of the per-repetition ratio).
#     Targets: pau and adact <= 2x relu at per=channel; meta (H=5, L=1)
#     per=neuron <= 6x relu.
#  distill (not in the default parts): the distilled forms' forward
#     (lut, pwl = adact zero=any, rational = pau of degrees 5/4, 4/4, 3/2;
#     per=channel) next to
#     leaky_relu, forwards only (learned_bench --fwd 10). Target: each at
#     most leaky_relu's time.
#  2. LeNet-5 training epoch on Fashion-MNIST (batch 64, SGD lr 0.01
#     momentum 0.9, BENCH_THREADS threads), each entry next to a relu run,
#     BENCH_REPS times interleaved; median epoch time ratio. Target <= 1.5x.
#   BENCH_REPS=3  BENCH_KREPS=15  BENCH_THREADS=2  BENCH_DATA=fashion-mnist
#   BENCH_ACTS="adact pau:per=channel ..." (LeNet part; default below)
#   BENCH_PARTS="kernels lenet" (or distill)
set -u
cd "$(dirname "$0")/.." || exit 2
REPS=${BENCH_REPS:-3}
KREPS=${BENCH_KREPS:-15}
T=${BENCH_THREADS:-2}
DATA=${BENCH_DATA:-fashion-mnist}
PARTS=${BENCH_PARTS:-kernels lenet}
PY=${PYTHON:-/usr/bin/python3}
ACTS=${BENCH_ACTS:-adact adact:per=layer apl apl:per=channel pau pau:per=channel vaf vaf:per=channel bspline meta meta:per=channel}
[ -x ./actlab ] || { echo "run 'make' first" >&2; exit 2; }
TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT
echo "# learned-shape activations vs relu ($(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2>/dev/null), $T threads)"
if [[ " $PARTS " == *" kernels "* ]]; then
	gcc -std=c11 -D_POSIX_C_SOURCE=200809L -O3 -march=native -fopenmp -fno-math-errno \
		-fno-trapping-math -ffp-contract=off -Iinclude -Isrc bench/learned_bench.c \
		build/release/libactlab.a -lopenblas -llapacke -linih -lsqlite3 -lz -lm -lpthread \
		-o "$TMP/learned_bench" || exit 2
	echo
	echo "command: bench/learned_bench --threads $T --reps $KREPS"
	"$TMP/learned_bench" --threads "$T" --reps "$KREPS" || exit 1
fi
if [[ " $PARTS " == *" distill "* ]]; then
	[ -x "$TMP/learned_bench" ] || gcc -std=c11 -D_POSIX_C_SOURCE=200809L -O3 -march=native \
		-fopenmp -fno-math-errno -fno-trapping-math -ffp-contract=off -Iinclude -Isrc \
		bench/learned_bench.c build/release/libactlab.a -lopenblas -llapacke -linih \
		-lsqlite3 -lz -lm -lpthread -o "$TMP/learned_bench" || exit 2
	only="leaky_relu;lut:per=channel;adact:ns=17,lo=-2.5,hi=3.1,zero=any,per=channel;pau:per=channel;pau:per=channel,m=4,n=4;pau:per=channel,m=3,n=2"
	echo
	echo "command: bench/learned_bench --threads $T --reps $KREPS --fwd 10 --only '$only'"
	"$TMP/learned_bench" --threads "$T" --reps "$KREPS" --fwd 10 --only "$only" || exit 1
fi
if [[ " $PARTS " == *" lenet "* ]]; then
	run() { # act -> img/s
		./actlab train --model lenet5 --act "$1" --data "$DATA" --epochs 1 --batch 64 --opt sgd \
			--lr 0.01 --momentum 0.9 --threads "$T" --json --quiet 2>/dev/null |
			"$PY" -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["img_per_s"])'
	}
	echo
	echo "command: ./actlab train --model lenet5 --act ACT --data $DATA --epochs 1 --batch 64 --opt sgd --lr 0.01 --momentum 0.9 --threads $T --json ($REPS reps, interleaved with relu)"
	echo
	echo "| activation | img/s (median) | relu img/s (median) | epoch time vs relu | target <= 1.5 |"
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
ratio = mr / ma
print(f"| {name} | {ma:.0f} | {mr:.0f} | {ratio:.3f} | {'yes' if ratio <= 1.5 else 'NO'} |")
PYEOF
	done
	exit $fail
fi

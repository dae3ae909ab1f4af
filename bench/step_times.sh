#!/usr/bin/env bash
# Single-node training step time of every zoo model, and the gradient
# volume a data-parallel step exchanges (4 bytes x parameters), for the
# scaling estimate of docs/scale-out.md. Each model trains on synthetic data
# of its default input shape and class count (`actlab models --params`) for
# BENCH_STEPS steps of batch B (BENCH_BATCH for 32x32-and-smaller inputs,
# BENCH_BATCH_BIG for larger ones), SGD with momentum, T threads; the step
# time is B / (images/s of the training loop). Prints one JSON line per
# model and, with BENCH_OUT=FILE, the markdown table.
#
# Environment knobs:
#   BENCH_THREADS=2  BENCH_BATCH=32  BENCH_BATCH_BIG=8  BENCH_STEPS=3
#   BENCH_MODELS="lenet5 resnet20 ..." (default: the whole zoo)
#   ACTLAB=./actlab  PYTHON=/usr/bin/python3  BENCH_OUT=FILE
set -u
cd "$(dirname "$0")/.." || exit 2
ACTLAB=${ACTLAB:-./actlab}
PY=${PYTHON:-/usr/bin/python3}
T=${BENCH_THREADS:-2}
B=${BENCH_BATCH:-32}
BB=${BENCH_BATCH_BIG:-8}
S=${BENCH_STEPS:-3}
OUT=${BENCH_OUT:-}
[ -x "$ACTLAB" ] || { echo "step_times.sh: $ACTLAB not found; run 'make' first" >&2; exit 2; }
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/actlab-steps.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
"$ACTLAB" models --params >"$TMP/params.txt" || exit 2
MODELS=${BENCH_MODELS:-$(awk 'NR > 1 {print $1}' "$TMP/params.txt")}
echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); git rev $(git rev-parse --short HEAD 2>/dev/null); nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: $ACTLAB train --model M --data synthetic:n=S*B,test=B,c=C,h=H,w=W,classes=K --batch B --epochs 1 --opt sgd --lr 0.01 --momentum 0.9 --threads $T --json --quiet"
RES=$TMP/res.jsonl
: >"$RES"
for m in $MODELS; do
	line=$(awk -v m="$m" '$1 == m' "$TMP/params.txt")
	params=$(echo "$line" | awk '{print $2}')
	shape=$(echo "$line" | awk '{print $3}')
	classes=$(echo "$line" | awk '{print $4}')
	c=${shape%%x*}; hw=${shape#*x}; h=${hw%%x*}; w=${hw#*x}
	b=$B
	[ "$h" -gt 32 ] && b=$BB
	n=$((S * b))
	json=$("$ACTLAB" train --model "$m" --data "synthetic:n=$n,test=$b,c=$c,h=$h,w=$w,classes=$classes" \
		--batch "$b" --eval-batch "$b" --epochs 1 --opt sgd --lr 0.01 --momentum 0.9 --threads "$T" --json --quiet \
		--norm none 2>"$TMP/err" | grep '^{' | tail -1)
	if [ -z "$json" ]; then
		echo "$m FAILED"; sed 's/^/  | /' "$TMP/err" | tail -3
		continue
	fi
	ips=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["img_per_s"])' "$json")
	rec="{\"model\": \"$m\", \"params\": $params, \"input\": \"$shape\", \"batch\": $b, \"threads\": $T, \"img_per_s\": $ips, \"load\": \"$(cut -d' ' -f1 /proc/loadavg)\"}"
	echo "$rec" | tee -a "$RES"
done
[ -n "$OUT" ] && "$PY" bench/scale_estimate.py "$RES" >"$OUT"
exit 0

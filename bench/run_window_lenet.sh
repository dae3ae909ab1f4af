#!/usr/bin/env bash
# LeNet-5 training epoch with a window activation against ReLU, and the same
# in PyTorch with the activation batched the way seed 000's authors did it
# (unfold into patches, compute, stitch back; bench/torch_train.py
# --act nelu-unfold), all in one run: per repetition, actlab relu, actlab
# ACT, torch relu, torch nelu-unfold back to back (same recipe: Fashion-MNIST,
# batch 64, SGD lr 0.01 momentum 0.9, 2 threads; img/s of the training loop
# only). Reports median img/s and epoch time relative to each framework's
# ReLU. Target (window activations): actlab nelu:k=2 <= 1.1x its ReLU epoch.
#   BENCH_REPS=3 BENCH_THREADS=2 BENCH_DATA=fashion-mnist BENCH_ACT=nelu:k=2
set -u
cd "$(dirname "$0")/.." || exit 2
REPS=${BENCH_REPS:-3}
T=${BENCH_THREADS:-2}
DATA=${BENCH_DATA:-fashion-mnist}
ACT=${BENCH_ACT:-nelu:k=2}
K=$(echo "$ACT" | sed -n 's/.*k=\([0-9]*\).*/\1/p')
K=${K:-4}
PY=${PYTHON:-/usr/bin/python3}
[ -x ./actlab ] || { echo "run 'make' first" >&2; exit 2; }
TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT
imgs() { "$PY" -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["img_per_s"])'; }
al() { ./actlab train --model lenet5 --act "$1" --data "$DATA" --epochs 1 --batch 64 --opt sgd \
	--lr 0.01 --momentum 0.9 --threads "$T" --json --quiet 2>/dev/null | imgs; }
tt() { "$PY" bench/torch_train.py --model lenet5 --act "$1" --k "$K" --threads "$T" --epochs 1 \
	--batch 64 --json --quiet 2>/dev/null | imgs; }
for _ in $(seq "$REPS"); do
	al relu >>"$TMP/al_relu"
	al "$ACT" >>"$TMP/al_act"
	tt relu >>"$TMP/pt_relu"
	tt nelu-unfold >>"$TMP/pt_act"
done
echo "# LeNet-5 one epoch, $DATA, $T threads, $REPS reps interleaved, $(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2>/dev/null)"
echo "actlab: ./actlab train --model lenet5 --act ACT --data $DATA --epochs 1 --batch 64 --opt sgd --lr 0.01 --momentum 0.9 --threads $T --json"
echo "pytorch: $PY bench/torch_train.py --model lenet5 --act relu|nelu-unfold --k $K --threads $T --epochs 1 --batch 64 --json"
echo
"$PY" - "$TMP" "$ACT" "$K" <<'PYEOF'
import statistics, sys, os
d, act, k = sys.argv[1:]
def med(name):
    p = os.path.join(d, name)
    v = [float(x) for x in open(p).read().split()] if os.path.exists(p) else []
    return statistics.median(v) if v else float("nan")
ar, aa, pr, pa = med("al_relu"), med("al_act"), med("pt_relu"), med("pt_act")
print("| run | img/s (median) | epoch time vs own relu | vs actlab relu |")
print("|---|---|---|---|")
print(f"| actlab relu | {ar:.0f} | 1.000 | 1.000 |")
print(f"| actlab {act} | {aa:.0f} | {ar / aa:.3f} | {ar / aa:.3f} |")
print(f"| pytorch relu | {pr:.0f} | 1.000 | {ar / pr:.3f} |")
print(f"| pytorch nelu unfold k={k} | {pa:.0f} | {pr / pa:.3f} | {ar / pa:.3f} |")
PYEOF

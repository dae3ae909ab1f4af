#!/usr/bin/env bash
# Seed 002 in small: LeNet-5 on Fashion-MNIST with ASigmoid and Method 1
# (normalised blend of ATanh, ASigmoid and AReLU), plain SGD as in the paper
# (lr 1e-3 is too slow for a short run: 0.01 here), then the learned
# per-layer parameters (seed 002's Tables 3-4: X, Y, Z per layer).
#   EPOCHS=3 OUT=runs ./experiments/seed002-lenet-learned.sh
set -eu
cd "$(dirname "$0")/.."
EPOCHS=${EPOCHS:-3}
OUT=${OUT:-runs}
for act in asigmoid method1; do
	./actlab train --model lenet5 --act "$act" --data fashion-mnist --epochs "$EPOCHS" \
		--opt sgd --lr 0.01 --momentum 0.9 --act-lr 0.01 --out "$OUT/seed002-$act" --quiet --json |
		tail -n 1 | cut -c1-200
	echo "learned parameters ($act, last epoch):"
	./actlab act params --run "$OUT/seed002-$act"
	echo
done

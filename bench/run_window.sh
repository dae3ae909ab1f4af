#!/usr/bin/env bash
# Window-based activations (seed 000) against relu: builds bench/window_bench.c
# against build/release/libactlab.a and runs it (2 threads by default).
# Prints, per size ([64,32,32,32] and [64,6,28,28]), each variant's median
# forward and forward+backward time and its ratio to relu measured in the
# same repetitions. Arguments are passed to window_bench, e.g.
#   bench/run_window.sh --reps 51 --only softmax
#   bench/run_window.sh --json > window.jsonl
# Threads spin between calls (OMP_WAIT_POLICY=active) unless the caller sets
# the policy: a [64,6,28,28] call takes ~30 us, and with passive waiting the
# worker's wake-up (tens of us on this VM) is most of it and varies from run
# to run, which hides the kernels' differences.
set -eu
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-active}
cd "$(dirname "$0")/.."
make -s build/release/libactlab.a
BIN=$(mktemp "${TMPDIR:-/tmp}/window_bench.XXXXXX")
trap 'rm -f "$BIN"' EXIT
gcc -std=c11 -D_POSIX_C_SOURCE=200809L -O3 -march=native -fopenmp -fno-math-errno \
	-fno-trapping-math -ffp-contract=off -Iinclude -Isrc bench/window_bench.c \
	build/release/libactlab.a -lopenblas -llapacke -linih -lsqlite3 -lz -lm -lpthread -o "$BIN"
"$BIN" "$@"

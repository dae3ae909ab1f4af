#!/usr/bin/env bash
# Cost of the experiment harness, measured side by side in one run:
#  1. `actlab sweep` (one process, runs in turn) against the same runs as
#     plain `actlab train --out DIR` calls: the store, claims, per-epoch rows
#     and ingestion of each run folder are the difference;
#  2. `actlab sweep -j 2` (two processes, 1 thread each) against -j 1
#     (one process, 2 threads).
# Medians of REPS repetitions, each repetition running the variants back to
# back. Usage: bench/run_sweep.sh [REPS]   (default 3)
set -eu
cd "$(dirname "$0")/.."
REPS=${1:-3}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
DATA="fashion-mnist:train=6000,test=2000"
cat > "$T/b.ini" <<INI
[sweep]
name = bench
model = lenet5
data = $DATA
act = relu | tanh | prelu | elu
seed = 1
epochs = 2
opt = adam
lr = 1e-3
INI
now() { date +%s.%N; }
med() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: > "$T/train"; : > "$T/sweep"; : > "$T/j1"; : > "$T/j2"
for r in $(seq "$REPS"); do
	t0=$(now)
	for a in relu tanh prelu elu; do
		./actlab train --model lenet5 --act $a --data "$DATA" --epochs 2 --opt adam --lr 1e-3 \
			--threads 2 --out "$T/train-$r-$a" --quiet
	done
	t1=$(now)
	./actlab sweep "$T/b.ini" --store "$T/s$r/s.db" --threads 2 2>/dev/null
	t2=$(now)
	./actlab sweep "$T/b.ini" --store "$T/j1-$r/s.db" -j 1 2>/dev/null
	t3=$(now)
	./actlab sweep "$T/b.ini" --store "$T/j2-$r/s.db" -j 2 2>/dev/null
	t4=$(now)
	echo "$t1 - $t0" | bc >> "$T/train"
	echo "$t2 - $t1" | bc >> "$T/sweep"
	echo "$t3 - $t2" | bc >> "$T/j1"
	echo "$t4 - $t3" | bc >> "$T/j2"
done
tr=$(med < "$T/train"); sw=$(med < "$T/sweep"); j1=$(med < "$T/j1"); j2=$(med < "$T/j2")
printf "4 LeNet-5 runs, %s, 2 epochs, median of %d\n" "$DATA" "$REPS"
printf "  actlab train x4 (2 threads)     %8.2f s\n" "$tr"
printf "  actlab sweep (2 threads)        %8.2f s   sweep/train = %.3f\n" "$sw" "$(echo "$sw / $tr" | bc -l)"
printf "  actlab sweep -j 1 (2 threads)   %8.2f s\n" "$j1"
printf "  actlab sweep -j 2 (1 thread x2) %8.2f s   j2/j1 = %.3f\n" "$j2" "$(echo "$j2 / $j1" | bc -l)"

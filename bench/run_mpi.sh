#!/usr/bin/env bash
# Data-parallel LeNet-5 on Fashion-MNIST on one machine: 1 process x 2
# OpenMP threads (./actlab) against 2 MPI ranks x 1 thread (./actlab-mpi
# under mpirun, the global batch split over the ranks, one allreduce of the
# gradient per step). Same model, data, global batch 64, SGD lr 0.01
# momentum 0.9, 1 epoch. Runs alternate (process, ranks, process, ...) so
# both see the same machine; the table reports medians over BENCH_REPS and
# the ratio ranks/process of images/s (training loop only, as for every
# actlab benchmark: rank 0's loop time, which includes the allreduce waits).
#
# Environment knobs:
#   BENCH_REPS=3  BENCH_TRAIN=60000 (images per epoch)  BENCH_BATCH=64
#   ACTLAB=./actlab  ACTLAB_MPI=./actlab-mpi  BENCH_OUT=FILE (markdown)
set -u
cd "$(dirname "$0")/.." || exit 2
REPS=${BENCH_REPS:-3}
N=${BENCH_TRAIN:-60000}
B=${BENCH_BATCH:-64}
ACTLAB=${ACTLAB:-./actlab}
ACTLAB_MPI=${ACTLAB_MPI:-./actlab-mpi}
OUT=${BENCH_OUT:-}
PY=${PYTHON:-/usr/bin/python3}
[ -x "$ACTLAB" ] || { echo "run_mpi.sh: $ACTLAB not found; run 'make'" >&2; exit 2; }
[ -x "$ACTLAB_MPI" ] || { echo "run_mpi.sh: $ACTLAB_MPI not found; run 'make MPI=1'" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "run_mpi.sh: mpirun not found (scripts/install-deps.sh)" >&2; exit 2; }
export OMP_WAIT_POLICY=passive
# loopback shared memory; root in a container needs the two ALLOW variables
export OMPI_MCA_btl=${OMPI_MCA_btl:-self,vader}
if [ "$(id -u)" -eq 0 ]; then
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
ARGS="--model lenet5 --data fashion-mnist:train=$N,test=1000 --epochs 1 --batch $B --opt sgd --lr 0.01 --momentum 0.9 --json --quiet"
one_cmd="$ACTLAB train $ARGS --threads 2"
mpi_cmd="mpirun --oversubscribe -np 2 --bind-to none $ACTLAB_MPI train $ARGS --threads 1"
echo "== LeNet-5 / Fashion-MNIST: 1 process x 2 threads vs 2 ranks x 1 thread =="
echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); git rev $(git rev-parse --short HEAD 2>/dev/null); nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  $one_cmd"
echo "  $mpi_cmd"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/actlab-mpi-bench.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
RES=$TMP/res.txt
: >"$RES"
fail=0
for r in $(seq 1 "$REPS"); do
	for kind in process ranks; do
		if [ $kind = process ]; then cmd=$one_cmd; else cmd=$mpi_cmd; fi
		# shellcheck disable=SC2086
		json=$($cmd 2>"$TMP/err" | grep '^{' | tail -1)
		if [ -z "$json" ]; then
			echo "$kind rep $r FAILED"; sed 's/^/  | /' "$TMP/err" | tail -5; fail=1; continue
		fi
		ips=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["img_per_s"])' "$json")
		acc=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["test_acc"])' "$json")
		echo "$kind $r $ips $acc" >>"$RES"
		printf '%-8s rep %s: %8.1f img/s  test acc %.4f  (load %s)\n' "$kind" "$r" "$ips" "$acc" "$(cut -d' ' -f1 /proc/loadavg)"
	done
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" - "$RES" "$OUT" "$N" "$REPS" "$B" <<'PYEOF'
import statistics, sys
path, out, n, reps, b = sys.argv[1:6]
rows = [l.split() for l in open(path) if l.strip()]
ips = {k: [float(r[2]) for r in rows if r[0] == k] for k in ("process", "ranks")}
acc = {k: [float(r[3]) for r in rows if r[0] == k] for k in ("process", "ranks")}
pairs = {}
for r in rows:
    pairs.setdefault(r[1], {})[r[0]] = float(r[2])
ratios = [p["ranks"] / p["process"] for p in pairs.values() if "ranks" in p and "process" in p]
lines = ["| configuration | img/s (median of %s) | runs | test acc |" % reps, "|---|---|---|---|"]
for k, label in (("process", "1 process x 2 threads"), ("ranks", "2 MPI ranks x 1 thread")):
    if ips[k]:
        lines.append("| %s | %.0f | %s | %.4f |" % (label, statistics.median(ips[k]),
                     " ".join("%.0f" % v for v in ips[k]), statistics.median(acc[k])))
if ratios:
    lines.append("| ratio ranks / process (median of paired runs) | %.2f | %s | |" %
                 (statistics.median(ratios), " ".join("%.2f" % v for v in ratios)))
text = "\n".join(lines)
print(text)
if out:
    open(out, "w").write(text + "\n")
PYEOF
exit $fail

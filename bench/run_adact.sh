#!/usr/bin/env bash
# Seed 003's trainer on Fashion-MNIST (N_h = 100, N_s = 9 hinges on [-4,4]):
#   time   seconds per AdAct iteration on the full 60,000 x 784 training set
#          next to the seconds of one Adam epoch (batch 64) of the same
#          network, runs interleaved (adact, adam, adact, adam, ...), medians
#          over BENCH_REPS repetitions, and their ratio;
#   kfold  test accuracy mean +- std over stratified 10-fold cross-validation
#          of the first BENCH_SUBSET training images, for AdAct, OWO-BP and
#          Adam back-prop (same network, same initial point);
#   full   the same three trained on the full training split, tested on the
#          10,000 test images.
# Every command is printed; per-run JSON lines are kept in BENCH_LOG.
#
# Environment knobs:
#   BENCH_PARTS="time kfold full"   BENCH_REPS=3   BENCH_THREADS=2
#   BENCH_ITERS=30 (AdAct/OWO-BP iterations = Adam epochs)   BENCH_TIME_ITERS=3
#   BENCH_SUBSET=10000   BENCH_KFOLD=10   BENCH_ALGOS="adact owo-bp adam"
#   BENCH_VAL=0.1 (validation fraction of each run's training samples: the
#   tables give the test accuracy after the last iteration and at the
#   iteration with the best validation accuracy)
#   BENCH_OUT=FILE (markdown tables)   BENCH_LOG=FILE (JSON lines)
#   ACTLAB=./actlab   PYTHON=/usr/bin/python3
# Exit status: 0 if every run succeeded, 1 otherwise (2 on bad setup).
set -u

cd "$(dirname "$0")/.." || exit 2

PARTS=${BENCH_PARTS:-"time kfold full"}
REPS=${BENCH_REPS:-3}
THREADS=${BENCH_THREADS:-2}
ITERS=${BENCH_ITERS:-30}
TITERS=${BENCH_TIME_ITERS:-3}
SUBSET=${BENCH_SUBSET:-10000}
KFOLD=${BENCH_KFOLD:-10}
ALGOS=${BENCH_ALGOS:-"adact owo-bp adam"}
VAL=${BENCH_VAL:-0.1}
ACTLAB=${ACTLAB:-./actlab}
PY=${PYTHON:-/usr/bin/python3}
OUT=${BENCH_OUT:-}

for v in "$REPS" "$THREADS" "$ITERS" "$TITERS" "$SUBSET" "$KFOLD"; do
	case $v in '' | *[!0-9]* | 0) echo "run_adact.sh: numeric knobs must be positive integers" >&2; exit 2 ;; esac
done
[ -x "$ACTLAB" ] || { echo "run_adact.sh: $ACTLAB not found; run 'make' first" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/actlab-adact.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
LOG=${BENCH_LOG:-$TMP/runs.jsonl}
: >"$LOG"
# a private copy: rebuilding ./actlab during the benchmark changes nothing here
cp "$ACTLAB" "$TMP/actlab" || exit 2
A=$TMP/actlab

rev=$(git rev-parse --short HEAD 2>/dev/null || echo none)
if [ -n "$(git status --porcelain 2>/dev/null | head -1)" ]; then rev="$rev+dirty"; fi
echo "== actlab adact benchmark (seed 003) =="
echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "host:     $(uname -srm); $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); nproc $(nproc)"
echo "git rev:  $rev"
echo "load avg: $(cut -d' ' -f1-3 /proc/loadavg) (start)"
echo "parts:    $PARTS; threads $THREADS; reps $REPS; iters $ITERS; subset $SUBSET; kfold $KFOLD"
echo

failures=0
run() { # tag args... ; appends {"tag":..., <actlab json>} to the log
	local tag=$1
	shift
	local cmd="\$ACTLAB adact $* --threads $THREADS --json --quiet"
	printf '%s (load %s): %s\n' "$tag" "$(cut -d' ' -f1 /proc/loadavg)" "$cmd"
	if ! "$A" adact "$@" --threads "$THREADS" --json --quiet >"$TMP/out" 2>"$TMP/err"; then
		echo "  FAILED:"
		sed 's/^/  | /' "$TMP/err" | tail -5
		failures=$((failures + 1))
		return
	fi
	local json
	json=$(grep '^{' "$TMP/out" | tail -1)
	"$PY" -c '
import json, sys
d = json.loads(sys.argv[2]); d["tag"] = sys.argv[1]
print(json.dumps(d))
print("  test_acc %.4f +- %.4f  train_mse %.5f  %.3f s/iter  (%d runs)" % (d["test_acc"],
      d["test_acc_std"], d["train_mse"], d["seconds_per_iter"], len(d["runs"])), file=sys.stderr)
' "$tag" "$json" >>"$LOG"
}

for part in $PARTS; do
	case $part in
	time)
		for r in $(seq 1 "$REPS"); do
			run "time-adact" --algo adact --iters "$TITERS"
			run "time-adam" --algo adam --iters 1
		done
		;;
	kfold)
		for a in $ALGOS; do
			run "kfold-$a" --algo "$a" --iters "$ITERS" --data "fashion-mnist:train=$SUBSET" \
				--kfold "$KFOLD" --val "$VAL"
		done
		;;
	full)
		for a in $ALGOS; do
			run "full-$a" --algo "$a" --iters "$ITERS" --val "$VAL"
		done
		;;
	*) echo "run_adact.sh: unknown part '$part' (time, kfold, full)" >&2; exit 2 ;;
	esac
done
echo "load avg: $(cut -d' ' -f1-3 /proc/loadavg) (end)"
echo

"$PY" - "$LOG" "$THREADS" "$ITERS" "$TITERS" "$SUBSET" "$KFOLD" >"$TMP/table.md" <<'EOF'
import json, statistics, sys
log, threads, iters, titers, subset, kfold = sys.argv[1:7]
runs = [json.loads(l) for l in open(log) if l.strip()]
by = {}
for r in runs:
    by.setdefault(r["tag"], []).append(r)
out = []
ta, tm = by.get("time-adact", []), by.get("time-adam", [])
if ta and tm:
    a = statistics.median(r["seconds_per_iter"] for r in ta)
    m = statistics.median(r["seconds_per_iter"] for r in tm)
    cpu = lambda rs: statistics.median(r["runs"][0].get("cpu_seconds_per_iter", float("nan")) for r in rs)
    ca, cm = cpu(ta), cpu(tm)
    out.append("| %s threads | AdAct s/iteration | Adam s/epoch | ratio AdAct/Adam | AdAct CPU s/iteration | Adam CPU s/epoch | target < 2 s |" % threads)
    out.append("|---|---:|---:|---:|---:|---:|---|")
    out.append("| median of %d | %.3f | %.3f | %.2f | %.3f | %.3f | %s |" % (len(ta), a, m, a / m, ca, cm, "met" if a < 2 else "not met"))
    out.append("")
    out.append("per repetition (AdAct / Adam s): " + ", ".join(
        "%.3f / %.3f" % (x["seconds_per_iter"], y["seconds_per_iter"]) for x, y in zip(ta, tm)))
    out.append("")
rows = [(t, by[t][-1]) for t in by if t.startswith("kfold-") or t.startswith("full-")]
def ms(xs):
    if len(xs) == 1:
        return "%.4f" % xs[0]
    return "%.4f ± %.4f" % (statistics.mean(xs), statistics.stdev(xs))
if rows:
    out.append("| setting | algorithm | test acc, last iteration | test acc, best-validation iteration | best iteration (median) | train MSE (tested net) | s/iteration | CPU s/iteration |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for t, r in rows:
        setting = ("%d-fold CV of %s train images" % (int(kfold), subset)) if t.startswith("kfold") else "full split (60k / 10k)"
        last = [f["test"][-1] for f in r["runs"]]
        best = [f["test_acc"] for f in r["runs"]]
        bi = statistics.median(f["best_iter"] for f in r["runs"])
        cpu = statistics.mean(f.get("cpu_seconds_per_iter", float("nan")) for f in r["runs"])
        out.append("| %s | %s | %s | %s | %g | %.5f | %.3f | %.3f |" % (setting, r["algo"], ms(last), ms(best), bi,
                   r["train_mse"], r["seconds_per_iter"], cpu))
print("\n".join(out))
EOF
cat "$TMP/table.md"
if [ -n "$OUT" ]; then cp "$TMP/table.md" "$OUT"; fi
[ "$failures" -eq 0 ] || { echo "$failures run(s) failed" >&2; exit 1; }

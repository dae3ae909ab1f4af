#!/usr/bin/env bash
# Seed 003's trainer on Fashion-MNIST (N_h = 100, N_s = 9 hinges on [-4,4]):
#   time   seconds per AdAct iteration on the full 60,000 x 784 training set
#          next to the seconds of one Adam epoch (batch 64) of the same
#          network, runs interleaved (adact, adam, adact, adam, ...), medians
#          over BENCH_REPS repetitions, and their ratio;
#   kfold  the declared accuracy protocol (experiments/seed003-mlp-early-stop.ini)
#          on stratified 10-fold cross-validation of the first BENCH_SUBSET
#          training images: AdAct, OWO-BP and Adam back-prop, same network
#          and initial point, BENCH_ITERS iterations (Adam: epochs) each, a
#          stratified BENCH_VAL of every run's training samples held out, and
#          the network of the first best validation iteration tested (early
#          stopping); through the experiment harness (actlab sweep) into
#          BENCH_STORE, then `actlab report --select best-val` against OWO-BP
#          and against Adam (paired t-test and Wilcoxon over the folds), and
#          the last-iteration report for reference;
#   full   the same protocol on the full split (54,000 train, 6,000
#          validation, the 10,000 test images);
#   tuned  experiments/seed003-mlp-tuned.ini on the k-fold subset: the same
#          protocol with each trainer's regulariser (AdAct, OWO-BP: ridge;
#          Adam: weight decay or ridge) chosen per fold on validation,
#          reported with `actlab report --select best-val --tune ridge,wd`
#          against Adam and against OWO-BP (not in the default parts: ~40 min).
# Every command is printed; per-run JSON lines of the time part are kept in
# BENCH_LOG.
#
# Environment knobs:
#   BENCH_PARTS="time kfold full"   BENCH_REPS=3   BENCH_THREADS=2
#   BENCH_ITERS=100 (AdAct/OWO-BP iterations = Adam epochs)   BENCH_TIME_ITERS=3
#   BENCH_SUBSET=10000   BENCH_KFOLD=10   BENCH_ALGOS="adact owo-bp adam"
#   BENCH_VAL=0.1 (validation fraction of each run's training samples)
#   BENCH_STORE=FILE (experiment store; default a temporary one; a store
#   that already holds the runs is reused: the harness skips finished runs)
#   BENCH_OUT=FILE (markdown tables)   BENCH_LOG=FILE (JSON lines)
#   ACTLAB=./actlab   PYTHON=/usr/bin/python3
# Run it niced with OMP_WAIT_POLICY=passive on a shared machine:
#   OMP_WAIT_POLICY=passive nice -n 10 bench/run_adact.sh
# Exit status: 0 if every run succeeded, 1 otherwise (2 on bad setup).
set -u

cd "$(dirname "$0")/.." || exit 2

PARTS=${BENCH_PARTS:-"time kfold full"}
REPS=${BENCH_REPS:-3}
THREADS=${BENCH_THREADS:-2}
ITERS=${BENCH_ITERS:-100}
TITERS=${BENCH_TIME_ITERS:-3}
SUBSET=${BENCH_SUBSET:-10000}
KFOLD=${BENCH_KFOLD:-10}
ALGOS=${BENCH_ALGOS:-"adact owo-bp adam"}
VAL=${BENCH_VAL:-0.1}
INI=experiments/seed003-mlp-early-stop.ini
TINI=experiments/seed003-mlp-tuned.ini
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
STORE=${BENCH_STORE:-$TMP/adact.db}
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
echo "parts:    $PARTS; threads $THREADS; reps $REPS; iters $ITERS; subset $SUBSET; kfold $KFOLD; val $VAL"
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
	kfold | full)
		# the harness runs the protocol; ALGOS as the trainer list
		trainers=$(echo $ALGOS | sed 's/ / | /g')
		if [ "$part" = kfold ]; then
			name=seed003-es-kfold
			set -- --data "fashion-mnist:train=$SUBSET" --kfold "$KFOLD"
		else
			name=seed003-es-full
			set -- --data fashion-mnist --kfold 0
		fi
		printf '%s (load %s): $ACTLAB sweep %s --store %s --threads %s --name %s --trainer '"'"'%s'"'"' --iters %s --val %s %s\n' \
			"$part" "$(cut -d' ' -f1 /proc/loadavg)" "$INI" "$STORE" "$THREADS" "$name" "$trainers" "$ITERS" "$VAL" "$*"
		if ! "$A" sweep "$INI" --store "$STORE" --threads "$THREADS" --name "$name" \
			--trainer "$trainers" --iters "$ITERS" --val "$VAL" "$@" >"$TMP/sweep.log" 2>&1; then
			echo "  FAILED:"
			tail -5 "$TMP/sweep.log" | sed 's/^/  | /'
			failures=$((failures + 1))
			continue
		fi
		grep '^sweep ' "$TMP/sweep.log" | sed 's/^/  /'
		sweeps="${sweeps:-} $name"
		;;
	tuned)
		# experiments/seed003-mlp-tuned.ini: each trainer's regulariser tuned
		# per fold on the validation split (its own trainers and grids)
		printf 'tuned (load %s): $ACTLAB sweep %s --store %s --threads %s --iters %s --val %s --data %s --kfold %s\n' \
			"$(cut -d' ' -f1 /proc/loadavg)" "$TINI" "$STORE" "$THREADS" "$ITERS" "$VAL" \
			"fashion-mnist:train=$SUBSET" "$KFOLD"
		if ! "$A" sweep "$TINI" --store "$STORE" --threads "$THREADS" --iters "$ITERS" \
			--val "$VAL" --data "fashion-mnist:train=$SUBSET" --kfold "$KFOLD" \
			>"$TMP/sweep.log" 2>&1; then
			echo "  FAILED:"
			tail -5 "$TMP/sweep.log" | sed 's/^/  | /'
			failures=$((failures + 1))
			continue
		fi
		grep '^sweep ' "$TMP/sweep.log" | sed 's/^/  /'
		tuned=1
		;;
	*) echo "run_adact.sh: unknown part '$part' (time, kfold, full, tuned)" >&2; exit 2 ;;
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
print("\n".join(out))
EOF
for name in ${sweeps:-}; do
	for b in $ALGOS; do
		[ "$b" = adact ] && continue
		echo "\$ACTLAB report --store $STORE --sweep $name --select best-val --baseline $b --no-plots"
		"$A" report --store "$STORE" --sweep "$name" --select best-val --baseline "$b" --no-plots \
			>"$TMP/rep.md" 2>&1 || failures=$((failures + 1))
		# the results table only (the hinge-value table and notes follow it)
		awk '/^\| /{p=1} p&&!/^\|/{exit} p' "$TMP/rep.md" >>"$TMP/table.md"
		echo >>"$TMP/table.md"
	done
	echo "\$ACTLAB report --store $STORE --sweep $name --no-plots   (last iteration, reference)"
	"$A" report --store "$STORE" --sweep "$name" --no-plots >"$TMP/rep.md" 2>&1 ||
		failures=$((failures + 1))
	awk '/^\| /{p=1} p&&!/^\|/{exit} p' "$TMP/rep.md" >>"$TMP/table.md"
	echo >>"$TMP/table.md"
done
if [ -n "${tuned:-}" ]; then
	for b in adam owo-bp; do
		echo "\$ACTLAB report --store $STORE --sweep seed003-tuned-kfold --select best-val --tune ridge,wd --baseline $b --no-plots"
		"$A" report --store "$STORE" --sweep seed003-tuned-kfold --select best-val \
			--tune ridge,wd --baseline "$b" --no-plots >"$TMP/rep.md" 2>&1 ||
			failures=$((failures + 1))
		awk '/^\| /{p=1} p&&!/^\|/{exit} p' "$TMP/rep.md" >>"$TMP/table.md"
		echo >>"$TMP/table.md"
	done
fi
cat "$TMP/table.md"
if [ -n "$OUT" ]; then cp "$TMP/table.md" "$OUT"; fi
[ "$failures" -eq 0 ] || { echo "$failures run(s) failed" >&2; exit 1; }

#!/usr/bin/env bash
# Side-by-side training benchmark: actlab vs PyTorch 1.13 (Debian) on
# Fashion-MNIST, LeNet-5 and the 784-256-256-10 MLP, batch 64, SGD lr 0.01
# momentum 0.9, 1 epoch, 1 and 2 threads. Runs are interleaved
# (actlab, torch, actlab, torch, ...) so both see the same machine conditions;
# the table reports medians over BENCH_REPS repetitions. See bench/README.md.
#
# Environment knobs:
#   BENCH_REPS=3            repetitions per (framework, model, threads)
#   BENCH_MODELS="lenet5 mlp"
#   BENCH_THREADS="1 2"
#   BENCH_EPOCHS=1
#   BENCH_OUT=FILE          also write the result table as markdown to FILE
#   BENCH_TIMEOUT=1800      seconds before one run is killed (counts as failed)
#   ACTLAB=./actlab  PYTHON=/usr/bin/python3
# Exit status: 0 if every run succeeded, 1 otherwise (2 on bad setup).
set -u

cd "$(dirname "$0")/.." || exit 2

REPS=${BENCH_REPS:-3}
MODELS=${BENCH_MODELS:-"lenet5 mlp"}
THREADS=${BENCH_THREADS:-"1 2"}
EPOCHS=${BENCH_EPOCHS:-1}
TIMEOUT=${BENCH_TIMEOUT:-1800}
ACTLAB=${ACTLAB:-./actlab}
PY=${PYTHON:-/usr/bin/python3}
OUT=${BENCH_OUT:-}

case $REPS in '' | *[!0-9]* | 0) echo "run_core.sh: BENCH_REPS must be a positive integer" >&2; exit 2 ;; esac
[ -x "$ACTLAB" ] || { echo "run_core.sh: $ACTLAB not found; run 'make' first" >&2; exit 2; }
"$PY" -c 'import torch, numpy' 2>/dev/null ||
	{ echo "run_core.sh: $PY cannot import torch and numpy (Debian: python3-torch)" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/actlab-bench.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
RESULTS=$TMP/results.jsonl
: >"$RESULTS"

# Run a private copy of the binary: a rebuild of ./actlab during the
# benchmark then neither changes what is measured halfway nor fails with
# "Text file busy" because a run holds the file open.
ACTLAB_SRC=$ACTLAB
ACTLAB=$TMP/actlab
cp "$ACTLAB_SRC" "$ACTLAB" || exit 2
actlab_id="$ACTLAB_SRC, sha256 $(sha256sum "$ACTLAB" | cut -c1-12), built $(date -u -r "$ACTLAB_SRC" '+%Y-%m-%d %H:%M:%S UTC')"

actlab_cmd() { # model threads
	echo "$ACTLAB train --model $1 --data fashion-mnist --epochs $EPOCHS --batch 64" \
		"--opt sgd --lr 0.01 --momentum 0.9 --threads $2 --json --quiet"
}
torch_cmd() { # model threads
	echo "$PY bench/torch_train.py --model $1 --epochs $EPOCHS --batch 64" \
		"--lr 0.01 --momentum 0.9 --threads $2 --json --quiet"
}

rev=$(git rev-parse --short HEAD 2>/dev/null || echo "none (no commits)")
if [ -n "$(git status --porcelain 2>/dev/null | head -1)" ]; then rev="$rev+dirty"; fi
torch_ver=$("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)

echo "== actlab vs PyTorch training benchmark =="
echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "host:     $(uname -srm); $cpu; nproc $(nproc)"
echo "git rev:  $rev"
echo "actlab:   $actlab_id (run from a private copy, \$ACTLAB below)"
echo "torch:    $torch_ver ($PY)"
echo "load avg: $(cut -d' ' -f1-3 /proc/loadavg) (start)"
ompenv=$(env | grep -E '^(OMP_|GOMP_|KMP_|MKL_|OPENBLAS_|MALLOC_)' | sort | tr '\n' ' ')
echo "env:      ${ompenv:-(no OMP_/GOMP_/MKL_/OPENBLAS_/MALLOC_ variables set)}"
echo "reps:     $REPS, interleaved actlab/torch; models: $MODELS; threads: $THREADS; epochs: $EPOCHS"
echo "commands (M = model, T = threads):"
echo "  $(actlab_cmd M T | sed "s|^$ACTLAB|\$ACTLAB|")"
echo "  $(torch_cmd M T)"
echo

failures=0
run_one() { # framework model threads rep
	local fw=$1 m=$2 t=$3 r=$4 cmd json rc
	if [ "$fw" = actlab ]; then cmd=$(actlab_cmd "$m" "$t"); else cmd=$(torch_cmd "$m" "$t"); fi
	local so=$TMP/$fw-$m-$t-$r.out se=$TMP/$fw-$m-$t-$r.err
	printf '%-6s %-6s threads %s rep %s/%s (load %s) ... ' "$fw" "$m" "$t" "$r" "$REPS" \
		"$(cut -d' ' -f1 /proc/loadavg)"
	# shellcheck disable=SC2086  # cmd is a plain word list built above
	timeout "$TIMEOUT" $cmd >"$so" 2>"$se"
	rc=$?
	json=$(grep '^{' "$so" | tail -1)
	if [ $rc -ne 0 ] || [ -z "$json" ]; then
		echo "FAILED (exit $rc)"
		echo "  command: $cmd"
		sed 's/^/  | /' "$se" | tail -20
		failures=$((failures + 1))
		return
	fi
	if ! "$PY" -c '
import json, sys
fw, m, t, r = sys.argv[1:5]
d = json.loads(sys.stdin.read())
rec = {"fw": fw, "model": m, "threads": int(t), "rep": int(r),
       "img_per_s": float(d["img_per_s"]), "peak_rss_mb": float(d["peak_rss_mb"]),
       "test_acc": float(d["test_acc"]), "seconds": float(d.get("seconds", 0))}
print(json.dumps(rec))
print("%.0f img/s  rss %.1f MB  test_acc %.4f  (%.1f s)" % (rec["img_per_s"],
      rec["peak_rss_mb"], rec["test_acc"], rec["seconds"]), file=sys.stderr)
' "$fw" "$m" "$t" "$r" <<<"$json" >>"$RESULTS" 2>"$TMP/line"; then
		echo "FAILED (unparsable JSON)"
		echo "  command: $cmd"
		echo "  | $json"
		failures=$((failures + 1))
		return
	fi
	cat "$TMP/line"
}

for m in $MODELS; do
	for t in $THREADS; do
		for r in $(seq 1 "$REPS"); do
			run_one actlab "$m" "$t" "$r"
			run_one torch "$m" "$t" "$r"
		done
	done
done
echo
echo "load avg: $(cut -d' ' -f1-3 /proc/loadavg) (end)"
echo

if ! "$PY" - "$RESULTS" "$OUT" "$rev" "$(nproc)" "$REPS" "$torch_ver" "$MODELS" "$THREADS" <<'EOF'
import json, statistics, sys, time
path, out, rev, nproc, reps, torch_ver, models, threads = sys.argv[1:9]
recs = [json.loads(l) for l in open(path) if l.strip()]

def med(fw, m, t, key):
    v = [r[key] for r in recs if r["fw"] == fw and r["model"] == m and r["threads"] == t]
    return (statistics.median(v), len(v)) if v else (None, 0)

def f(x, fmt):
    return "—" if x is None else format(x, fmt)

hdr = ["model", "threads", "actlab img/s", "torch img/s", "img/s ratio",
       "actlab RSS MB", "torch RSS MB", "RSS ratio", "actlab test acc", "torch test acc", "runs a/t"]
rows, verdict = [], []
for m in models.split():
    for t in map(int, threads.split()):
        ai, na = med("actlab", m, t, "img_per_s")
        ti, nt = med("torch", m, t, "img_per_s")
        ar, _ = med("actlab", m, t, "peak_rss_mb")
        tr, _ = med("torch", m, t, "peak_rss_mb")
        aa, _ = med("actlab", m, t, "test_acc")
        ta, _ = med("torch", m, t, "test_acc")
        ratio = ai / ti if ai and ti else None
        rss = ar / tr if ar and tr else None
        rows.append([m, str(t), f(ai, ".0f"), f(ti, ".0f"), f(ratio, ".2f") + ("×" if ratio else ""),
                     f(ar, ".1f"), f(tr, ".1f"), f(rss, ".3f"), f(aa, ".4f"), f(ta, ".4f"),
                     "%d/%d" % (na, nt)])
        if t == 2:
            ok = ratio is not None and rss is not None and ratio >= 1.0 and rss <= 1 / 3
            verdict.append("%s @2 threads: speed %s (need ≥ 1), RSS %s (need ≤ 0.333) -> %s"
                           % (m, f(ratio, ".2f"), f(rss, ".3f"), "MET" if ok else "NOT MET"))

w = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(hdr)]
line = lambda cells: "  ".join(c.rjust(w[i]) if i >= 1 else c.ljust(w[i]) for i, c in enumerate(cells))
print(line(hdr))
print("  ".join("-" * x for x in w))
for r in rows:
    print(line(r))
print()
print("medians over %s reps; img/s = training loop only (batch assembly, forward, backward, update);" % reps)
print("ratio = actlab / torch (img/s: higher is better for actlab; RSS: lower is better)")
# Interleaved runs form pairs (actlab rep r, torch rep r) that saw nearly
# the same machine; their ratios show how stable the comparison is.
for m in models.split():
    for t in map(int, threads.split()):
        a = {r["rep"]: r["img_per_s"] for r in recs if r["fw"] == "actlab" and r["model"] == m and r["threads"] == t}
        b = {r["rep"]: r["img_per_s"] for r in recs if r["fw"] == "torch" and r["model"] == m and r["threads"] == t}
        pr = [a[k] / b[k] for k in sorted(a) if k in b and b[k] > 0]
        if pr:
            print("paired img/s ratios %s @%d threads: %s (median %.2f)"
                  % (m, t, ", ".join("%.2f" % x for x in pr), statistics.median(pr)))
# On a shared 2-core machine a 2-thread run that is slower than the
# 1-thread run means the cores were not both available: OpenMP threads wait
# at barriers for a descheduled partner, and the 2-thread row then measures
# that, not compute. Flag it so the verdict is not quoted blindly.
warn = []
tl = sorted(map(int, threads.split()))
for m in models.split():
    for fw in ("actlab", "torch"):
        v1, _ = med(fw, m, tl[0], "img_per_s")
        vn, _ = med(fw, m, tl[-1], "img_per_s")
        if len(tl) > 1 and v1 and vn and vn < v1:
            warn.append("%s %s: %.0f img/s at %d threads < %.0f at %d" % (fw, m, vn, tl[-1], v1, tl[0]))
if warn:
    verdict.append("WARNING: more threads ran slower (%s): the machine was oversubscribed, "
                   "so multi-thread rows measure contention; rerun when it is quiet"
                   % "; ".join(warn))
for v in verdict:
    print(("" if v.startswith("WARNING") else "target: ") + v)

if out:
    with open(out, "w") as fh:
        fh.write("Fashion-MNIST, batch 64, SGD lr 0.01 momentum 0.9, 1 epoch; median of %s interleaved runs "
                 "(`bench/run_core.sh`, %s, git %s, nproc %s, PyTorch %s).\n\n"
                 % (reps, time.strftime("%Y-%m-%d", time.gmtime()), rev, nproc, torch_ver))
        fh.write("| " + " | ".join(hdr) + " |\n")
        fh.write("|" + "|".join("---" if i == 0 else "---:" for i in range(len(hdr))) + "|\n")
        for r in rows:
            fh.write("| " + " | ".join(r) + " |\n")
        fh.write("\n" + "\n".join("- " + v for v in verdict) + "\n")
    print("markdown table written to " + out)
EOF
then
	failures=$((failures + 1))
fi

if [ "$failures" -ne 0 ]; then
	echo "run_core.sh: $failures run(s) failed" >&2
	exit 1
fi
exit 0

#!/usr/bin/env bash
# Side-by-side training throughput of zoo networks: actlab vs PyTorch 1.13
# (Debian) on Fashion-MNIST adapted to the models' 3x32x32 input (zero-pad
# 2 px, gray replicated to 3 channels), the first N training images, batch
# 64, SGD lr 0.01 momentum 0.9, 1 epoch. Runs are interleaved (actlab, torch,
# actlab, torch, ...) so both see the same machine; the table reports
# medians over BENCH_REPS repetitions and the paired ratios.
#
# Environment knobs:
#   BENCH_REPS=3   BENCH_MODELS="resnet20 vgg2"   BENCH_THREADS="1 2"
#   BENCH_TRAIN=512 (images per epoch)   BENCH_OUT=FILE (markdown table)
#   ACTLAB=./actlab  PYTHON=/usr/bin/python3
set -u
cd "$(dirname "$0")/.." || exit 2
REPS=${BENCH_REPS:-3}
MODELS=${BENCH_MODELS:-"resnet20 vgg2"}
THREADS=${BENCH_THREADS:-"1 2"}
N=${BENCH_TRAIN:-512}
ACTLAB=${ACTLAB:-./actlab}
PY=${PYTHON:-/usr/bin/python3}
OUT=${BENCH_OUT:-}
[ -x "$ACTLAB" ] || { echo "run_zoo.sh: $ACTLAB not found; run 'make' first" >&2; exit 2; }
"$PY" -c 'import torch' 2>/dev/null || { echo "run_zoo.sh: $PY cannot import torch" >&2; exit 2; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/actlab-zoo-bench.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
cp "$ACTLAB" "$TMP/actlab" || exit 2
RES=$TMP/results.jsonl
: >"$RES"

actlab_cmd() { echo "$TMP/actlab train --model $1 --data fashion-mnist:train=$N,test=100 --epochs 1 --batch 64 --opt sgd --lr 0.01 --momentum 0.9 --threads $2 --json --quiet"; }
torch_cmd() { echo "$PY bench/torch_zoo.py --model $1 --train $N --epochs 1 --batch 64 --lr 0.01 --momentum 0.9 --threads $2 --json"; }

echo "== zoo training throughput: actlab vs PyTorch =="
echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); git rev $(git rev-parse --short HEAD 2>/dev/null); nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commands (M = model, T = threads):"
echo "  $(actlab_cmd M T | sed "s|^$TMP/actlab|./actlab|")"
echo "  $(torch_cmd M T)"
fail=0
for m in $MODELS; do
	for t in $THREADS; do
		for r in $(seq 1 "$REPS"); do
			for fw in actlab torch; do
				if [ $fw = actlab ]; then cmd=$(actlab_cmd "$m" "$t"); else cmd=$(torch_cmd "$m" "$t"); fi
				# shellcheck disable=SC2086
				json=$($cmd 2>"$TMP/err" | grep '^{' | tail -1)
				if [ -z "$json" ]; then
					echo "$fw $m threads $t rep $r FAILED"; sed 's/^/  | /' "$TMP/err" | tail -5
					fail=1; continue
				fi
				ips=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["img_per_s"])' "$json")
				echo "{\"fw\": \"$fw\", \"model\": \"$m\", \"threads\": $t, \"rep\": $r, \"ips\": $ips}" >>"$RES"
				printf '%-6s %-8s threads %s rep %s: %.1f img/s (load %s)\n' "$fw" "$m" "$t" "$r" "$ips" "$(cut -d' ' -f1 /proc/loadavg)"
			done
		done
	done
done
"$PY" - "$RES" "$OUT" "$N" "$REPS" <<'PYEOF'
import json, statistics, sys
path, out, n, reps = sys.argv[1:5]
recs = [json.loads(l) for l in open(path) if l.strip()]
keys = sorted({(r["model"], r["threads"]) for r in recs}, key=lambda k: (k[0], k[1]))
lines = ["| model | threads | actlab img/s | PyTorch img/s | ratio (median of paired) | paired ratios |",
         "|---|---|---|---|---|---|"]
for m, t in keys:
    a = {r["rep"]: r["ips"] for r in recs if r["fw"] == "actlab" and r["model"] == m and r["threads"] == t}
    b = {r["rep"]: r["ips"] for r in recs if r["fw"] == "torch" and r["model"] == m and r["threads"] == t}
    pr = [a[k] / b[k] for k in sorted(a) if k in b and b[k] > 0]
    lines.append("| %s | %d | %.1f | %.1f | %s | %s |" % (
        m, t, statistics.median(a.values()) if a else float("nan"),
        statistics.median(b.values()) if b else float("nan"),
        "%.2f" % statistics.median(pr) if pr else "-", ", ".join("%.2f" % x for x in pr)))
text = "\n".join(lines)
print(text)
print("(%s training images per run, medians of %s interleaved reps; ratio = actlab / PyTorch)" % (n, reps))
if out:
    open(out, "w").write(text + "\n")
PYEOF
exit $fail

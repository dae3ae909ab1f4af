#!/bin/sh
# Loading a folder: image tree, side by side in one run: actlab decoding
# with 1 and 2 threads, actlab from its on-disk cache, and a PIL loop doing
# the same work (decode, RGB, Resize(64) + CenterCrop(64)) in one Python
# process. Images: N JPEGs of 300x200 (Caltech-101-like) in 10 classes,
# written by PIL into a temporary directory. Each figure is the median of
# REPS runs; the CLI runs `train --epochs 0` (load + build, no training).
# Both wall and CPU seconds (user+sys) are reported: on a shared machine
# wall time mostly measures waiting for a core, CPU time the work done.
#   bench/run_folder.sh [N] [REPS]
set -eu
N=${1:-2000}
REPS=${2:-3}
BIN=${ACTLAB_BIN:-./actlab}
PY=/usr/bin/python3
TMP=$(mktemp -d /tmp/actlab-folder-bench-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
export ACTLAB_CACHE_DIR="$TMP/cache"

$PY - "$TMP/tree" "$N" <<'EOF'
import os, sys, random
from PIL import Image
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(1)
for i in range(n):
    d = os.path.join(root, "class%02d" % (i % 10))
    os.makedirs(d, exist_ok=True)
    # smooth gradients plus noise: compresses like a photo, not like noise
    im = Image.linear_gradient("L").resize((300, 200)).convert("RGB")
    px = im.load()
    for _ in range(400):
        x, y = rnd.randrange(300), rnd.randrange(200)
        px[x, y] = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
    im.rotate(i % 360).save(os.path.join(d, "img%05d.jpg" % i), quality=90)
EOF

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run_actlab() { # threads cache -> "wall cpu"
	/usr/bin/time -f "%e %U %S" -o "$TMP/time" "$BIN" train --model mlp:8 \
		--data "folder:$TMP/tree,size=64,cache=$2" --epochs 0 --threads "$1" --quiet
	awk '{printf "%s %.2f\n", $1, $2 + $3}' "$TMP/time"
}

run_pil() {
	$PY - "$TMP/tree" <<'EOF'
import os, sys, time
from PIL import Image
import numpy as np
root = sys.argv[1]
t, c = time.perf_counter(), time.process_time()
files = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(root) for f in fs)
out = np.empty((len(files), 3, 64, 64), np.uint8)
for i, f in enumerate(files):
    im = Image.open(f).convert("RGB")
    w, h = im.size
    s = 64 / min(w, h)
    im = im.resize((round(w * s), round(h * s)), Image.BILINEAR)
    w, h = im.size
    l, tp = (w - 64) // 2, (h - 64) // 2
    out[i] = np.asarray(im.crop((l, tp, l + 64, tp + 64))).transpose(2, 0, 1)
print("%.4f %.4f" % (time.perf_counter() - t, time.process_time() - c))
EOF
}

: >"$TMP/a1"; : >"$TMP/a2"; : >"$TMP/ac"; : >"$TMP/p"
for r in $(seq "$REPS"); do
	run_actlab 1 0 >>"$TMP/a1"
	run_actlab 2 0 >>"$TMP/a2"
	run_pil >>"$TMP/p"
done
run_actlab 2 1 >/dev/null # writes the cache
for r in $(seq "$REPS"); do
	run_actlab 2 1 >>"$TMP/ac"
done
col() { cut -d' ' -f"$2" "$TMP/$1" | median; }
echo "images: $N JPEG 300x200 -> 3x64x64, median of $REPS runs (seconds: wall, CPU)"
echo "actlab decode 1 thread   $(col a1 1)  $(col a1 2)"
echo "actlab decode 2 threads  $(col a2 1)  $(col a2 2)"
echo "actlab cache hit         $(col ac 1)  $(col ac 2)"
echo "PIL loop (1 process)     $(col p 1)  $(col p 2)"
awk -v a="$(col a1 1)" -v b="$(col a2 1)" -v c="$(col ac 1)" -v ac="$(col a1 2)" \
	-v pc="$(col p 2)" 'BEGIN {
	printf "wall: 2 threads %.2fx faster than 1; cache hit %.1fx faster than decoding (2 threads)\n", a / b, b / c
	printf "CPU: actlab 1 thread uses %.2fx the CPU time of the PIL loop\n", ac / pc }'

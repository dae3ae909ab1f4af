#!/bin/sh
# Installs the Debian packages actlab needs, only those that are missing, so a
# second run is instant. apt-get as root, through sudo otherwise.
#   scripts/install-deps.sh          build + test packages
#   scripts/install-deps.sh --min    build packages only (no PyTorch; Open MPI
#                                    included, for make MPI=1)
set -eu

BUILD="build-essential libopenblas-dev liblapacke-dev zlib1g-dev libsqlite3-dev libinih-dev libstb-dev"
# openmpi-bin, libopenmpi-dev: ./actlab-mpi (make MPI=1) runs data-parallel
# training and distributed sweeps under mpirun/srun (docs/scale-out.md);
# make check builds it and runs the MPI tests with mpirun -np 2 on loopback.
MPI="openmpi-bin libopenmpi-dev"
DATA="dataset-fashion-mnist"
# python3-torchvision: the zoo's parameter-count fixtures come from its
# reference networks (tests/fixtures/gen_zoo.py); tests only read the counts.
# chromium: the test that renders `actlab report --format html` headless and
# checks it loads without console errors and shows its tables and plots.
TEST="python3-torch python3-numpy python3-torchvision gnuplot-nox chromium"

want="$BUILD $MPI $DATA"
[ "${1:-}" = "--min" ] || want="$want $TEST"

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "actlab: installing Debian packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/usr/bin/env bash
# Whole-process comparison for the digits CNN's full Hessian (issue 13: "the whole `curvlab hessian`
# process at most 1/2 of a PyTorch script's whole process (start, read, compute, write)").
#
# Writes the digits CNN of the examples ([1, 8, 8]-conv6x3x3p1(tanh)-maxpool2x2-flatten-10, ce,
# N = 1,030, at CnnBench's point) with the first SAMPLES digits as curvlab command inputs (model.json,
# params.npy, X.npy [n, 1, 8, 8], Y.npy), then times with /usr/bin/time, RUNS times each, alternating:
#   curvlab: java -jar curvature/target/curvlab.jar hessian ... --out H_curvlab.npy   ($CURVLAB overrides the launcher)
#   PyTorch: /usr/bin/python3 bench/cnn_hessian_process.py DIR H_torch.npy  (start, imports, read, row-loop Hessian, np.save)
# and prints the wall times, their ratio, and max |H_curvlab - H_torch| (the two matrices must agree).
#
#   bench/cnn-hessian-process.sh [SAMPLES] [RUNS]      (default: 1000 1; needs `mvn -B -q package -DskipTests`)
set -euo pipefail
cd "$(dirname "$0")/.."
samples="${1:-1000}"
runs="${2:-1}"
curvlab="${CURVLAB:-java -jar curvature/target/curvlab.jar}"
for jar in curvature/target/curvlab.jar bench/target/curvlab-bench.jar; do
  [[ -f "$jar" ]] || { echo "cnn-hessian-process.sh: $jar is missing; build first: mvn -B -q package -DskipTests" >&2; exit 2; }
done
[[ "$samples" =~ ^[1-9][0-9]*$ && "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "cnn-hessian-process.sh: SAMPLES and RUNS must be positive integers, got '$samples' '$runs'" >&2; exit 2; }
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
java -Dorg.bytedeco.javacpp.maxphysicalbytes=0 -Dorg.bytedeco.javacpp.maxbytes=0 \
  -cp bench/target/curvlab-bench.jar dev.curvlab.bench.CliInputs digits-cnn "$dir" "$samples" 2>/dev/null | tail -1
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)')"
wall() {   # label command... : runs it under /usr/bin/time, prints and returns the wall seconds in $seconds
  local label="$1"; shift
  /usr/bin/time -f "%e %M" -o "$dir/time" "$@" >"$dir/stdout" 2>"$dir/stderr" || { cat "$dir/stderr" >&2; exit 1; }
  read -r seconds rss <"$dir/time"
  echo "$label: ${seconds} s wall, max RSS $((rss / 1024)) MB  $(tail -1 "$dir/stderr")"
}
curvlab_times=(); torch_times=()
for ((r = 0; r < runs; r++)); do
  rm -f "$dir/H_curvlab.npy" "$dir/H_torch.npy"
  # shellcheck disable=SC2086
  wall "curvlab hessian" $curvlab hessian --model "$dir/model.json" --params "$dir/params.npy" --x "$dir/X.npy" --y "$dir/Y.npy" \
    --out "$dir/H_curvlab.npy" --quiet
  curvlab_times+=("$seconds")
  wall "PyTorch script " /usr/bin/python3 bench/cnn_hessian_process.py "$dir" "$dir/H_torch.npy"
  torch_times+=("$seconds")
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$dir" "${curvlab_times[*]}" "${torch_times[*]}" <<'EOF'
import sys, statistics
import numpy as np
d, c, t = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
a, b = np.load(f"{d}/H_curvlab.npy"), np.load(f"{d}/H_torch.npy")
print(f"H {a.shape}: max |H_curvlab - H_torch| = {np.abs(a - b).max():.3e} (max |H| = {np.abs(b).max():.3e})")
mc, mt = statistics.median(c), statistics.median(t)
print(f"whole process, median of {len(c)}: curvlab {mc:.1f} s, PyTorch {mt:.1f} s, curvlab / PyTorch = {mc / mt:.2f} (target <= 0.5)")
EOF

#!/usr/bin/env bash
# Whole-process wall time of `curvlab eigs --k 10` and `curvlab trace --samples 100` on the medium
# MLP (20-64-64-3 tanh, ce) with 20,000 samples, on the layer engine and the generic engine, beside
# the same computations in PyTorch + scipy (bench/torch_eigs.py: eigsh / Hutch++ over full-data HVPs),
# run back to back. Prints each run's seconds.
#
#   bench/eigs-timing.sh [samples] [runs]          (default: 20000 1)
set -euo pipefail
cd "$(dirname "$0")/.."
samples="${1:-20000}"
runs="${2:-1}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
java -cp bench/target/curvlab-bench.jar dev.curvlab.bench.CliInputs medium "$dir" "$samples" >/dev/null
in=(--model "$dir/model.json" --params "$dir/params.npy" --x "$dir/X.npy" --y "$dir/Y.npy" --quiet)
bin/curvlab gradient "${in[@]}" >/dev/null          # writes the class-data archive if there is none
timed() {
  local start=$(date +%s%N)
  "$@" > "$dir/last.txt"
  echo "$(( ($(date +%s%N) - start) / 1000000 )) ms: ${*:1:3} | $(head -c 200 "$dir/last.txt" | tr '\n' ' ') ... $(tail -n 1 "$dir/last.txt")"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); medium MLP, $samples samples"
for ((r = 0; r < runs; r++)); do
  timed bin/curvlab eigs --k 10 --max-iter "${MAX_ITER:-200}" "${in[@]}" --engine layers
  timed /usr/bin/python3 bench/torch_eigs.py "$dir" eigs 10
  timed bin/curvlab trace --samples 100 "${in[@]}" --engine layers
  timed /usr/bin/python3 bench/torch_eigs.py "$dir" trace 100
  if [[ "${GENERIC:-0}" == 1 ]]; then
    timed bin/curvlab eigs --k 10 --max-iter "${MAX_ITER:-200}" "${in[@]}" --engine generic
    timed bin/curvlab trace --samples 100 "${in[@]}" --engine generic
  fi
done

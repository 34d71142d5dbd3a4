#!/usr/bin/env bash
# Wall time of whole `curvlab hessian` processes (JVM start, reading, compute, writing the [N, N]
# .npy) on a reference problem, through bin/curvlab (class-data-sharing archive) and plain
# `java -jar`; prints every run and the median of each.
#
#   bench/cli-timing.sh [small|medium] [runs]        (default: medium 5)
set -euo pipefail
cd "$(dirname "$0")/.."
problem="${1:-medium}"
runs="${2:-5}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
java -cp bench/target/curvlab-bench.jar dev.curvlab.bench.CliInputs "$problem" "$dir" >/dev/null
args=(hessian --model "$dir/model.json" --params "$dir/params.npy" --x "$dir/X.npy" --y "$dir/Y.npy" --out "$dir/H.npy" --quiet)
bin/curvlab "${args[@]}" >/dev/null                 # writes the class-data archive if there is none
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for launcher in "bin/curvlab" "java -jar curvature/target/curvlab.jar"; do
  times=()
  for ((r = 0; r < runs; r++)); do
    rm -f "$dir/H.npy"
    start=$(date +%s%N)
    $launcher "${args[@]}" >/dev/null
    times+=($(( ($(date +%s%N) - start) / 1000000 )))
  done
  sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  echo "$launcher hessian ($problem): ${times[*]} ms; median ${sorted[$((runs / 2))]} ms"
done

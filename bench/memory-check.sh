#!/usr/bin/env bash
# Checks that the dense-matrix preflight under --max-memory is honest: runs `curvlab hessian` on the
# cases of issue 10 in fresh processes and compares each process's peak resident memory (VmHWM, from
# GNU time's %M) with its budget. The first line is the JVM baseline: the same command on a tiny
# model (N = 31), i.e. the JVM, ND4J and OpenBLAS before any sizeable array. The rule, printed as
# PASS or FAIL per case:
#   peak RSS <= budget + baseline
# (a case the preflight refuses with one line passes too: nothing was accepted that does not fit).
# Exit status 1 when any case fails.
#
#   bench/memory-check.sh            (after mvn -B -q package -DskipTests; about 3 minutes on 2 cores)
#   BLOCKED=1 bench/memory-check.sh  (adds the blocked method's case, about 10 minutes more)
#
# Uses /tmp/curvlab-memory-check for inputs and outputs (about 1.5 GB of .npy files, removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
jar="${CURVLAB_JAR:-curvature/target/curvlab.jar}"
bench=bench/target/curvlab-bench.jar
work=/tmp/curvlab-memory-check
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}"
baseline_mb=0
failures=0

inputs() {   # spec dir
  [[ -f "$2/params.npy" ]] || java -Dcurvlab.log.level=WARN -cp "$bench" dev.curvlab.bench.CliInputs "$1" "$2" > /dev/null
}

megabytes() {   # 1500M, 2G, 512K -> MB (integer)
  local v=${1%[KkMmGg]} unit=${1: -1}
  case "$unit" in
    G|g) echo $((v * 1024)) ;;
    M|m) echo "$v" ;;
    K|k) echo $((v / 1024)) ;;
    *) echo $((v / 1048576)) ;;
  esac
}

run() {   # label spec budget extra...
  local label=$1 spec=$2 budget=$3
  shift 3
  local dir="$work/${spec//[:]/_}"
  inputs "$spec" "$dir"
  local rc=0
  /usr/bin/time -o "$work/rss.txt" -f '%M' java -jar "$jar" hessian --model "$dir/model.json" --params "$dir/params.npy" \
      --x "$dir/X.npy" --y "$dir/Y.npy" --out "$work/h.npy" --quiet ${budget:+--max-memory "$budget"} "$@" > "$work/out.txt" 2> "$work/err.txt" || rc=$?
  local peak verdict=""
  peak=$(( $(tail -1 "$work/rss.txt") / 1024 ))
  if [[ -z "$budget" ]]; then
    baseline_mb=$peak
  else
    local limit=$(( $(megabytes "$budget") + baseline_mb ))
    if (( rc == 0 && peak <= limit )); then
      verdict="PASS (<= $limit MB)"
    elif (( rc == 1 )) && [[ $(wc -l < "$work/err.txt") -le 1 ]]; then
      verdict="PASS (refused)"
    else
      verdict="FAIL (> $limit MB or exit $rc)"
      failures=$((failures + 1))
    fi
  fi
  printf '%-44s budget %-7s peak RSS %6d MB  %-20s %s\n' "$label" "${budget:-default}" "$peak" "$verdict" \
    "$( [[ -s "$work/err.txt" ]] && head -c 160 "$work/err.txt" | tr '\n' ' ' || echo ok)"
  rm -f "$work/h.npy"
}

echo "threads: OMP_NUM_THREADS=$OMP_NUM_THREADS; load average $(cut -d' ' -f1-3 /proc/loadavg); rule: peak RSS <= budget + baseline"
run "baseline: 3-4-3 ce, 9 samples (N = 31)" 3-4-3:ce:9 ""
run "4-96-96-3 ce, 300 samples (N = 10,083)" 4-96-96-3:ce:300 1500M
run "4-96-96-3 ce, 3000 samples" 4-96-96-3:ce:3000 1500M
run "20-64-64-10 ce, 2000 samples (N = 6,154)" 20-64-64-10:ce:2000 600M
if [[ "${BLOCKED:-0}" == 1 ]]; then   # about 10 minutes on 2 cores
  run "20-64-64-10 ce, 2000 samples, blocked" 20-64-64-10:ce:2000 2G --method blocked
fi
echo "$failures case(s) over budget + baseline"
(( failures == 0 ))

#!/usr/bin/env bash
# Runs curvlab's JMH benchmark suite and the dense-Hessian scaling report.
#
#   bench/run.sh [jmh args...]      e.g. bench/run.sh GradientBench   (regex of benchmarks to run)
#
# Writes bench/results/jmh.json (JMH), bench/results/scaling.csv and bench/results/scaling.png.
# Threads: every benchmark applies curvlab's NativeSettings.recommended(): BLAS (matrix products) on
# all cores, ND4J's elementwise kernels on one thread (faster at these sizes), freed native memory
# kept for reuse. OMP_NUM_THREADS defaults to nproc. Use a quiet machine: shared cores distort
# everything.
# Results are machine-specific: compare with PyTorch only on the same machine, ideally in the same
# session (shared/anchors/torch_anchor.py), and record the load average printed below.
# The whole suite takes roughly 10 minutes (JMH about 7, scaling report about 3) on a 2-core machine.
# Set SKIP_SCALING=1 to run only JMH; BUILD=1 to rebuild the jar first.
set -euo pipefail

cd "$(dirname "$0")/.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}"

if [[ "${BUILD:-0}" == 1 || ! -f bench/target/curvlab-bench.jar ]]; then
  mvn -B -q package -DskipTests
fi
mkdir -p bench/results

echo "threads: nproc=$(nproc) OMP_NUM_THREADS=${OMP_NUM_THREADS}"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "java: $(java -version 2>&1 | head -1)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

java -jar bench/target/curvlab-bench.jar -rf json -rff bench/results/jmh.json "$@"
echo "load average after JMH: $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ "${SKIP_SCALING:-0}" != 1 ]]; then
  java -Djava.awt.headless=true -Xmx4g \
    -Dorg.bytedeco.javacpp.maxphysicalbytes=0 -Dorg.bytedeco.javacpp.maxbytes=0 -Dcurvlab.log.level=WARN \
    -cp bench/target/curvlab-bench.jar dev.curvlab.bench.ScalingReport --out bench/results
  echo "load average after scaling report: $(cut -d' ' -f1-3 /proc/loadavg)"
fi

#!/usr/bin/env bash
# Spark scaling figures (README "Running on a cluster"): HVP throughput on local[1] and local[2] against the
# single-machine operator, and per-band costs of a distributed dense Hessian. Build first:
#   mvn -B -q package -DskipTests
# usage: spark/bench.sh [samples=1000000] [repeats=5] [hvp,bands]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# the launcher's JVM flags, with the bench class instead of the CLI
exec env CURVLAB_SPARK_MAIN=dev.curvlab.spark.bench.SparkBench CURVLAB_JAVA_OPTS="${CURVLAB_JAVA_OPTS:--Xmx8g}" \
  "$root/bin/curvlab-spark" "${1:-1000000}" "${2:-5}" "${3:-hvp,bands}"

#!/usr/bin/env bash
# Microbenchmarks (issue #11), with JMH: the scheduler's dispatch decision on 16 backends x 3 models x 1,000 queued
# requests (DispatchBenchmark), its whole work for one request on a warm backend with a free slot (WarmSlotBenchmark),
# one streamed chunk through the client side of the pipeline (ClientChunkBenchmark),
# what the relay reads of each chunk (TimingSnifferBenchmark), a completion's learning with a rebuild of the fleet-wide
# speeds (CostModelBenchmark), one placement plan on 4 or 16 memory-limited backends (PlacementBenchmark), and what
# cluster mode costs (ClusterCostBenchmark; needs /usr/bin/redis-server). The sources are in src/jmh/java;
# `mvn test` compiles them (so they cannot rot) but never runs them. This script generates JMH's harness for them and runs it.
#
#   bench/jmh.sh                    every benchmark (about 6 minutes)
#   bench/jmh.sh Dispatch           the benchmarks whose name matches a regular expression
#   bench/jmh.sh Dispatch -p policy=eft -f 1 -wi 2 -i 3    any further JMH options (see -h)
#
# Results: the JMH table on stdout, and target/jmh/results.json.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=target/jmh
mkdir -p "$OUT/classes" "$OUT/generated"

mvn -q -B -o test-compile -DskipTests 2>/dev/null || mvn -q -B test-compile -DskipTests
mvn -q -B -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/classpath.txt" >/dev/null \
  || mvn -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/classpath.txt" >/dev/null
CP="target/test-classes:target/classes:$(cat "$OUT/classpath.txt")"

# JMH's annotation processor writes the harness classes and META-INF/BenchmarkList.
find src/jmh/java -name '*.java' > "$OUT/sources.txt"
javac -nowarn -encoding UTF-8 --release 17 -cp "$CP" \
  -processor org.openjdk.jmh.generators.BenchmarkProcessor \
  -d "$OUT/classes" -s "$OUT/generated" @"$OUT/sources.txt"

exec java -cp "$OUT/classes:$CP" org.openjdk.jmh.Main -rf json -rff "$OUT/results.json" "$@"

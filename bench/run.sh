#!/usr/bin/env bash
# Benchmarks of ollama-balancer; writes bench/RESULTS.md (only the sections of the benchmarks that ran).
#
#   bench/run.sh            all benchmarks
#   bench/run.sh proxy      (1) proxy overhead: wrk, backend directly vs nginx proxy_pass vs the balancer, then one connection
#   bench/run.sh streams    (2) 1,000 concurrent streams: loadgen, through the balancer vs nginx vs directly
#   bench/run.sh streams-5000  the same with 5,000 streams (4 simulators x 1,250 slots at 10 tokens/s)
#   bench/run.sh tls        (4) TLS on the listener: plain vs OpenSSL vs the JDK's provider, same run (loadgen only)
#   bench/run.sh coldstart  (5) cold start: req/s second by second from a fresh JVM, nginx in the same rounds
#
# Installs nginx, wrk, jq and curl with apt-get when missing (without nginx, streams has no peer row), and builds the jar when it is missing. Everything
# listens on 127.0.0.1 only; every load is bounded in time or count; every process started here is stopped on exit.
# Scratch files go to bench/out/ (git-ignored). Knobs (environment, defaults in bench/lib/*.sh): WRK_THREADS,
# WRK_CONNECTIONS, WRK_DURATION, WRK_WARMUP, PROXY_ROUNDS, ONE_CONN_DURATION, STREAMS, SIMS, DECODE_TPS, TOKENS, STREAM_REQUESTS,
# STREAM_WARMUP, STREAM_RAMP, STREAM_ROUNDS, STREAM_JIT_PASSES, STREAM_JIT_SETTLED, COLD_SECONDS, COLD_ROUNDS, BALANCER_JAVA_OPTS, BALANCER_TRIES, SIM_JAVA_OPTS, LOADGEN_JAVA_OPTS,
# and PROFILE=1 to record the balancer with JFR during the measured runs (summaries in bench/out/*/profile*.txt).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$ROOT/bench/out"
JAR="$ROOT/target/ollama-balancer.jar"
# shellcheck source=lib/common.sh
. "$ROOT/bench/lib/common.sh"
# shellcheck source=lib/proxy.sh
. "$ROOT/bench/lib/proxy.sh"
# shellcheck source=lib/streams.sh
. "$ROOT/bench/lib/streams.sh"
# shellcheck source=lib/tls.sh
. "$ROOT/bench/lib/tls.sh"
# shellcheck source=lib/coldstart.sh
. "$ROOT/bench/lib/coldstart.sh"

what=${1:-all}
case "$what" in
    all) parts=(proxy streams streams-5000) ;;
    proxy|streams|streams-5000|tls|coldstart) parts=("$what") ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: bench/run.sh [all|proxy|streams|streams-5000|tls|coldstart]" >&2; exit 2 ;;
esac

# The exact command, with the knobs that were set, for RESULTS.md.
knobs=$(env | grep -E '^(WRK_|PROXY_ROUNDS|ONE_CONN_|COLD_|STREAM|SIMS|DECODE_TPS|TOKENS|JITTER|BALANCER_|SIM_JAVA_OPTS|LOADGEN_|PROFILE|TLS_)' \
    | sort | tr '\n' ' ' || true)
BENCH_COMMAND="${knobs}bench/run.sh $*"
BENCH_COMMAND=${BENCH_COMMAND% }
BENCH_SUMMARY=()

trap cleanup EXIT
trap 'exit 130' INT TERM
# 5,000 streams need two sockets each in the balancer and in nginx, and more in the simulators and the load generator.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
# (The simulators' JVM holds the most at 5,000 streams: the balancer's, nginx's and the direct connections, ~15,000.)
[ "$(ulimit -n)" -ge 16000 ] || log "warning: open files limited to $(ulimit -n); 5,000 streams need about 16,000"

# The tls benchmark needs neither nginx nor wrk (the loadgen subcommand is its client).
NGINX=${NGINX:-}
[ "$what" = tls ] || ensure_tools
ensure_jar
mkdir -p "$OUT"
log "running: ${parts[*]} (load average $(loadavg))"
for part in "${parts[@]}"; do
    "run_${part//-/_}"
done
for line in "${BENCH_SUMMARY[@]}"; do
    log "$line"
done
log "results in bench/RESULTS.md"

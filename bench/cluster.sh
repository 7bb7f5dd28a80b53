#!/usr/bin/env bash
# Cluster-mode benchmark (issue #5): what Redis adds at dispatch, and two replicas against one.
#
#   bench/cluster.sh
#
# One simulator fleet (`simulate --fleet`) is put behind four set-ups, in two phases:
#   solo   one balancer without Redis;
#   one    one balancer with --redis-url (a private redis-server);
#   pair0  two balancers without Redis (the baseline of the pair: same processes, no shared state);
#   pair   two balancers sharing another private redis-server.
# Loadgen splits the load evenly across the two balancers of a pair.
# Phase "wide": backend limits well above the load, so requests need not queue: the dispatch cost of Redis.
# Phase "scarce": limits far below the load, so requests queue and slots move between replicas through Redis.
# In each phase the set-ups take turns, CLUSTER_ROUNDS rounds of the same loadgen run each; figures are medians.
# The balancer's own latency histograms (GET /debug/latency?format=json&since=..., `overhead`, `queue_wait`,
# `ttft`) are read per run: a run starts just after a latency interval ended, and is read once the interval that
# holds its end has ended too, so each reading covers exactly one run.
#
# Everything listens on 127.0.0.1; every run is bounded in time; every process started here is stopped on exit.
# Scratch files go to bench/out/cluster/ (git-ignored); the results replace the `cluster` section of RESULTS.md.
# `bench/cluster.sh --report` only rewrites that section from the files of the last run.
# Knobs (environment): CLUSTER_STREAMS (50), CLUSTER_SIMS (2), CLUSTER_TPS (50 tokens/s per stream),
# CLUSTER_TOKENS (10 per answer), CLUSTER_DURATION (12s per run), CLUSTER_ROUNDS (3), CLUSTER_WIDE_LIMIT (64 per
# backend), CLUSTER_SCARCE_LIMIT (8 per backend), BALANCER_JAVA_OPTS (-Xmx512m), SIM_JAVA_OPTS, LOADGEN_JAVA_OPTS.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$ROOT/bench/out/cluster"
JAR="$ROOT/target/ollama-balancer.jar"
# shellcheck source=lib/common.sh
. "$ROOT/bench/lib/common.sh"

: "${CLUSTER_STREAMS:=50}" "${CLUSTER_SIMS:=2}" "${CLUSTER_TPS:=50}" "${CLUSTER_TOKENS:=10}"
: "${CLUSTER_DURATION:=12s}" "${CLUSTER_ROUNDS:=3}" "${CLUSTER_WIDE_LIMIT:=64}" "${CLUSTER_SCARCE_LIMIT:=8}"
: "${SIM_JAVA_OPTS:=-Xmx512m}" "${LOADGEN_JAVA_OPTS:=-Xmx512m}"
MODEL="llama3.2:1b"
BODY="{\"model\":\"$MODEL\",\"prompt\":\"Say something short, number {{i}}.\",\"stream\":true,\"options\":{\"num_predict\":$CLUSTER_TOKENS}}"
# Simulator slots: twice the widest limit, so that a cluster exceeding a limit shows in peakConcurrentGenerations.
SIM_SLOTS=$(( 2 * CLUSTER_WIDE_LIMIT ))

REPORT_ONLY=0
case "${1:-}" in
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --report) REPORT_ONLY=1 ;;
    "") ;;
    *) echo "usage: bench/cluster.sh [--report] (knobs in the environment; see --help)" >&2; exit 2 ;;
esac

knobs=$(env | grep -E '^(CLUSTER_|BALANCER_JAVA_OPTS|SIM_JAVA_OPTS|LOADGEN_JAVA_OPTS)' | sort | tr '\n' ' ' || true)
BENCH_COMMAND="${knobs}bench/cluster.sh"

trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }

# A port for a listener of ours: free now, below the kernel's ephemeral range (outgoing connections opened while the
# JVMs start cannot take it), and not handed out before in this run; stored into the variable named $1.
declare -A GIVEN_PORTS
port_for() {
    local p low
    low=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    for _ in $(seq 1 200); do
        p=$(( RANDOM % (low - 11000) + 10000 ))
        [ -z "${GIVEN_PORTS[$p]:-}" ] && ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && {
            GIVEN_PORTS[$p]=1
            printf -v "$1" '%s' "$p"
            return 0
        }
    done
    die "no free port found"
}

# Starts a balancer on port $1 with backends file $2, logging to $3, with any further arguments; sets STARTED_PID.
# Runs from $OUT so that no .env of the repository changes its settings.
start_bal() {
    local port=$1 backends=$2 log=$3
    shift 3
    # shellcheck disable=SC2086
    (cd "$OUT" && exec env ACCESS_LOG_LEVEL=OFF LOG_LEVEL=WARN java $BALANCER_JAVA_OPTS -Xlog:gc:file="$log.gc" \
        -jar "$JAR" serve --bind 127.0.0.1 --port "$port" --config "$backends" "$@" > "$log" 2>&1) &
    STARTED_PID=$!
    track "$STARTED_PID"
}

# Starts a private, memory-only redis-server on port $1; sets STARTED_PID.
start_redis() {
    local port=$1
    redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --daemonize no --dir "$OUT" \
        --logfile "$OUT/redis-$port.log" &
    STARTED_PID=$!
    track "$STARTED_PID"
    for _ in $(seq 1 40); do
        [ "$(redis-cli -p "$port" ping 2>/dev/null || true)" = PONG ] && return 0
        sleep 0.25
    done
    die "redis-server on port $port did not start (see $OUT/redis-$port.log)"
}

# Waits (at most 30 s) until the Redis on port $1 lists $2 live replicas.
wait_replicas() {
    for _ in $(seq 1 120); do
        [ "$(redis-cli -p "$1" zcard '{ollama-balancer}:replicas' 2>/dev/null || true)" = "$2" ] && return 0
        sleep 0.25
    done
    return 1
}

redis_commands() { redis-cli -p "$1" info stats | awk -F: '/^total_commands_processed/ { print $2 + 0 }'; }

# Waits (at most 30 s) until the balancer at $1 lists the model.
wait_model() {
    for _ in $(seq 1 120); do
        curl -s -m 2 "$1/api/tags" | jq -e --arg m "$MODEL" '.models | map(.name) | index($m)' >/dev/null 2>&1 \
            && return 0
        sleep 0.25
    done
    die "the balancer at $1 does not list $MODEL"
}

# Runs loadgen against the comma-separated targets $1 into $2 with connections $3, then options $4...
loadgen() {
    local targets=$1 out=$2 conns=$3
    shift 3
    # shellcheck disable=SC2086
    timeout 120 java $LOADGEN_JAVA_OPTS -jar "$JAR" loadgen --target "$targets" --connections "$conns" \
        --timeout 30s --threads 2 --body "$BODY" --out "$out" "$@" 2>> "$OUT/loadgen.log" \
        || die "loadgen failed (see $OUT/loadgen.log)"
}

# End (epoch ms) of the balancer's last completed latency interval, once it is at least $2; waits (≤ 15 s).
interval_end_after() {
    local url=$1 want=$2 e=0
    for _ in $(seq 1 60); do
        e=$(curl -s -m 2 "$url/debug/latency?format=json&window=interval" | jq -r '.endMs // 0' 2>/dev/null || true)
        [ "${e:-0}" -ge "$want" ] && { echo "$e"; return 0; }
        sleep 0.25
    done
    die "$url: no latency interval ended after $want within 15 s"
}

# Per balancer (by port): when its last load ended, and the reading still owed for its last measured run.
declare -A LAST_LOAD SINCE PENDING

# Makes sure the balancer on port $1 is between intervals (nothing since its last load is in an open interval):
# saves the reading owed for its previous run, and remembers where the next one starts.
boundary() {
    local port=$1 url="http://127.0.0.1:$1" e
    e=$(interval_end_after "$url" "${LAST_LOAD[$port]}")
    if [ -n "${PENDING[$port]:-}" ]; then
        curl -s -m 5 "$url/debug/latency?format=json&since=${SINCE[$port]}" \
            | jq '[.histograms[] | select(.labels == {})] | map({(.name): .}) | add // {}' > "${PENDING[$port]}"
        PENDING[$port]=""
    fi
    SINCE[$port]=$e
}

# One measured run of set-up $2 (ports $3, comma-separated) in phase $1, round $4.
measure() {
    local phase=$1 cfg=$2 ports=$3 round=$4 redis=${5:-} base="$OUT/$1-$2-$4" p targets="" pids=() c0 c1 r0 r1 k0 k1
    IFS=, read -r -a plist <<< "$ports"
    for p in "${plist[@]}"; do
        boundary "$p"
        targets+="${targets:+,}http://127.0.0.1:$p"
        pids+=("${BAL_PID[$p]}")
    done
    for p in "${SIM_URLS[@]}"; do curl -s -m 2 -X POST "$p/sim/reset" > /dev/null; done
    c0=$(cpu_seconds "${pids[@]}")
    r0=0; k0=0
    [ -n "$redis" ] && { r0=$(cpu_seconds "${REDIS_PID[$redis]}"); k0=$(redis_commands "$redis"); }
    log "$phase: round $round/$CLUSTER_ROUNDS, $cfg ($targets)"
    loadgen "$targets" "$base.loadgen.json" "$CLUSTER_STREAMS" --duration "$CLUSTER_DURATION" --ramp-up 1s
    c1=$(cpu_seconds "${pids[@]}")
    r1=0; k1=0
    [ -n "$redis" ] && { r1=$(cpu_seconds "${REDIS_PID[$redis]}"); k1=$(redis_commands "$redis"); }
    for p in "${SIM_URLS[@]}"; do curl -s -m 2 "$p/sim/counters"; echo; done | jq -s . > "$base.sims.json"
    jq -n --argjson c "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" \
        --argjson r "$(awk -v a="$r0" -v b="$r1" 'BEGIN { print b - a }')" --argjson k "$((k1 - k0))" \
        '{balancerCpuSeconds: $c, redisCpuSeconds: $r, redisCommands: $k}' > "$base.cpu.json"
    local i=0
    for p in "${plist[@]}"; do
        balancer_alive "http://127.0.0.1:$p" || die "the balancer on port $p stopped answering after $phase $cfg round $round"
        LAST_LOAD[$p]=$(now_ms)
        PENDING[$p]="$base.latency-$i.json"
        i=$((i + 1))
    done
}

# Warms the set-up on ports $1 (comma-separated): a few requests on one connection, then a short full load.
warm() {
    local ports=$1 targets="" p
    IFS=, read -r -a plist <<< "$ports"
    for p in "${plist[@]}"; do targets+="${targets:+,}http://127.0.0.1:$p"; done
    loadgen "$targets" "$OUT/warm-$ports-gentle.json" "${#plist[@]}" --requests 5
    loadgen "$targets" "$OUT/warm-$ports.json" "$CLUSTER_STREAMS" --requests 3 --ramp-up 1s
    for p in "${plist[@]}"; do LAST_LOAD[$p]=$(now_ms); done
}

declare -A BAL_PID REDIS_PID

# Phase $1 with backend limit $2: starts the three set-ups, warms them, runs the rounds, stops them.
run_phase() {
    local phase=$1 limit=$2 solo one p0a p0b pa pb r p all
    jq --argjson l "$limit" '.backends |= map(.maxConcurrency = $l)' "$OUT/sims-backends.json" \
        > "$OUT/backends-$phase.json"
    redis-cli -p "$REDIS_ONE" flushall > /dev/null
    redis-cli -p "$REDIS_PAIR" flushall > /dev/null
    port_for solo; port_for one; port_for p0a; port_for p0b; port_for pa; port_for pb
    all=("$solo" "$one" "$p0a" "$p0b" "$pa" "$pb")
    start_bal "$solo" "$OUT/backends-$phase.json" "$OUT/$phase-solo.log"; BAL_PID[$solo]=$STARTED_PID
    start_bal "$one" "$OUT/backends-$phase.json" "$OUT/$phase-one.log" \
        --redis-url "redis://127.0.0.1:$REDIS_ONE"; BAL_PID[$one]=$STARTED_PID
    start_bal "$p0a" "$OUT/backends-$phase.json" "$OUT/$phase-pair0-a.log"; BAL_PID[$p0a]=$STARTED_PID
    start_bal "$p0b" "$OUT/backends-$phase.json" "$OUT/$phase-pair0-b.log"; BAL_PID[$p0b]=$STARTED_PID
    start_bal "$pa" "$OUT/backends-$phase.json" "$OUT/$phase-pair-a.log" \
        --redis-url "redis://127.0.0.1:$REDIS_PAIR"; BAL_PID[$pa]=$STARTED_PID
    start_bal "$pb" "$OUT/backends-$phase.json" "$OUT/$phase-pair-b.log" \
        --redis-url "redis://127.0.0.1:$REDIS_PAIR"; BAL_PID[$pb]=$STARTED_PID
    for p in "${all[@]}"; do
        wait_http "http://127.0.0.1:$p/ready" 200 90
        wait_model "http://127.0.0.1:$p"
    done
    # Under CPU contention a replica may start serving before it reached Redis ("serving alone"); it joins later.
    wait_replicas "$REDIS_ONE" 1 || die "$phase: the single replica did not register in Redis within 30 s"
    wait_replicas "$REDIS_PAIR" 2 || die "$phase: the two replicas did not both register in Redis within 30 s"
    log "$phase: limit $limit per backend; warming up"
    warm "$solo"; warm "$one"; warm "$p0a,$p0b"; warm "$pa,$pb"
    for r in $(seq 1 "$CLUSTER_ROUNDS"); do
        measure "$phase" solo "$solo" "$r"
        measure "$phase" one "$one" "$r" "$REDIS_ONE"
        measure "$phase" pair0 "$p0a,$p0b" "$r"
        measure "$phase" pair "$pa,$pb" "$r" "$REDIS_PAIR"
    done
    for p in "${all[@]}"; do boundary "$p"; done
    for p in "${all[@]}"; do kill "${BAL_PID[$p]}" 2>/dev/null || true; done
    for p in "${all[@]}"; do stop_pid "${BAL_PID[$p]}"; done
}

# One JSON object per measured run, from the files measure() and boundary() wrote.
collect_runs() {
    local f base name phase cfg round
    for f in "$OUT"/*.loadgen.json; do
        base=${f%.loadgen.json}
        name=$(basename "$base")
        IFS=- read -r phase cfg round <<< "$name"
        jq -n --arg phase "$phase" --arg cfg "$cfg" --argjson round "$round" --slurpfile lg "$f" \
            --slurpfile cpu "$base.cpu.json" --slurpfile sims "$base.sims.json" \
            --argjson lat "$(cat "$base".latency-*.json | jq -s .)" '
            $lg[0] as $l | $cpu[0] as $c | ($l.requests.ok | if . > 0 then . else 1 end) as $n
            | {phase: $phase, cfg: $cfg, round: $round, ok: $l.requests.ok,
               errors: ($l.requests.errors + $l.warmup.errors), completedAll: $l.completedAll,
               rps: $l.throughput.requestsPerSecond,
               tps: ($l.throughput.chunksPerSecond - $l.throughput.requestsPerSecond),
               cttft50: $l.ttftMs.p50, cttft99: $l.ttftMs.p99,
               bcpu: ($c.balancerCpuSeconds * 1e6 / $n), rcpu: ($c.redisCpuSeconds * 1e6 / $n),
               rcmd: ($c.redisCommands / $n),
               peaks: [$sims[0][].peakConcurrentGenerations], rejected: ([$sims[0][].rejected503] | add),
               lat: [$lat[] | {n: .overhead.count, ov50: .overhead.p50, ov99: .overhead.p99,
                               qw50: .queue_wait.p50, qw99: .queue_wait.p99, tt50: .ttft.p50, tt99: .ttft.p99}]}'
    done | jq -s .
}

# jq definitions shared by the report's queries (over runs.json).
JQ_LIB='
def med: map(select(. != null)) | sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
    else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def r(d): if . == null then "–" else (. * pow(10; d) | round) / pow(10; d) | tostring end;
def runs($p; $c): map(select(.phase == $p and .cfg == $c));
def lat($p; $c; $i; f): runs($p; $c) | map(.lat[$i] | f) | med;
def dlat($p; $c; $i; $b; f): lat($p; $c; $i; f) - lat($p; $b; $i; f);
def paired($p; $c; $i; $b; f): . as $all | [runs($p; $c)[] as $x | $all | runs($p; $b)[]
    | select(.round == $x.round) | ($x.lat[$i] | f) - (.lat[$i] | f) | r(3)] | join(", ");
def setup($c): {solo: "one balancer, no Redis", one: "one balancer, Redis", pair0: "two balancers, no Redis",
    pair: "two balancers, Redis"}[$c];
def peaks($x): [range(0; $x[0].peaks | length) as $s | $x | map(.peaks[$s]) | max];
'

# Markdown tables of phase $1 (limit $2) from runs.json.
phase_tables() {
    local phase=$1 limit=$2
    echo "| set-up | replica | requests counted | overhead p50 ms | overhead p99 ms | queue wait p50 ms | queue wait p99 ms | balancer TTFT p50 ms | balancer TTFT p99 ms |"
    echo "|---|---|---|---|---|---|---|---|---|"
    jq -r --arg p "$phase" "$JQ_LIB"'
        . as $all
        | (["solo", 0, "–"], ["one", 0, "–"], ["pair0", 0, "a"], ["pair0", 1, "b"], ["pair", 0, "a"], ["pair", 1, "b"])
          as [$c, $i, $name]
        | $all | "| \(setup($c)) | \($name) | \(lat($p; $c; $i; .n) | r(0)) | \(lat($p; $c; $i; .ov50) | r(3))"
          + " | \(lat($p; $c; $i; .ov99) | r(3)) | \(lat($p; $c; $i; .qw50) | r(3)) | \(lat($p; $c; $i; .qw99) | r(3))"
          + " | \(lat($p; $c; $i; .tt50) | r(2)) | \(lat($p; $c; $i; .tt99) | r(2)) |"' "$OUT/runs.json"
    echo
    echo "| set-up | req/s | tokens/s | req/s vs one balancer with Redis | errors | client TTFT p50 / p99 ms | balancer CPU µs/request | Redis CPU µs/request | Redis commands/request | peak concurrent generations per simulator (limit $limit) |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    jq -r --arg p "$phase" "$JQ_LIB"'
        . as $all | ($all | runs($p; "one") | map(.rps) | med) as $base | ("solo", "one", "pair0", "pair") as $c
        | $all | runs($p; $c) as $x | ($c | test("^(one|pair)$")) as $redis
        | "| \(setup($c)) | \($x | map(.rps) | med | r(1)) | \($x | map(.tps) | med | r(0))"
          + " | \(($x | map(.rps) | med) / $base | r(3)) | \($x | map(.errors + .rejected) | add)"
          + " | \($x | map(.cttft50) | med | r(2)) / \($x | map(.cttft99) | med | r(2))"
          + " | \($x | map(.bcpu) | med | r(0)) | \(if $redis then ($x | map(.rcpu) | med | r(1)) else "–" end)"
          + " | \(if $redis then ($x | map(.rcmd) | med | r(2)) else "–" end)"
          + " | \(peaks($x) | map(tostring) | join(" / ")) |"' "$OUT/runs.json"
}

# A figure from runs.json: jq expression $1 over the definitions above.
fig() { jq -r "$JQ_LIB $1" "$OUT/runs.json"; }

cluster_report() {
    local md="$OUT/section.md" v worst met errors over over0 tw ts tw0
    local -A f
    # What Redis adds, phase wide: one balancer with Redis − without; each replica of the pair with − without.
    for v in ov50 ov99 qw50 qw99; do
        f[one.$v]=$(fig "dlat(\"wide\"; \"one\"; 0; \"solo\"; .$v) | r(3)")
        f[pa.$v]=$(fig "dlat(\"wide\"; \"pair\"; 0; \"pair0\"; .$v) | r(3)")
        f[pb.$v]=$(fig "dlat(\"wide\"; \"pair\"; 1; \"pair0\"; .$v) | r(3)")
    done
    f[one.paired]=$(fig 'paired("wide"; "one"; 0; "solo"; .ov99)')
    f[one.qpaired]=$(fig 'paired("wide"; "one"; 0; "solo"; .qw99)')
    f[pa.paired]=$(fig 'paired("wide"; "pair"; 0; "pair0"; .ov99)')
    f[pb.paired]=$(fig 'paired("wide"; "pair"; 1; "pair0"; .ov99)')
    f[pa.qpaired]=$(fig 'paired("wide"; "pair"; 0; "pair0"; .qw99)')
    f[pb.qpaired]=$(fig 'paired("wide"; "pair"; 1; "pair0"; .qw99)')
    worst=$(printf '%s\n' "${f[one.ov99]}" "${f[one.qw99]}" "${f[pa.ov99]}" "${f[pa.qw99]}" "${f[pb.ov99]}" "${f[pb.qw99]}" \
        | sort -g | tail -n 1)
    met=$(awk -v d="$worst" 'BEGIN { print (d <= 1) ? "met" : "not met" }')
    errors=$(fig 'map(.errors + .rejected) | add')
    # Runs over a limit, with Redis (must be 0) and without it (two replicas each believing it owns every slot).
    over=$(jq -r --argjson w "$CLUSTER_WIDE_LIMIT" --argjson s "$CLUSTER_SCARCE_LIMIT" '[.[] | select(.cfg != "pair0")
        | . as $r | select(any($r.peaks[]; . > (if $r.phase == "wide" then $w else $s end)))] | length' "$OUT/runs.json")
    over0=$(fig 'peaks(runs("scarce"; "pair0")) | map(tostring) | join(" / ")')
    tw=$(fig '(runs("wide"; "pair") | map(.rps) | med) / (runs("wide"; "one") | map(.rps) | med) | r(3)')
    tw0=$(fig '(runs("wide"; "pair") | map(.rps) | med) / (runs("wide"; "pair0") | map(.rps) | med) | r(3)')
    ts=$(fig '(runs("scarce"; "pair") | map(.rps) | med) / (runs("scarce"; "one") | map(.rps) | med) | r(3)')
    {
        echo "<!-- bench:cluster:start -->"
        echo "## Cluster mode: dispatch cost of Redis, two replicas against one (issue #5)"
        echo
        echo "Run $RUN_DATE with \`${BENCH_COMMAND}\` (${ELAPSED_S} s in all)."
        echo
        cat "$OUT/machine.md"
        echo "- Redis: $(redis-server --version | awk '{ print $3 }' | sed 's/^v=//'), two private"\
             "\`redis-server --save \"\" --appendonly no\` on 127.0.0.1 started by the script: one for the single"\
             "replica, one for the pair (flushed between the phases)."
        echo "- Backends: $CLUSTER_SIMS simulators in one JVM (\`simulate --fleet\`, \`$SIM_JAVA_OPTS\`), $SIM_SLOTS slots"\
             "each, $CLUSTER_TPS tokens/s per stream with no slowdown under concurrency, $CLUSTER_TOKENS tokens per answer"\
             "(\`num_predict\`), model warm. Every balancer (\`$BALANCER_JAVA_OPTS\`, access log off, built-in"\
             "defaults: policy eft) lists them with \`maxConcurrency\` $CLUSTER_WIDE_LIMIT (phase *wide*) or"\
             "$CLUSTER_SCARCE_LIMIT (phase *scarce*), below the simulators' own slots, so a cluster that overran a"\
             "limit shows in \`GET /sim/counters\` \`peakConcurrentGenerations\` (reset before each run)."
        echo "- Set-ups, all up at once within a phase, same backends file: one balancer without Redis; one with"\
             "\`--redis-url\`; two without Redis (each believes it owns every slot: the baseline of the pair, same"\
             "processes and CPU contention, minus Redis); two sharing one Redis."
        echo "- Load: \`loadgen --connections $CLUSTER_STREAMS --duration $CLUSTER_DURATION --ramp-up 1s --threads 2\`"\
             "(\`$LOADGEN_JAVA_OPTS\`), streaming \`POST /api/generate\` of $CLUSTER_TOKENS tokens, each connection"\
             "sending its next request as soon as the last ended; for two balancers, connection i goes to replica"\
             "i mod 2 (a, b). Each set-up is warmed (5 requests on one connection, then 3 per connection), then"\
             "$CLUSTER_ROUNDS rounds run the set-ups in turn; figures are medians over the rounds."
        echo "- Measures: from each balancer's \`GET /debug/latency?format=json&since=…\` (overall histograms,"\
             "microsecond resolution), read so that each reading covers exactly one run (it starts after a latency"\
             "interval ended and is read once the interval holding its end has ended): *overhead* = arrival →"\
             "request written upstream, minus queue wait (the balancer's own dispatch work); *queue wait* = time in"\
             "the scheduler's queue, including any wait for a slot grant from Redis; *balancer TTFT* = arrival →"\
             "first chunk written to the client. From loadgen: req/s, tokens/s (chunks/s − req/s: each answer ends"\
             "with one token-less \`done\` chunk), errors, client TTFT. CPU time from \`/proc/<pid>/stat\` over the"\
             "run (both JVMs for two balancers; redis-server); Redis commands from \`INFO stats\`."
        echo "- Noise: simulators, balancers, Redis and loadgen share $(nproc) CPUs with other work (load average"\
             "$LOAD_BEFORE before, $LOAD_AFTER after); idle set-ups stay up during the others' runs. Millisecond"\
             "tails here come mostly from CPU scheduling, so p99 differences of a few ms are within noise: see the"\
             "per-round differences."
        echo
        echo "### Phase *wide*: limit $CLUSTER_WIDE_LIMIT per backend ($(( CLUSTER_WIDE_LIMIT * CLUSTER_SIMS )) slots for $CLUSTER_STREAMS streams), requests should not need to queue"
        echo
        phase_tables wide "$CLUSTER_WIDE_LIMIT"
        echo
        echo "### Phase *scarce*: limit $CLUSTER_SCARCE_LIMIT per backend ($(( CLUSTER_SCARCE_LIMIT * CLUSTER_SIMS )) slots for $CLUSTER_STREAMS streams), requests queue and slots move between replicas"
        echo
        phase_tables scarce "$CLUSTER_SCARCE_LIMIT"
        echo
        echo "### Verdict"
        echo
        echo "- **Target: Redis adds ≤ 1 ms p99 per request at dispatch: $met** (largest p99 added, overhead or"\
             "queue wait, below: $worst ms)."
        echo "- One balancer, Redis − no Redis (phase wide, medians): overhead p50 ${f[one.ov50]} ms, **p99"\
             "${f[one.ov99]} ms** (per round: ${f[one.paired]}); queue wait p50 ${f[one.qw50]} ms, **p99 ${f[one.qw99]}"\
             "ms** (per round: ${f[one.qpaired]})."
        echo "- Two balancers, Redis − no Redis, replica a: overhead p50 ${f[pa.ov50]} ms, **p99 ${f[pa.ov99]} ms**"\
             "(per round: ${f[pa.paired]}); queue wait p50 ${f[pa.qw50]} ms, **p99 ${f[pa.qw99]} ms** (per round:"\
             "${f[pa.qpaired]}). Replica b: overhead p50 ${f[pb.ov50]} ms, **p99 ${f[pb.ov99]} ms** (per round:"\
             "${f[pb.paired]}); queue wait p50 ${f[pb.qw50]} ms, **p99 ${f[pb.qw99]} ms** (per round: ${f[pb.qpaired]})."
        echo "- Aggregate throughput of two replicas with Redis, same total load: phase wide $tw × one replica with"\
             "Redis ($tw0 × two without Redis); phase scarce $ts × one replica with Redis (req/s; tokens/s follow, at"\
             "$CLUSTER_TOKENS per answer)."
        echo "- Limits: runs with Redis in which a simulator ran more generations at once than its limit: $over."\
             "Without Redis, two balancers in phase scarce peaked at $over0 per simulator (limit"\
             "$CLUSTER_SCARCE_LIMIT): the overrun the shared ledger prevents, which also shows the check can fail."
        echo "- Errors (loadgen errors and simulator 503s, all runs): $errors."
        echo
        echo "Per run:"
        echo
        echo "| phase | set-up | round | ok | errors | req/s | tokens/s | overhead p50 / p99 ms (per replica) | queue wait p50 / p99 ms (per replica) | peaks |"
        echo "|---|---|---|---|---|---|---|---|---|---|"
        jq -r "$JQ_LIB"'sort_by([(.phase != "wide"), .round, ({solo: 0, one: 1, pair0: 2, pair: 3}[.cfg])]) | .[]
            | "| \(.phase) | \(.cfg) | \(.round) | \(.ok) | \(.errors) | \(.rps | r(1)) | \(.tps | r(0))"
            + " | \(.lat | map("\(.ov50 | r(3)) / \(.ov99 | r(3))") | join("; "))"
            + " | \(.lat | map("\(.qw50 | r(3)) / \(.qw99 | r(3))") | join("; ")) | \(.peaks | map(tostring) | join(" / ")) |"' \
            "$OUT/runs.json"
        echo
        # Hand-written notes inside the section survive a re-run; their heading says which run they describe.
        if [ -f "$ROOT/bench/RESULTS.md" ] && grep -qF '<!-- cluster:notes:start -->' "$ROOT/bench/RESULTS.md"; then
            sed -n '/^<!-- cluster:notes:start -->$/,/^<!-- cluster:notes:end -->$/p' "$ROOT/bench/RESULTS.md"
            echo
        fi
        echo "<!-- bench:cluster:end -->"
    } > "$md"
    update_section cluster "$md"
    log "cluster: Redis adds p99 (overhead / queue wait): one ${f[one.ov99]} / ${f[one.qw99]} ms, pair a ${f[pa.ov99]} / ${f[pa.qw99]} ms, pair b ${f[pb.ov99]} / ${f[pb.qw99]} ms (target <= 1 ms: $met); pair/one req/s: wide $tw, scarce $ts; errors $errors; limit overruns with Redis $over"
}

if [ "$REPORT_ONLY" = 1 ]; then
    # shellcheck source=/dev/null
    . "$OUT/meta.env"
    collect_runs > "$OUT/runs.json"
    cluster_report
    exit 0
fi

mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.log "$OUT"/*.gc
command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 \
    || die "redis-server and redis-cli are needed (Debian: apt-get install redis-server)"
command -v jq >/dev/null 2>&1 && command -v curl >/dev/null 2>&1 || die "jq and curl are needed"
ensure_jar
START_S=$(date +%s)
LOAD_BEFORE=$(loadavg)

cat > "$OUT/fleet.json" <<JSON
{
  "defaults": {"host": "127.0.0.1", "port": 0, "slots": $SIM_SLOTS, "maxQueue": 1000,
               "decodeTokensPerSecond": $CLUSTER_TPS, "prefillTokensPerSecond": 100000, "decodeSlowdown": 0,
               "jitter": 0.05, "loadTimeMillis": 0, "meanOutputTokens": 100000, "maxOutputTokens": 100000,
               "models": [{"name": "$MODEL", "loadedAtStart": true}]},
  "simulators": [{"name": "sim", "count": $CLUSTER_SIMS}]
}
JSON
# shellcheck disable=SC2086
(cd "$OUT" && exec env LOG_LEVEL=WARN java $SIM_JAVA_OPTS -jar "$JAR" simulate --fleet "$OUT/fleet.json" \
    --write-backends "$OUT/sims-backends.json" > "$OUT/simulators.log" 2>&1) &
SIMS_PID=$!; track "$SIMS_PID"
for _ in $(seq 1 240); do
    [ -s "$OUT/sims-backends.json" ] && jq -e --argjson n "$CLUSTER_SIMS" '.backends | length == $n' \
        "$OUT/sims-backends.json" > /dev/null 2>&1 && break
    running "$SIMS_PID" || die "the simulators did not start (see $OUT/simulators.log)"
    sleep 0.25
done
mapfile -t SIM_URLS < <(jq -r '.backends[].url' "$OUT/sims-backends.json")

port_for REDIS_ONE; start_redis "$REDIS_ONE"; REDIS_PID[$REDIS_ONE]=$STARTED_PID
port_for REDIS_PAIR; start_redis "$REDIS_PAIR"; REDIS_PID[$REDIS_PAIR]=$STARTED_PID

run_phase wide "$CLUSTER_WIDE_LIMIT"
run_phase scarce "$CLUSTER_SCARCE_LIMIT"
LOAD_AFTER=$(loadavg)
ELAPSED_S=$(( $(date +%s) - START_S ))
RUN_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
NGINX=${NGINX:-true} machine_block | grep -v '^- nginx:' > "$OUT/machine.md"
# What the report needs besides the run files, so that --report can redo it.
for v in BENCH_COMMAND RUN_DATE LOAD_BEFORE LOAD_AFTER ELAPSED_S CLUSTER_STREAMS CLUSTER_SIMS CLUSTER_TPS CLUSTER_TOKENS \
    CLUSTER_DURATION CLUSTER_ROUNDS CLUSTER_WIDE_LIMIT CLUSTER_SCARCE_LIMIT SIM_SLOTS BALANCER_JAVA_OPTS SIM_JAVA_OPTS \
    LOADGEN_JAVA_OPTS; do
    printf '%s=%q\n' "$v" "${!v}"
done > "$OUT/meta.env"

collect_runs > "$OUT/runs.json"
cluster_report
log "results in bench/RESULTS.md (section cluster); raw files in bench/out/cluster/"

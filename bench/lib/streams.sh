# Benchmark (2) of bench/run.sh: many concurrent streams from simulated Ollama servers, measured by the loadgen
# subcommand directly against the simulators and then through the balancer, same load, in interleaved rounds.
# Sourced, not run.

: "${STREAMS:=1000}" "${SIMS:=4}" "${DECODE_TPS:=20}" "${TOKENS:=100}" "${JITTER:=0.05}"
: "${STREAM_REQUESTS:=2}" "${STREAM_WARMUP:=1}" "${STREAM_RAMP:=2s}" "${STREAM_ROUNDS:=3}"
: "${SIM_JAVA_OPTS:=-Xmx1g}" "${LOADGEN_JAVA_OPTS:=-Xmx1g}" "${LOADGEN_THREADS:=2}"

# Writes the simulator fleet: $SIMS servers sharing $STREAMS slots, decoding at $DECODE_TPS tokens/s each stream
# however many run (decodeSlowdown 0), answers capped at $TOKENS by num_predict, warm model, fast prefill.
write_fleet() {
    local slots=$(( (STREAMS + SIMS - 1) / SIMS ))
    cat > "$1" <<JSON
{
  "defaults": {"host": "127.0.0.1", "port": 0, "slots": $slots, "maxQueue": $STREAMS,
               "decodeTokensPerSecond": $DECODE_TPS, "prefillTokensPerSecond": 100000, "decodeSlowdown": 0,
               "jitter": $JITTER, "loadTimeMillis": 0, "meanOutputTokens": 100000, "maxOutputTokens": 100000,
               "models": [{"name": "llama3.2:1b", "loadedAtStart": true}]},
  "simulators": [{"name": "sim", "count": $SIMS}]
}
JSON
}

# Samples the balancer's heap in use from GET /metrics every 250 ms into $2 until killed (at most 20 minutes).
sample_heap() {
    local url=$1 out=$2 v
    for _ in $(seq 1 4800); do
        v=$(curl -s -m 1 "$url/metrics" | awk '$1 == "ollama_balancer_jvm_heap_used_bytes" { printf "%d\n", $2 }') || true
        [ -n "$v" ] && echo "$v" >> "$out"
        sleep 0.25
    done
}

# Waits (at most 30 s) until the balancer at $1 lists the model of the benchmark.
wait_models() {
    for _ in $(seq 1 120); do
        curl -s -m 2 "$1/api/tags" | jq -e '.models | map(.name) | index("llama3.2:1b")' >/dev/null 2>&1 && return 0
        sleep 0.25
    done
    die "the balancer at $1 does not list llama3.2:1b"
}

# An unmeasured pass against $1 (report into $2): one stream on one connection first (so that the balancer's
# latency histograms grow while only one event loop records into them: see the hang noted in RESULTS.md), then one
# request on each of the $STREAMS connections.
warm_streams() {
    STREAMS=1 STREAM_REQUESTS=1 STREAM_WARMUP=0 STREAM_RAMP=0 loadgen_once "$1" "${2%.json}-gentle.json"
    STREAM_REQUESTS=1 STREAM_WARMUP=0 loadgen_once "$1" "$2"
}

# Runs loadgen against the targets $1 into $2.
loadgen_once() {
    local targets=$1 out=$2
    # shellcheck disable=SC2086
    java $LOADGEN_JAVA_OPTS -jar "$JAR" loadgen --target "$targets" --connections "$STREAMS" \
        --requests "$STREAM_REQUESTS" --warmup "$STREAM_WARMUP" --ramp-up "$STREAM_RAMP" --timeout 30s \
        --threads "$LOADGEN_THREADS" --body "$STREAM_BODY" --out "$out" 2>> "$OUT/streams/loadgen.log" \
        || die "loadgen failed (see $OUT/streams/loadgen.log)"
}

run_streams() {
    local dir="$OUT/streams" sims lport balancer direct r c0 c1
    rm -rf "$dir"
    mkdir -p "$dir"
    STREAM_BODY="{\"model\":\"llama3.2:1b\",\"prompt\":\"Tell me a story, number {{i}}.\",\"stream\":true,\"options\":{\"num_predict\":$TOKENS}}"
    write_fleet "$dir/fleet.json"
    # shellcheck disable=SC2086
    (cd "$dir" && exec env LOG_LEVEL=WARN java $SIM_JAVA_OPTS -jar "$JAR" simulate --fleet "$dir/fleet.json" \
        --write-backends "$dir/backends.json" > "$dir/simulators.log" 2>&1) &
    sims=$!; track "$sims"
    for _ in $(seq 1 240); do
        [ -s "$dir/backends.json" ] && jq -e --argjson n "$SIMS" '.backends | length == $n' "$dir/backends.json" \
            >/dev/null 2>&1 && break
        kill -0 "$sims" 2>/dev/null || die "the simulators did not start (see $dir/simulators.log)"
        sleep 0.25
    done
    direct=$(jq -r '[.backends[].url] | join(",")' "$dir/backends.json")
    lport=$(free_port)
    start_balancer "$dir" "$lport" "$dir/backends.json" "$dir/balancer.log"; balancer=$STARTED_PID
    wait_http "http://127.0.0.1:$lport/ready" 200 60
    wait_models "http://127.0.0.1:$lport"

    [ "${PROFILE:-0}" = 1 ] && jcmd "$balancer" JFR.start name=bench settings=profile \
        filename="$dir/balancer.jfr" >/dev/null
    # One unmeasured pass over both paths first, so that every JVM on the path has compiled its hot code.
    log "streams: warm-up pass (one request per connection, direct and through the balancer)"
    warm_streams "$direct" "$dir/prewarm-direct.json"
    warm_streams "http://127.0.0.1:$lport" "$dir/prewarm-balancer.json"
    STREAMS_LOAD_BEFORE=$(loadavg)
    : > "$dir/heap.txt"
    : > "$dir/cpu.txt"
    for r in $(seq 1 "$STREAM_ROUNDS"); do
        log "streams: round $r/$STREAM_ROUNDS, direct: $STREAMS streams over $SIMS simulators"
        loadgen_once "$direct" "$dir/direct-$r.json"
        local try sampler
        for try in $(seq 1 "$BALANCER_TRIES"); do
            log "streams: round $r/$STREAM_ROUNDS, through the balancer"
            sample_heap "http://127.0.0.1:$lport" "$dir/heap.txt" &
            sampler=$!
            track "$sampler"
            c0=$(cpu_seconds "$balancer")
            loadgen_once "http://127.0.0.1:$lport" "$dir/balancer-$r.json"
            c1=$(cpu_seconds "$balancer")
            stop_pid "$sampler"
            balancer_alive "http://127.0.0.1:$lport" && break
            record_hang "$dir" "$balancer" "streams round $r, try $try"
            start_balancer "$dir" "$lport" "$dir/backends.json" "$dir/balancer.log.$r.$try"; balancer=$STARTED_PID
            wait_http "http://127.0.0.1:$lport/ready" 200 60
            wait_models "http://127.0.0.1:$lport"
            warm_streams "http://127.0.0.1:$lport" "$dir/prewarm-balancer-$r-$try.json"
        done
        awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }' >> "$dir/cpu.txt"
    done
    STREAMS_LOAD_AFTER=$(loadavg)
    BALANCER_PEAK_RSS=$(awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$balancer/status")
    BALANCER_HEAP_MAX=$(curl -s -m 2 "http://127.0.0.1:$lport/metrics" \
        | awk '$1 == "ollama_balancer_jvm_heap_max_bytes" { printf "%.0f", $2 / 1048576 }')
    if [ "${PROFILE:-0}" = 1 ]; then
        jcmd "$balancer" JFR.stop name=bench >/dev/null 2>&1 || true
        "$ROOT/bench/jfr-top.sh" "$dir/balancer.jfr" > "$dir/profile.txt" 2>&1 || true
        log "streams: profile of the balancer in $dir/profile.txt"
    fi
    stop_pid "$balancer"; stop_pid "$sims"
    streams_report "$dir"
}

# Median over the rounds of a jq expression on the loadgen reports of one path.
smed() { local f; for f in "$1"/"$2"-*.json; do jq -r "$3" "$f"; done | median; }

streams_report() {
    local dir=$1 md="$1/section.md" p
    local -A name=([direct]="simulators directly" [balancer]="through the balancer")
    local errors peak added_p50 added_p99 added_ttft50 added_ttft99 met cpu chunks paired gc r gcn gct gcmax gcafter
    errors=$(cat "$dir"/direct-*.json "$dir"/balancer-*.json | jq -s 'map(.requests.errors + .warmup.errors) | add')
    peak=$(sort -n "$dir/heap.txt" | tail -n 1 | awk '{ printf "%.0f", $1 / 1048576 }')
    added_p50=$(awk -v a="$(smed "$dir" balancer '.chunkDelayMs.p50')" -v b="$(smed "$dir" direct '.chunkDelayMs.p50')" 'BEGIN { print a - b }')
    added_p99=$(awk -v a="$(smed "$dir" balancer '.chunkDelayMs.p99')" -v b="$(smed "$dir" direct '.chunkDelayMs.p99')" 'BEGIN { print a - b }')
    # The same difference round by round (each balancer run right after its direct run, so under similar noise).
    paired=$(for r in $(seq 1 "$STREAM_ROUNDS"); do
        jq -rn --slurpfile b "$dir/balancer-$r.json" --slurpfile d "$dir/direct-$r.json" \
            '$b[0].chunkDelayMs.p99 - $d[0].chunkDelayMs.p99'; done)
    gc=$(gc_summary "$dir"/balancer.log*.gc)
    added_ttft50=$(awk -v a="$(smed "$dir" balancer '.ttftMs.p50')" -v b="$(smed "$dir" direct '.ttftMs.p50')" 'BEGIN { print a - b }')
    added_ttft99=$(awk -v a="$(smed "$dir" balancer '.ttftMs.p99')" -v b="$(smed "$dir" direct '.ttftMs.p99')" 'BEGIN { print a - b }')
    met=$(awk -v d="$added_p99" -v e="$errors" -v h="$(hang_count "$dir")" \
        'BEGIN { print (d <= 2 && e == 0 && h == 0) ? "**met**" : "**not met**" }')
    cpu=$(median < "$dir/cpu.txt")
    chunks=$(smed "$dir" balancer '.chunks.count')
    {
        echo "<!-- bench:streams:start -->"
        echo "## $STREAMS concurrent streams: added time to first token and per-chunk delay (issue #2, part 2)"
        echo
        echo "Run $(date -u +%Y-%m-%dT%H:%M:%SZ) with \`${BENCH_COMMAND}\`."
        echo
        machine_block
        echo "- Backends: $SIMS simulators in one JVM (\`simulate --fleet\`, \`$SIM_JAVA_OPTS\`, bench/out/streams/fleet.json),"\
             "$(( (STREAMS + SIMS - 1) / SIMS )) slots each, $DECODE_TPS tokens/s per stream with no slowdown under"\
             "concurrency, jitter ±$(awk -v j="$JITTER" 'BEGIN { print j * 100 }')%, $TOKENS tokens per answer"\
             "(\`num_predict\`), model warm. The balancer (\`$BALANCER_JAVA_OPTS\`, access log off) lists them with"\
             "\`maxConcurrency\` = their slots."
        echo "- Load: \`loadgen --connections $STREAMS --requests $STREAM_REQUESTS --warmup $STREAM_WARMUP"\
             "--ramp-up $STREAM_RAMP --threads $LOADGEN_THREADS\` (\`$LOADGEN_JAVA_OPTS\`), streaming"\
             "\`POST /api/generate\`; direct: connection i goes to simulator i mod $SIMS; $STREAM_ROUNDS rounds of"\
             "direct → balancer after one unmeasured pass over both, figures are medians over the rounds (warm-up requests"\
             "excluded)."
        echo "- Measures: TTFT = request written → first NDJSON line read; per-chunk delay = arrival wall-clock time"\
             "− the chunk's \`created_at\` (stamped by the simulator with ns precision when it emits the token; same"\
             "machine clock), so it holds the simulator's write, the kernel, the balancer (when in the path) and the"\
             "load generator's read."
        echo "- Noise: simulators, balancer and load generator share $(nproc) CPUs with other work (load average"\
             "$STREAMS_LOAD_BEFORE before, $STREAMS_LOAD_AFTER after); the balancer's own CPU use adds to the"\
             "contention in its runs, which this ratio cannot separate from its forwarding cost."
        echo
        echo "| path | requests ok | errors | chunks | TTFT p50 ms | TTFT p99 ms | chunk delay p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|"
        for p in direct balancer; do
            printf '| %s | %d | %d | %d | %.2f | %.2f | %.3f | %.3f | %.3f | %.3f | %.3f |\n' "${name[$p]}" \
                "$(smed "$dir" $p '.requests.ok')" \
                "$(cat "$dir"/$p-*.json | jq -s 'map(.requests.errors + .warmup.errors) | add')" \
                "$(smed "$dir" $p '.chunks.count')" \
                "$(smed "$dir" $p '.ttftMs.p50')" "$(smed "$dir" $p '.ttftMs.p99')" \
                "$(smed "$dir" $p '.chunkDelayMs.p50')" "$(smed "$dir" $p '.chunkDelayMs.p90')" \
                "$(smed "$dir" $p '.chunkDelayMs.p99')" "$(smed "$dir" $p '.chunkDelayMs.p999')" \
                "$(smed "$dir" $p '.chunkDelayMs.max')"
        done
        echo
        printf -- '- **Added per-chunk delay (balancer − direct): p50 %.3f ms, p99 %.3f ms**; target p99 ≤ 2 ms with no errors and no hang: %s.\n' \
            "$added_p50" "$added_p99" "$met"
        printf -- '- Added p99 per chunk round by round (balancer run − the direct run just before it): %s ms; median %.3f ms.\n' \
            "$(xargs printf '%.3f, ' <<< "$paired" | sed 's/, $//')" "$(median <<< "$paired")"
        printf -- '- Added time to first token: p50 %.2f ms, p99 %.2f ms (TTFT includes the simulated first-token time, 1/%s s).\n' \
            "$added_ttft50" "$added_ttft99" "$DECODE_TPS"
        printf -- '- Balancer peak heap in use: %s MiB (max of `ollama_balancer_jvm_heap_used_bytes` from `GET /metrics` sampled every 250 ms during its runs; heap max %s MiB); peak RSS (VmHWM) %s MiB.\n' \
            "$peak" "$BALANCER_HEAP_MAX" "$BALANCER_PEAK_RSS"
        read -r gcn gct gcmax gcafter <<< "$gc"
        printf -- '- Balancer GC (`-Xlog:gc`, whole benchmark): %s collections, %s ms of pauses in total, longest %s ms; largest heap after a collection %s MiB (an upper bound of the live set).\n' \
            "$gcn" "$gct" "$gcmax" "$gcafter"
        printf -- '- Balancer CPU: %.1f s per run (median; it includes JIT compilation in the first round and the metrics thread), %.1f µs per forwarded chunk.\n' "$cpu" \
            "$(awk -v c="$cpu" -v n="$chunks" -v w="$STREAM_WARMUP" -v m="$STREAM_REQUESTS" 'BEGIN { print (n > 0) ? c * 1e6 / (n * (w + m) / m) : 0 }')"
        hang_lines "$dir"
        echo
        echo "Per round:"
        echo
        echo "| round | path | ok | errors | TTFT p50 / p99 ms | chunk delay p50 / p99 / max ms | elapsed s |"
        echo "|---|---|---|---|---|---|---|"
        local f
        for f in "$dir"/direct-*.json "$dir"/balancer-*.json; do
            jq -r --arg f "$(basename "$f" .json)" '"| \($f | split("-")[1]) | \($f | split("-")[0]) | \(.requests.ok) | \(.requests.errors + .warmup.errors) | \(.ttftMs.p50) / \(.ttftMs.p99) | \(.chunkDelayMs.p50) / \(.chunkDelayMs.p99) / \(.chunkDelayMs.max) | \(.elapsedSeconds * 10 | round / 10) |"' "$f"
        done
        echo
        echo "<!-- bench:streams:end -->"
    } > "$md"
    update_section streams "$md"
    BENCH_SUMMARY+=("streams: added chunk delay p99 = $(printf '%.3f' "$added_p99") ms (target <= 2), errors $errors, peak heap ${peak} MiB")
}

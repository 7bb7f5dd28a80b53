# Benchmark (2) of bench/run.sh: many concurrent streams from simulated Ollama servers, measured by the loadgen
# subcommand through the balancer, through nginx (the peer proxy, bench/nginx/streams.conf.in) and directly against
# the simulators, same load, in interleaved rounds. Sourced, not run.

: "${STREAMS:=1000}" "${SIMS:=4}" "${DECODE_TPS:=20}" "${TOKENS:=100}" "${JITTER:=0.05}"
: "${STREAM_REQUESTS:=2}" "${STREAM_WARMUP:=1}" "${STREAM_RAMP:=2s}" "${STREAM_ROUNDS:=3}"
: "${STREAM_JIT_PASSES:=10}" "${STREAM_JIT_SETTLED:=0.05}"
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

# Starts sampling the heap in use of the JVM with pid $1 every 250 ms (jstat, which reads the JVM's performance
# counters from outside: nothing runs in the balancer), appending jstat's lines to $2; sets SAMPLER to the sampler's
# pid (stop it with stop_pid). Not /metrics: scraping it four times a second is no user's load, and it costs the
# balancer's chunk-delay p99 (measured 2026-12-07: 24 / 12 / 64 ms with it against 14 / 10 / 18 ms without, rounds
# interleaved). heap_peak_mib reads the peak from the lines.
sample_heap() {
    jstat -gc "$1" 250 >> "$2" 2>/dev/null &
    SAMPLER=$!
    track "$SAMPLER"
    sleep 1 # jstat's own JVM starts before the load does
}

# The largest heap in use (survivor, eden and old spaces: S0U + S1U + EU + OU) in jstat -gc lines $1, in MiB.
heap_peak_mib() {
    awk '$1 ~ /^[0-9.]+$/ { u = $3 + $4 + $6 + $8; if (u > m) m = u } END { printf "%.0f", m / 1024 }' "$1"
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

# Brings the balancer (pid $1, URL $2) to the JIT's steady state before anything is measured: passes of the
# measured load ($STREAM_REQUESTS + $STREAM_WARMUP requests per connection) until the JVM's compiler threads took
# less than $STREAM_JIT_SETTLED of its CPU in a pass, at most $STREAM_JIT_PASSES passes. HotSpot's C2 compiles a
# method after thousands of calls, so code that runs about once per request was still being compiled 10,000-15,000
# requests into a run (measured: bench/RESULTS.md): the compilers' CPU and their contention with the event loops on
# a small machine would otherwise be measured as the data path's. One line per pass in $3/jit-warmup.txt: pass, CPU s, compiler CPU s, file of the
# loadgen report (so the report can show what a young JVM costs).
jit_warm() {
    local pid=$1 url=$2 dir=$3 i c0 c1 k0 k1
    : > "$dir/jit-warmup.txt"
    for i in $(seq 1 "$STREAM_JIT_PASSES"); do
        c0=$(cpu_seconds "$pid"); k0=$(compiler_seconds "$pid")
        loadgen_once "$url" "$dir/jit-$i.json"
        c1=$(cpu_seconds "$pid"); k1=$(compiler_seconds "$pid")
        echo "$i $(minus "$c1" "$c0") $(minus "$k1" "$k0") $dir/jit-$i.json" >> "$dir/jit-warmup.txt"
        log "streams: JIT warm-up pass $i: compilers $(minus "$k1" "$k0") of $(minus "$c1" "$c0") CPU s"
        awk -v c="$(minus "$c1" "$c0")" -v k="$(minus "$k1" "$k0")" -v s="$STREAM_JIT_SETTLED" \
            'BEGIN { exit !(c > 0 && k / c < s) }' && break
    done
}

# Runs loadgen against the targets $1 into $2.
loadgen_once() {
    local targets=$1 out=$2
    # shellcheck disable=SC2086
    java $LOADGEN_JAVA_OPTS -jar "$JAR" loadgen --target "$targets" --connections "$STREAMS" \
        --requests "$STREAM_REQUESTS" --warmup "$STREAM_WARMUP" --ramp-up "$STREAM_RAMP" --timeout 30s \
        --threads "$LOADGEN_THREADS" --body "$STREAM_BODY" --out "$out" 2>> "$STREAMS_DIR/loadgen.log" \
        || die "loadgen failed (see $STREAMS_DIR/loadgen.log)"
}

# The name of the streams benchmark's section in RESULTS.md and of its scratch directory: "streams" for 1,000
# streams (the issue's first figure), "streams-N" for any other count, so that both sizes keep their own section.
streams_tag() { if [ "$STREAMS" = 1000 ]; then echo streams; else echo "streams-$STREAMS"; fi; }

# Writes nginx's config for the streams benchmark into $1/nginx-streams.conf: listening on port $2, least_conn over
# the simulators of backends file $3, keep-alive upstream connections for every stream.
write_nginx_streams() {
    local dir=$1 port=$2 backends=$3 servers
    servers=$(jq -r '[.backends[].url | sub("^http://"; "") | "server \(.);"] | join(" ")' "$backends")
    mkdir -p "$dir/tmp"
    # Each stream holds a client and an upstream connection, and a worker may take most of them.
    sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$2|g" -e "s|@SERVERS@|$servers|" \
        -e "s|@WORKER_CONNECTIONS@|$(( STREAMS * 2 + 1024 ))|" -e "s|@RLIMIT@|$(nginx_nofile)|" \
        -e "s|@KEEPALIVE@|$STREAMS|" "$ROOT/bench/nginx/streams.conf.in" > "$dir/nginx-streams.conf"
}

# Open files per nginx worker: its connections and some room, within the hard limit (raising that needs privileges).
nginx_nofile() {
    local want=$(( STREAMS * 2 + 2048 )) hard
    hard=$(ulimit -Hn)
    if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then want=$hard; fi
    echo "$want"
}

# The pids of nginx (master $1 and its workers), whose CPU is summed.
nginx_pids() { echo "$1 $(pgrep -P "$1" | tr '\n' ' ')"; }

# 5,000 streams: 4 simulators x 1,250 slots at 10 tokens/s (STREAMS_5000_TPS), the rest as set for run_streams.
run_streams_5000() {
    STREAMS=5000 SIMS=4 DECODE_TPS=${STREAMS_5000_TPS:-10} run_streams
}

run_streams() {
    local dir sims lport nport balancer nginx direct r c0 c1 path blog l0
    STREAMS_DIR="$OUT/$(streams_tag)"; dir=$STREAMS_DIR
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
    blog="$dir/balancer.log"
    start_balancer "$dir" "$lport" "$dir/backends.json" "$blog"; balancer=$STARTED_PID
    wait_http "http://127.0.0.1:$lport/ready" 200 60
    wait_models "http://127.0.0.1:$lport"
    STREAM_PATHS=(balancer direct)
    if [ -n "$NGINX" ]; then
        nport=$(free_port)
        write_nginx_streams "$dir" "$nport" "$dir/backends.json"
        start_nginx "$dir" "$dir/nginx-streams.conf"; nginx=$STARTED_PID
        wait_http "http://127.0.0.1:$nport/api/version" 200 30
        STREAM_PATHS=(balancer nginx direct)
    else
        log "streams: nginx is not installed and could not be installed: no nginx row (the peer measure is missing)"
    fi
    local -A url=([balancer]="http://127.0.0.1:$lport" [nginx]="http://127.0.0.1:${nport:-0}" [direct]="$direct")

    [ "${PROFILE:-0}" = 1 ] && jcmd "$balancer" JFR.start name=bench settings=profile \
        filename="$dir/balancer.jfr" >/dev/null
    # One unmeasured pass over every path first, so that every JVM on the path has compiled its hot code.
    log "streams: warm-up pass (one request per connection, each path: ${STREAM_PATHS[*]})"
    for path in "${STREAM_PATHS[@]}"; do
        warm_streams "${url[$path]}" "$dir/prewarm-$path.json"
    done
    log "streams: JIT warm-up of the balancer (until its compilers take < $STREAM_JIT_SETTLED of its CPU in a pass)"
    jit_warm "$balancer" "${url[balancer]}" "$dir"
    STREAMS_LOAD_BEFORE=$(loadavg)
    : > "$dir/heap.txt"
    : > "$dir/compiler-balancer.txt"
    : > "$dir/queue-balancer.txt"
    for path in "${STREAM_PATHS[@]}"; do : > "$dir/cpu-$path.txt"; done
    for r in $(seq 1 "$STREAM_ROUNDS"); do
        local try sampler k0 k1
        for try in $(seq 1 "$BALANCER_TRIES"); do
            log "streams: round $r/$STREAM_ROUNDS, $STREAMS streams through the balancer"
            sample_heap "$balancer" "$dir/heap.txt"
            sampler=$SAMPLER
            c0=$(cpu_seconds "$balancer"); k0=$(compiler_seconds "$balancer")
            l0=$(wc -l < "$blog")
            loadgen_once "${url[balancer]}" "$dir/balancer-$r.json"
            c1=$(cpu_seconds "$balancer"); k1=$(compiler_seconds "$balancer")
            stop_pid "$sampler"
            queue_waits "$blog" "$l0" >> "$dir/queue-balancer.txt"
            balancer_alive "${url[balancer]}" && break
            record_hang "$dir" "$balancer" "streams round $r, try $try"
            blog="$dir/balancer.log.$r.$try"
            start_balancer "$dir" "$lport" "$dir/backends.json" "$blog"; balancer=$STARTED_PID
            wait_http "${url[balancer]}/ready" 200 60
            wait_models "${url[balancer]}"
            warm_streams "${url[balancer]}" "$dir/prewarm-balancer-$r-$try.json"
            jit_warm "$balancer" "${url[balancer]}" "$dir"
        done
        awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }' >> "$dir/cpu-balancer.txt"
        minus "$k1" "$k0" >> "$dir/compiler-balancer.txt"
        if [ -n "${nginx:-}" ]; then
            log "streams: round $r/$STREAM_ROUNDS, through nginx"
            # shellcheck disable=SC2046
            c0=$(cpu_seconds $(nginx_pids "$nginx"))
            loadgen_once "${url[nginx]}" "$dir/nginx-$r.json"
            # shellcheck disable=SC2046
            c1=$(cpu_seconds $(nginx_pids "$nginx"))
            awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }' >> "$dir/cpu-nginx.txt"
        fi
        log "streams: round $r/$STREAM_ROUNDS, directly to the $SIMS simulators"
        loadgen_once "$direct" "$dir/direct-$r.json"
    done
    STREAMS_LOAD_AFTER=$(loadavg)
    BALANCER_PEAK_RSS=$(awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$balancer/status")
    BALANCER_HEAP_MAX=$(curl -s -m 2 "${url[balancer]}/metrics" \
        | awk '$1 == "ollama_balancer_jvm_heap_max_bytes" { printf "%.0f", $2 / 1048576 }')
    if [ "${PROFILE:-0}" = 1 ]; then
        jcmd "$balancer" JFR.stop name=bench >/dev/null 2>&1 || true
        "$ROOT/bench/jfr-top.sh" "$dir/balancer.jfr" > "$dir/profile.txt" 2>&1 || true
        log "streams: profile of the balancer in $dir/profile.txt"
    fi
    stop_pid "$balancer"; [ -n "${nginx:-}" ] && stop_pid "$nginx"; stop_pid "$sims"
    streams_report "$dir"
}

# The queue waits in ms (access log's queue_ms) of the requests logged in balancer log $1 after its line $2, one per
# line. The access log is written off the event loops: a second's pause lets the last lines of a run reach the file.
queue_waits() {
    sleep 1
    tail -n +"$(( $2 + 1 ))" "$1" | grep -o 'queue_ms=[0-9.]*' | cut -d= -f2
}

# Percentiles (p50, p90, p99, p99.9, max) of the numbers in file $1, one per line, as "a / b / c / d / e".
percentiles() {
    sort -g "$1" | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "none"; exit }
        n = split("0.5 0.9 0.99 0.999 1", q, " ")
        for (i = 1; i <= n; i++) { k = int(q[i] * NR + 0.999999); if (k < 1) k = 1; if (k > NR) k = NR
            printf "%s%.2f", (i > 1 ? " / " : ""), v[k] } }'
}

# Median over the rounds of a jq expression on the loadgen reports of one path.
smed() { local f; for f in "$1"/"$2"-*.json; do jq -r "$3" "$f"; done | median; }

# A proxy's own CPU per forwarded chunk in µs: the median CPU seconds of its runs (in directory $1, path $2) over the
# chunks of a run, warm-up requests included since the CPU was measured over the whole loadgen run.
cpu_per_chunk() {
    us_per_chunk "$(median < "$1/cpu-$2.txt")" "$(smed "$1" "$2" '.chunks.count')"
}

# CPU µs per forwarded chunk: $1 CPU seconds over a loadgen run whose measured requests forwarded $2 chunks (the
# run's warm-up requests forwarded chunks too, in proportion, and their CPU is in $1).
us_per_chunk() {
    awk -v c="$1" -v n="$2" -v w="$STREAM_WARMUP" -v m="$STREAM_REQUESTS" \
        'BEGIN { print (n > 0) ? c * 1e6 / (n * (w + m) / m) : 0 }'
}

# a − b, and a / b (0 when b is 0), of two numbers.
minus() { awk -v a="$1" -v b="$2" 'BEGIN { print a - b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > 0) ? a / b : 0 }'; }

# Report lines on the balancer's JIT: the warm-up passes (what a young JVM costs) and the compilers' share of the
# measured rounds.
jit_lines() {
    local dir=$1 n cpu comp f nginx_cpc first_cpc
    [ -s "$dir/jit-warmup.txt" ] || return 0
    n=$(wc -l < "$dir/jit-warmup.txt")
    printf -- '- JIT warm-up of the balancer before the rounds: %s pass(es) of the measured load (%s requests per connection), until its compiler threads took < %s of its CPU in a pass (at most %s passes). Per pass, CPU µs per chunk (compilers'"'"' share; TTFT p50 / chunk-delay p99 ms): %s.\n' \
        "$n" "$((STREAM_REQUESTS + STREAM_WARMUP))" "$STREAM_JIT_SETTLED" "$STREAM_JIT_PASSES" \
        "$(while read -r _ cpu comp f; do
            printf '%.1f (%.0f %%; %.0f / %.0f)\n' "$(us_per_chunk "$cpu" "$(jq '.chunks.count' "$f")")" \
                "$(awk -v c="$cpu" -v k="$comp" 'BEGIN { print (c > 0) ? 100 * k / c : 0 }')" \
                "$(jq '.ttftMs.p50' "$f")" "$(jq '.chunkDelayMs.p99' "$f")"
          done < "$dir/jit-warmup.txt" | paste -sd ',' | sed 's/,/, /g')"
    if [ -s "$dir/cpu-nginx.txt" ]; then
        nginx_cpc=$(cpu_per_chunk "$dir" nginx)
        read -r _ cpu comp f < "$dir/jit-warmup.txt"
        first_cpc=$(us_per_chunk "$cpu" "$(jq '.chunks.count' "$f")")
        printf -- '- The first of those passes (a young JVM: %s requests served before it) costs %.2f× nginx'"'"'s CPU per chunk of the rounds below.\n' \
            "$((STREAMS + 1))" "$(ratio "$first_cpc" "$nginx_cpc")"
    fi
    printf -- '- The compiler threads'"'"' share of the balancer'"'"'s CPU in the measured rounds: %s (included in its CPU per chunk, as are its metrics and access-log threads).\n' \
        "$(paste -d' ' "$dir/compiler-balancer.txt" "$dir/cpu-balancer.txt" \
            | awk '{ printf "%s%d %%", (NR > 1 ? ", " : ""), ($2 > 0 ? 100 * $1 / $2 : 0) }')"
}

streams_report() {
    local dir=$1 md="$1/section.md" p tag
    tag=$(streams_tag)
    local -A name=([direct]="simulators directly" [balancer]="through the balancer" [nginx]="through nginx")
    local errors peak added_p50 added_p99 met paired gc gcn gct gcmax gcafter has_nginx=0
    [ -f "$dir/nginx-1.json" ] && has_nginx=1
    errors=$(for p in "${STREAM_PATHS[@]}"; do cat "$dir"/$p-*.json; done \
        | jq -s 'map(.requests.errors + .warmup.errors) | add')
    peak=$(heap_peak_mib "$dir/heap.txt")
    added_p50=$(minus "$(smed "$dir" balancer '.chunkDelayMs.p50')" "$(smed "$dir" direct '.chunkDelayMs.p50')")
    added_p99=$(minus "$(smed "$dir" balancer '.chunkDelayMs.p99')" "$(smed "$dir" direct '.chunkDelayMs.p99')")
    # The same difference round by round (each path's run within minutes of the others, so under similar noise).
    paired=$(for r in $(seq 1 "$STREAM_ROUNDS"); do
        jq -rn --slurpfile b "$dir/balancer-$r.json" --slurpfile d "$dir/direct-$r.json" \
            '$b[0].chunkDelayMs.p99 - $d[0].chunkDelayMs.p99'; done)
    gc=$(gc_summary "$dir"/balancer.log*.gc)
    met=$(awk -v d="$added_p99" -v e="$errors" -v h="$(hang_count "$dir")" \
        'BEGIN { print (d <= 2 && e == 0 && h == 0) ? "**met**" : "**not met**" }')
    {
        echo "<!-- bench:$tag:start -->"
        echo "## $STREAMS concurrent streams: the balancer against nginx and the direct path (issues #2 and #11)"
        echo
        echo "Run $(date -u +%Y-%m-%dT%H:%M:%SZ) with \`${BENCH_COMMAND}\`."
        echo
        machine_block
        echo "- Backends: $SIMS simulators in one JVM (\`simulate --fleet\`, \`$SIM_JAVA_OPTS\`, bench/out/$tag/fleet.json),"\
             "$(( (STREAMS + SIMS - 1) / SIMS )) slots each, $DECODE_TPS tokens/s per stream with no slowdown under"\
             "concurrency, jitter ±$(awk -v j="$JITTER" 'BEGIN { print j * 100 }')%, $TOKENS tokens per answer"\
             "(\`num_predict\`), model warm. The balancer (\`$BALANCER_JAVA_OPTS\`, built-in defaults, its access log on) lists them with"\
             "\`maxConcurrency\` = their slots."
        [ "$has_nginx" = 1 ] && echo "- Peer: nginx in front of the same simulators (bench/nginx/streams.conf.in:"\
             "\`worker_processes auto\`, \`least_conn\`, \`proxy_buffering off\`, \`proxy_http_version 1.1\`, upstream"\
             "\`keepalive $STREAMS\`, its default access log on)."
        echo "- Load: \`loadgen --connections $STREAMS --requests $STREAM_REQUESTS --warmup $STREAM_WARMUP"\
             "--ramp-up $STREAM_RAMP --threads $LOADGEN_THREADS\` (\`$LOADGEN_JAVA_OPTS\`), streaming"\
             "\`POST /api/generate\`; direct: connection i goes to simulator i mod $SIMS; $STREAM_ROUNDS rounds of"\
             "$(IFS=/; echo "${STREAM_PATHS[*]}" | sed 's|/| → |g') after one unmeasured pass over each path and the balancer's JIT warm-up"\
             "(below); figures are medians over the rounds (warm-up requests excluded)."
        echo "- Measures: TTFT = request written → first NDJSON line read; per-chunk delay = arrival wall-clock time"\
             "− the chunk's \`created_at\` (stamped by the simulator with ns precision when it emits the token; same"\
             "machine clock), so it holds the simulator's write, the kernel, the proxy (when in the path) and the"\
             "load generator's read. A proxy's CPU = user + system time from /proc/PID/stat over its runs (nginx: master"\
             "and workers), per chunk forwarded (warm-up requests included, as in the CPU time)."
        echo "- Noise: simulators, proxies and load generator share $(nproc) CPUs with other work (load average"\
             "$STREAMS_LOAD_BEFORE before, $STREAMS_LOAD_AFTER after); a proxy's own CPU use adds to the contention in"\
             "its runs, which the delays cannot separate from its forwarding cost: compare the proxies' ratios."
        echo
        echo "| path | requests ok | errors | chunks | TTFT p50 ms | TTFT p99 ms | chunk delay p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | CPU s per run | CPU µs per chunk |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        for p in "${STREAM_PATHS[@]}"; do
            printf '| %s | %d | %d | %d | %.2f | %.2f | %.3f | %.3f | %.3f | %.3f | %.3f | %s | %s |\n' "${name[$p]}" \
                "$(smed "$dir" $p '.requests.ok')" \
                "$(cat "$dir"/$p-*.json | jq -s 'map(.requests.errors + .warmup.errors) | add')" \
                "$(smed "$dir" $p '.chunks.count')" \
                "$(smed "$dir" $p '.ttftMs.p50')" "$(smed "$dir" $p '.ttftMs.p99')" \
                "$(smed "$dir" $p '.chunkDelayMs.p50')" "$(smed "$dir" $p '.chunkDelayMs.p90')" \
                "$(smed "$dir" $p '.chunkDelayMs.p99')" "$(smed "$dir" $p '.chunkDelayMs.p999')" \
                "$(smed "$dir" $p '.chunkDelayMs.max')" \
                "$([ "$p" = direct ] && echo — || printf '%.1f' "$(median < "$dir/cpu-$p.txt")")" \
                "$([ "$p" = direct ] && echo — || printf '%.1f' "$(cpu_per_chunk "$dir" "$p")")"
        done
        echo
        for p in "${STREAM_PATHS[@]}"; do
            [ "$p" = direct ] && continue
            printf -- '- Added by %s (over direct): per-chunk delay p50 %.3f ms, p99 %.3f ms; TTFT p50 %.2f ms, p99 %.2f ms.\n' \
                "${name[$p]#through }" \
                "$(minus "$(smed "$dir" $p '.chunkDelayMs.p50')" "$(smed "$dir" direct '.chunkDelayMs.p50')")" \
                "$(minus "$(smed "$dir" $p '.chunkDelayMs.p99')" "$(smed "$dir" direct '.chunkDelayMs.p99')")" \
                "$(minus "$(smed "$dir" $p '.ttftMs.p50')" "$(smed "$dir" direct '.ttftMs.p50')")" \
                "$(minus "$(smed "$dir" $p '.ttftMs.p99')" "$(smed "$dir" direct '.ttftMs.p99')")"
        done
        if [ "$has_nginx" = 1 ]; then
            local cpu_ratio delay_ratio ttft_extra met11
            cpu_ratio=$(ratio "$(cpu_per_chunk "$dir" balancer)" "$(cpu_per_chunk "$dir" nginx)")
            delay_ratio=$(ratio "$(smed "$dir" balancer '.chunkDelayMs.p99')" "$(smed "$dir" nginx '.chunkDelayMs.p99')")
            ttft_extra=$(minus "$(smed "$dir" balancer '.ttftMs.p50')" "$(smed "$dir" nginx '.ttftMs.p50')")
            met11=$(awk -v c="$cpu_ratio" -v d="$delay_ratio" -v t="$ttft_extra" -v e="$errors" -v h="$(hang_count "$dir")" \
                'BEGIN { print (c <= 1.5 && d <= 1.5 && t <= 5 && e == 0 && h == 0) ? "**met**" : "**not met**" }')
            printf -- '- **Balancer ÷ nginx, same run: CPU per chunk %.2f×, chunk-delay p99 %.2f×; TTFT p50 balancer − nginx %.2f ms**; issue #11 targets (≤ 1.5×, ≤ 1.5×, ≤ 5 ms, no errors, no hang): %s.\n' \
                "$cpu_ratio" "$delay_ratio" "$ttft_extra" "$met11"
            printf -- '- Chunk-delay p99 round by round, balancer ÷ nginx: %s.\n' "$(for r in $(seq 1 "$STREAM_ROUNDS"); do
                jq -rn --slurpfile b "$dir/balancer-$r.json" --slurpfile n "$dir/nginx-$r.json" \
                    'if $n[0].chunkDelayMs.p99 > 0 then $b[0].chunkDelayMs.p99 / $n[0].chunkDelayMs.p99 else 0 end'
                done | xargs printf '%.2f, ' | sed 's/, $//')"
        fi
        printf -- '- Added per-chunk delay (balancer − direct): p50 %.3f ms, p99 %.3f ms; issue #2 target p99 ≤ 2 ms with no errors and no hang: %s.\n' \
            "$added_p50" "$added_p99" "$met"
        printf -- '- Added p99 per chunk round by round (balancer run − the direct run of the same round): %s ms; median %.3f ms.\n' \
            "$(xargs printf '%.3f, ' <<< "$paired" | sed 's/, $//')" "$(median <<< "$paired")"
        printf -- '- TTFT includes the simulated first-token time, 1/%s s.\n' "$DECODE_TPS"
        printf -- '- Balancer peak heap in use: %s MiB (max of survivor + eden + old space in use, sampled every 250 ms during its runs by `jstat -gc`, from outside the balancer; heap max %s MiB); peak RSS (VmHWM) %s MiB.\n' \
            "$peak" "$BALANCER_HEAP_MAX" "$BALANCER_PEAK_RSS"
        read -r gcn gct gcmax gcafter <<< "$gc"
        printf -- '- Balancer GC (`-Xlog:gc`, whole benchmark): %s collections, %s ms of pauses in total, longest %s ms; largest heap after a collection %s MiB (an upper bound of the live set).\n' \
            "$gcn" "$gct" "$gcmax" "$gcafter"
        if [ -s "$dir/queue-balancer.txt" ]; then
            printf -- '- Queue wait in the balancer (its access log'"'"'s `queue_ms`, every request of the measured rounds, warm-up requests included: %s requests), p50 / p90 / p99 / p99.9 / max: %s ms; %s waited over 1 s.\n' \
                "$(wc -l < "$dir/queue-balancer.txt")" "$(percentiles "$dir/queue-balancer.txt")" \
                "$(awk '$1 > 1000 { n++ } END { print n + 0 }' "$dir/queue-balancer.txt")"
        fi
        jit_lines "$dir"
        hang_lines "$dir"
        echo
        echo "Per round:"
        echo
        echo "| round | path | ok | errors | TTFT p50 / p99 ms | chunk delay p50 / p99 / max ms | elapsed s |"
        echo "|---|---|---|---|---|---|---|"
        local f
        for r in $(seq 1 "$STREAM_ROUNDS"); do
            for p in "${STREAM_PATHS[@]}"; do
                f="$dir/$p-$r.json"
                jq -r --arg p "$p" --arg r "$r" '"| \($r) | \($p) | \(.requests.ok) | \(.requests.errors + .warmup.errors) | \(.ttftMs.p50) / \(.ttftMs.p99) | \(.chunkDelayMs.p50) / \(.chunkDelayMs.p99) / \(.chunkDelayMs.max) | \(.elapsedSeconds * 10 | round / 10) |"' "$f"
            done
        done
        echo
        echo "<!-- bench:$tag:end -->"
    } > "$md"
    update_section "$tag" "$md"
    BENCH_SUMMARY+=("$tag: added chunk delay p99 = $(printf '%.3f' "$added_p99") ms (target <= 2), errors $errors, peak heap ${peak} MiB")
    if [ "$has_nginx" = 1 ]; then
        BENCH_SUMMARY+=("$tag: balancer / nginx CPU per chunk $(printf '%.2f' "$(ratio "$(cpu_per_chunk "$dir" balancer)" "$(cpu_per_chunk "$dir" nginx)")")x (target <= 1.5)")
    fi
}

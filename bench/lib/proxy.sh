# Benchmark (1) of bench/run.sh: proxy overhead. wrk POSTs a small non-streaming generate to a static-response
# backend (nginx) directly, through nginx proxy_pass with upstream keep-alive, and through the balancer, with the
# same threads, connections and duration, in interleaved rounds; then, in the same way, on one connection
# (wrk -t1 -c1), for the latency each proxy adds when nothing queues. Sourced, not run.

: "${WRK_THREADS:=2}" "${WRK_CONNECTIONS:=64}" "${WRK_DURATION:=15s}" "${WRK_WARMUP:=5s}" "${PROXY_ROUNDS:=3}"
: "${ONE_CONN_DURATION:=10s}"
GENERATE_BODY='{"model":"llama3.2:1b","prompt":"hi","stream":false}'


# Runs wrk against $1 for $2 with $3 threads and $4 connections (default: WRK_THREADS, WRK_CONNECTIONS); prints
# the JSON of its BENCH line (latencies in µs).
wrk_once() {
    local url=$1 duration=$2 threads=${3:-$WRK_THREADS} connections=${4:-$WRK_CONNECTIONS} raw
    raw=$(wrk -t"$threads" -c"$connections" -d"$duration" --timeout 5s --latency \
        -s "$ROOT/bench/post.lua" "$url/api/generate" 2>&1) || die "wrk failed against $url: $raw"
    printf '%s\n' "$raw" | sed -n 's/^BENCH //p'
}

# Warms a path up: 2 s on a single connection first (so that the balancer's latency histograms grow while only
# one event loop records into them: see the hang noted in RESULTS.md), then $WRK_WARMUP at full load.
warm_path() {
    wrk -t1 -c1 -d2s --timeout 5s -s "$ROOT/bench/post.lua" "$1/api/generate" >/dev/null 2>&1 || true
    wrk_once "$1" "$WRK_WARMUP" >/dev/null
}

# Starts the static nginx backend and nginx proxy_pass in front of it in a fresh directory $1, and writes the
# balancer's backends file for that backend ($1/backends.json); sets STATIC_PORT, STATIC_PID, PEER_PORT, PEER_PID.
start_static_pair() {
    local dir=$1
    rm -rf "$dir"
    mkdir -p "$dir/tmp"
    STATIC_PORT=$(free_port); PEER_PORT=$(free_port)
    sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$STATIC_PORT|g" "$ROOT/bench/nginx/backend.conf.in" > "$dir/backend.conf"
    sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$PEER_PORT|g" -e "s|@BACKEND_PORT@|$STATIC_PORT|g" \
        "$ROOT/bench/nginx/proxy.conf.in" > "$dir/proxy.conf"
    cat > "$dir/backends.json" <<JSON
{"backends": [{"name": "static", "url": "http://127.0.0.1:$STATIC_PORT", "maxConcurrency": 512, "models": ["llama3.2:1b"]}]}
JSON
    start_nginx "$dir" "$dir/backend.conf"; STATIC_PID=$STARTED_PID
    start_nginx "$dir" "$dir/proxy.conf"; PEER_PID=$STARTED_PID
    wait_http "http://127.0.0.1:$STATIC_PORT/" 200 30
    wait_http "http://127.0.0.1:$PEER_PORT/" 200 30
}

run_proxy() {
    local dir="$OUT/proxy" bport pport lport backend proxy balancer
    [ -n "$NGINX" ] || die "bench/run.sh proxy needs nginx (the static backend and the peer proxy); install it with apt-get install nginx"
    start_static_pair "$dir"
    bport=$STATIC_PORT; pport=$PEER_PORT; backend=$STATIC_PID; proxy=$PEER_PID; lport=$(free_port)
    BALANCER_LOG="$dir/balancer.log"
    start_balancer "$dir" "$lport" "$dir/backends.json" "$BALANCER_LOG"; balancer=$STARTED_PID
    wait_http "http://127.0.0.1:$lport/ready" 200 60

    local -A url=([direct]="http://127.0.0.1:$bport" [nginx]="http://127.0.0.1:$pport" [balancer]="http://127.0.0.1:$lport")
    local -A procs=([direct]="$backend $(pgrep -P "$backend" | tr '\n' ' ')"
                    [nginx]="$proxy $(pgrep -P "$proxy" | tr '\n' ' ')"
                    [balancer]="$balancer")
    local t
    for t in direct nginx balancer; do
        curl -sf -m 5 "${url[$t]}/api/generate" -d "$GENERATE_BODY" | jq -e '.done == true' >/dev/null \
            || die "$t (${url[$t]}) does not answer the generate request"
    done

    log "proxy: warm-up, 2s on one connection then $WRK_WARMUP per path"
    for t in direct nginx balancer; do warm_path "${url[$t]}"; done
    LOAD_BEFORE=$(loadavg)
    proxy_phase throughput "$WRK_THREADS" "$WRK_CONNECTIONS" "$WRK_DURATION"
    proxy_phase one-connection 1 1 "$ONE_CONN_DURATION"
    LOAD_AFTER=$(loadavg)
    stop_pid "$balancer"; stop_pid "$proxy"; stop_pid "$backend"
    proxy_report "$dir"
}

# PROXY_ROUNDS interleaved rounds of direct → nginx → balancer with wrk -t$2 -c$3 -d$4, into $dir/$1.jsonl (and,
# with PROFILE=1, a JFR recording of the balancer over the phase, summarised in $dir/profile-$1.txt). Uses and
# updates run_proxy's locals (dir, url, procs, balancer, lport): a balancer that stops answering is restarted,
# warmed up and the run repeated, at most BALANCER_TRIES times.
proxy_phase() {
    local phase=$1 threads=$2 connections=$3 duration=$4 r t json c0 c1 try
    [ "${PROFILE:-0}" = 1 ] && jcmd "$balancer" JFR.start name="$phase" settings=profile \
        filename="$dir/balancer-$phase.jfr" >/dev/null
    : > "$dir/$phase.jsonl"
    for r in $(seq 1 "$PROXY_ROUNDS"); do
        for t in direct nginx balancer; do
            for try in $(seq 1 "$BALANCER_TRIES"); do
                log "proxy: $phase round $r/$PROXY_ROUNDS, $t, wrk -t$threads -c$connections -d$duration"
                # shellcheck disable=SC2086
                c0=$(cpu_seconds ${procs[$t]})
                json=$(wrk_once "${url[$t]}" "$duration" "$threads" "$connections")
                # shellcheck disable=SC2086
                c1=$(cpu_seconds ${procs[$t]})
                if [ "$t" != balancer ] || balancer_alive "${url[balancer]}"; then
                    break
                fi
                record_hang "$dir" "$balancer" "proxy $phase round $r, try $try"
                start_balancer "$dir" "$lport" "$dir/backends.json" "$BALANCER_LOG.$phase.$r.$try"; balancer=$STARTED_PID
                procs[balancer]=$balancer
                wait_http "http://127.0.0.1:$lport/ready" 200 60
                warm_path "${url[balancer]}"
            done
            jq -c --arg t "$t" --argjson r "$r" --argjson cpu "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" \
                '. + {target: $t, round: $r, cpuSeconds: $cpu, rps: (.requests / (.durationUs / 1e6))}' \
                <<< "$json" >> "$dir/$phase.jsonl"
        done
    done
    if [ "${PROFILE:-0}" = 1 ]; then
        jcmd "$balancer" JFR.stop name="$phase" >/dev/null 2>&1 || true
        "$ROOT/bench/jfr-top.sh" "$dir/balancer-$phase.jfr" > "$dir/profile-$phase.txt" 2>&1 || true
        log "proxy: profile of the balancer ($phase) in $dir/profile-$phase.txt"
    fi
}

# Median over the rounds of file $1 of target $2's field $3 minus direct's, each round against its own direct run.
added_us() {
    jq -rs --arg t "$2" "group_by(.round)[] | (map(select(.target == \$t))[0] | $3) - (map(select(.target == \"direct\"))[0] | $3)" "$1" | median
}

# The markdown of the one-connection phase (file $1): latency per path, the latency each proxy adds over direct
# in the same round, and issue #11's target for the balancer (added p50 ≤ 100 µs, added p99 ≤ 1 ms).
one_connection_lines() {
    local runs=$1 t p50 p99 rps cpu err a50 a99 met
    echo
    echo "One connection (wrk \`-t1 -c1\`), latency when nothing queues:"
    echo
    echo "| path | req/s | p50 µs | p99 µs | added p50 µs | added p99 µs | errors | proxy CPU µs/request |"
    echo "|---|---|---|---|---|---|---|---|"
    for t in direct nginx balancer; do
        rps=$(pmed "$runs" "$t" '.rps'); p50=$(pmed "$runs" "$t" '.p50Us'); p99=$(pmed "$runs" "$t" '.p99Us')
        cpu=$(pmed "$runs" "$t" '.cpuSeconds * 1e6 / .requests')
        err=$(jq -s --arg t "$t" 'map(select(.target == $t) | .connectErrors + .readErrors + .writeErrors + .statusErrors + .timeouts) | add' "$runs")
        if [ "$t" = direct ]; then a50=–; a99=–; else a50=$(added_us "$runs" "$t" .p50Us); a99=$(added_us "$runs" "$t" .p99Us); fi
        printf '| %s | %.0f | %.0f | %.0f | %s | %s | %d | %.0f |\n' "${name[$t]}" "$rps" "$p50" "$p99" "$a50" "$a99" "$err" "$cpu"
    done
    echo
    a50=$(added_us "$runs" balancer .p50Us); a99=$(added_us "$runs" balancer .p99Us)
    met=$(awk -v a="$a50" -v b="$a99" 'BEGIN { print (a <= 100 && b <= 1000) ? "**met**" : "**not met**" }')
    printf -- '- **One connection, balancer added p50 / p99 over direct: %s / %s µs** (nginx: %s / %s µs; each round against'\
' its own direct run, median of the rounds); target p50 ≤ 100 µs and p99 ≤ 1 ms (issue #11): %s.\n' \
        "$a50" "$a99" "$(added_us "$runs" nginx .p50Us)" "$(added_us "$runs" nginx .p99Us)" "$met"
}

# Median over rounds of a field for one target.
pmed() { jq -r --arg t "$2" "select(.target == \$t) | $3" "$1" | median; }

proxy_report() {
    local dir=$1 runs="$1/throughput.jsonl" md="$1/section.md" t
    local -A name=([direct]="backend directly (nginx static)" [nginx]="nginx proxy_pass, upstream keepalive 64"
                   [balancer]="ollama-balancer (serve)")
    local ratio ratio_direct ratios errors met
    ratios=$(jq -rs 'group_by(.round)[] | (map(select(.target == "balancer"))[0].rps / map(select(.target == "nginx"))[0].rps)' "$runs")
    ratio=$(median <<< "$ratios")
    ratio_direct=$(jq -rs 'group_by(.round)[] | (map(select(.target == "balancer"))[0].rps / map(select(.target == "direct"))[0].rps)' "$runs" | median)
    errors=$(jq -s 'map(.connectErrors + .readErrors + .writeErrors + .statusErrors + .timeouts) | add' "$runs")
    met=$(awk -v r="$ratio" -v e="$errors" -v h="$(hang_count "$dir")" \
        'BEGIN { print (r >= 0.5 && e == 0 && h == 0) ? "**met**" : "**not met**" }')
    {
        echo "<!-- bench:proxy:start -->"
        echo "## Proxy overhead: small non-streaming generate (issue #2, part 1)"
        echo
        echo "Run $(date -u +%Y-%m-%dT%H:%M:%SZ) with \`${BENCH_COMMAND}\`."
        echo
        machine_block
        echo "- Load: wrk \`-t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION --latency --timeout 5s -s bench/post.lua\`"\
             "POSTing \`$GENERATE_BODY\` to \`/api/generate\`; per path a 2 s single-connection start and a $WRK_WARMUP warm-up, then"\
             "$PROXY_ROUNDS rounds of direct → nginx → balancer (figures: median of the rounds, range in brackets);"\
             "then $PROXY_ROUNDS rounds of the same on one connection, wrk \`-t1 -c1 -d$ONE_CONN_DURATION --latency\`."
        echo "- Settings: nginx \`worker_processes auto\`, its default access log on (to a file) for the proxy, off for the static backend, \`keepalive_requests\` unlimited"\
             "(bench/nginx/); the balancer with \`$BALANCER_JAVA_OPTS\`, built-in defaults (its access log on),"\
             "one backend with \`maxConcurrency\` 512 and a static model list."
        echo "- Noise: wrk, nginx and the JVM share the machine's $(nproc) CPUs (and other work: load average"\
             "$LOAD_BEFORE before, $LOAD_AFTER after), so absolute numbers are low and vary between rounds;"\
             "compare the ratios, which come from the same rounds."
        echo
        echo "| path | req/s | p50 ms | p99 ms | errors | proxy CPU µs/request |"
        echo "|---|---|---|---|---|---|"
        for t in direct nginx balancer; do
            local rps lo hi p50 p99 err cpu
            rps=$(pmed "$runs" "$t" '.rps'); lo=$(jq -rs --arg t "$t" 'map(select(.target == $t).rps) | min' "$runs")
            hi=$(jq -rs --arg t "$t" 'map(select(.target == $t).rps) | max' "$runs")
            p50=$(pmed "$runs" "$t" '.p50Us / 1000'); p99=$(pmed "$runs" "$t" '.p99Us / 1000')
            err=$(jq -s --arg t "$t" 'map(select(.target == $t) | .connectErrors + .readErrors + .writeErrors + .statusErrors + .timeouts) | add' "$runs")
            cpu=$(pmed "$runs" "$t" '.cpuSeconds * 1e6 / .requests')
            printf '| %s | %.0f [%.0f–%.0f] | %.2f | %.2f | %d | %.0f |\n' "${name[$t]}" "$rps" "$lo" "$hi" "$p50" "$p99" "$err" "$cpu"
        done
        echo
        printf -- '- **balancer / nginx req/s: %.2f** (median of the per-round ratios %s); target ≥ 0.5 with no errors and no hang: %s.\n' \
            "$ratio" "$(tr '\n' ' ' <<< "$ratios" | xargs printf '%.2f ' | sed 's/ $//')" "$met"
        printf -- '- balancer / direct req/s: %.2f; nginx / direct: %.2f.\n' "$ratio_direct" \
            "$(jq -rs 'group_by(.round)[] | (map(select(.target == "nginx"))[0].rps / map(select(.target == "direct"))[0].rps)' "$runs" | median)"
        printf -- '- Added latency vs direct, p50 / p99: nginx %.2f / %.2f ms, balancer %.2f / %.2f ms.\n' \
            "$(awk -v a="$(pmed "$runs" nginx '.p50Us')" -v b="$(pmed "$runs" direct '.p50Us')" 'BEGIN { print (a - b) / 1000 }')" \
            "$(awk -v a="$(pmed "$runs" nginx '.p99Us')" -v b="$(pmed "$runs" direct '.p99Us')" 'BEGIN { print (a - b) / 1000 }')" \
            "$(awk -v a="$(pmed "$runs" balancer '.p50Us')" -v b="$(pmed "$runs" direct '.p50Us')" 'BEGIN { print (a - b) / 1000 }')" \
            "$(awk -v a="$(pmed "$runs" balancer '.p99Us')" -v b="$(pmed "$runs" direct '.p99Us')" 'BEGIN { print (a - b) / 1000 }')"
        one_connection_lines "$dir/one-connection.jsonl"
        hang_lines "$dir"
        echo "- Proxy CPU µs/request is the CPU time of the proxy's own processes (nginx master and workers, or the"\
             "balancer JVM with its GC and JIT threads; for \"direct\", the backend) divided by the requests served."
        echo
        echo "<!-- bench:proxy:end -->"
    } > "$md"
    update_section proxy "$md"
    BENCH_SUMMARY+=("proxy: balancer/nginx req/s = $(printf '%.2f' "$ratio") (target >= 0.5), errors $errors")
}

# Benchmark (5) of bench/run.sh: cold start. The balancer is started afresh (a new JVM, nothing compiled) in front of
# the proxy benchmark's static backend, and loaded with wrk at once, as a deploy or a restart meets its traffic;
# the answers are counted per wall-clock second (bench/coldstart.lua). nginx in front of the same backend, loaded
# the same way in the same rounds, shows the machine's ceiling with no warm-up to do. Sourced (after proxy.sh,
# whose start_static_pair it uses), not run.

: "${COLD_SECONDS:=40}" "${COLD_ROUNDS:=3}"

# Starts nothing; loads $1 for COLD_SECONDS with the proxy benchmark's threads and connections; prints the COLD json.
cold_wrk() {
    local raw
    raw=$(wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${COLD_SECONDS}s" --timeout 5s \
        -s "$ROOT/bench/coldstart.lua" "$1/api/generate" 2>&1) || die "wrk failed against $1: $raw"
    printf '%s\n' "$raw" | sed -n 's/^COLD //p'
}

run_coldstart() {
    local dir="$OUT/coldstart" pport lport backend proxy balancer r t0 t1 json
    # The first and the last 10 full seconds are compared: they must not overlap (two partial seconds are dropped).
    [ "$COLD_SECONDS" -ge 22 ] || die "COLD_SECONDS must be at least 22 (the first and the last 10 full seconds are compared)"
    [ -n "$NGINX" ] || die "bench/run.sh coldstart needs nginx (the static backend and the peer); install it with apt-get install nginx"
    start_static_pair "$dir"
    pport=$PEER_PORT; backend=$STATIC_PID; proxy=$PEER_PID
    LOAD_BEFORE=$(loadavg)
    : > "$dir/runs.jsonl"
    for r in $(seq 1 "$COLD_ROUNDS"); do
        lport=$(free_port)
        log "coldstart: round $r/$COLD_ROUNDS, a fresh balancer, then wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${COLD_SECONDS}s at once"
        t0=$(date +%s.%N)
        start_balancer "$dir" "$lport" "$dir/backends.json" "$dir/balancer.$r.log"; balancer=$STARTED_PID
        wait_http "http://127.0.0.1:$lport/ready" 200 60
        t1=$(date +%s.%N)
        json=$(cold_wrk "http://127.0.0.1:$lport")
        jq -c --argjson r "$r" --argjson ready "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
            '. + {target: "balancer", round: $r, readySeconds: $ready}' <<< "$json" >> "$dir/runs.jsonl"
        stop_pid "$balancer"
        log "coldstart: round $r/$COLD_ROUNDS, nginx"
        json=$(cold_wrk "http://127.0.0.1:$pport")
        jq -c --argjson r "$r" '. + {target: "nginx", round: $r}' <<< "$json" >> "$dir/runs.jsonl"
    done
    LOAD_AFTER=$(loadavg)
    stop_pid "$proxy"; stop_pid "$backend"
    coldstart_report "$dir"
}

# The per-second series of one target and round without its first and last buckets (partial seconds).
cold_series() { jq -r --arg t "$2" --argjson r "$3" 'select(.target == $t and .round == $r) | .perSecond[1:-1][]' "$1"; }

coldstart_report() {
    local dir=$1 runs="$1/runs.jsonl" md="$1/section.md" r t s
    local -a first10 ratios
    for r in $(seq 1 "$COLD_ROUNDS"); do
        # First 10 full seconds against the balancer's own steady state (its last 10 full seconds).
        local series
        series=$(cold_series "$runs" balancer "$r")
        ratios+=("$(awk '{ v[NR] = $1 } END { for (i = 1; i <= 10; i++) a += v[i]; for (i = NR - 9; i <= NR; i++) b += v[i]; print (b > 0) ? a / b : 0 }' <<< "$series")")
        first10+=("$(awk 'NR <= 10 { a += $1 } END { print a / 10 }' <<< "$series")")
    done
    local ratio steady_nginx_vs
    ratio=$(printf '%s\n' "${ratios[@]}" | median)
    steady_nginx_vs=$(for r in $(seq 1 "$COLD_ROUNDS"); do
        paste <(cold_series "$runs" balancer "$r" | tail -n 10) <(cold_series "$runs" nginx "$r" | tail -n 10) \
            | awk '{ a += $1; b += $2 } END { print (b > 0) ? a / b : 0 }'
    done | median)
    {
        echo "<!-- bench:coldstart:start -->"
        echo "## Cold start: requests per second from a fresh JVM (issue #11, item 5)"
        echo
        echo "Run $(date -u +%Y-%m-%dT%H:%M:%SZ) with \`${BENCH_COMMAND}\`."
        echo
        machine_block
        echo "- Load: each round starts a new balancer (\`java $BALANCER_JAVA_OPTS -jar\`, built-in defaults, access log on) in front of the"\
             "proxy benchmark's static nginx backend, waits for \`/ready\`, then runs wrk \`-t$WRK_THREADS -c$WRK_CONNECTIONS -d${COLD_SECONDS}s\`"\
             "at once (the proxy benchmark's small non-streaming generate); nginx in front of the same backend gets the same load in the same"\
             "round. Answers with status 200 are counted per wall-clock second (bench/coldstart.lua); the first and last buckets"\
             "(partial seconds) are left out, so second 1 starts up to 1 s after the load did. $COLD_ROUNDS rounds."
        echo "- Noise: wrk, nginx and the JVM share the machine's $(nproc) CPUs (load average $LOAD_BEFORE before, $LOAD_AFTER after)."
        echo
        printf '| second |'; for r in $(seq 1 "$COLD_ROUNDS"); do printf ' balancer r%s |' "$r"; done
        for r in $(seq 1 "$COLD_ROUNDS"); do printf ' nginx r%s |' "$r"; done; echo
        printf '|---|'; for _ in $(seq 1 $((COLD_ROUNDS * 2))); do printf -- '---|'; done; echo
        local n
        n=$(cold_series "$runs" balancer 1 | wc -l)
        for s in $(seq 1 "$n"); do
            printf '| %d |' "$s"
            for t in balancer nginx; do
                for r in $(seq 1 "$COLD_ROUNDS"); do
                    printf ' %s |' "$(cold_series "$runs" "$t" "$r" | sed -n "${s}p")"
                done
            done
            echo
        done
        echo
        printf -- '- Time from `java -jar` to `/ready` answering 200, per round: %s s.\n' \
            "$(jq -r 'select(.target == "balancer") | .readySeconds' "$runs" | xargs printf '%.2f ' | sed 's/ $//')"
        printf -- '- **First 10 s ÷ the balancer'"'"'s own steady state (its last 10 s): %.2f** (median; per round %s); issue #11 target ≥ 0.70: %s.\n' \
            "$ratio" "$(printf '%.2f ' "${ratios[@]}" | sed 's/ $//')" \
            "$(awk -v r="$ratio" 'BEGIN { print (r >= 0.70) ? "**met**" : "**not met**" }')"
        printf -- '- Mean req/s over the first 10 s, per round: %s.\n' "$(printf '%.0f ' "${first10[@]}" | sed 's/ $//')"
        printf -- '- Balancer ÷ nginx req/s over the last 10 s of the same rounds (median): %.2f.\n' "$steady_nginx_vs"
        printf -- '- Errors (non-200, connect, read, write, timeouts): balancer %d, nginx %d.\n' \
            "$(jq -s 'map(select(.target == "balancer") | .errors) | add' "$runs")" \
            "$(jq -s 'map(select(.target == "nginx") | .errors) | add' "$runs")"
        echo
        echo "<!-- bench:coldstart:end -->"
    } > "$md"
    update_section coldstart "$md"
    BENCH_SUMMARY+=("coldstart: first 10 s / steady = $(printf '%.2f' "$ratio") (target >= 0.70)")
}

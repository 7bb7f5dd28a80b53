# Benchmark (4) of bench/run.sh: TLS on the balancer's listener, on and off, in one run. Three balancers in front of
# the same simulator: plain HTTP, HTTPS with OpenSSL (netty-tcnative, the default where it loads) and HTTPS with the
# JDK's provider (-Dio.netty.handler.ssl.noOpenSsl=true). The loadgen subcommand (HTTPS through --ca) measures small
# non-streaming requests on keep-alive connections (req/s, balancer CPU per request), streams (balancer CPU per
# chunk), and handshakes (one request per new connection). Interleaved rounds. Sourced, not run.

: "${TLS_CONNECTIONS:=32}" "${TLS_DURATION:=10s}" "${TLS_ROUNDS:=2}" "${TLS_STREAMS:=200}" "${TLS_TOKENS:=200}"
: "${TLS_HANDSHAKES:=2000}"
TLS_SMALL_BODY='{"model":"llama3.2:1b","prompt":"hi","stream":false,"options":{"num_predict":1}}'

# One loadgen pass of kind $1 ("small", "streams", "connections") against listener $2 in round $3, with the loadgen
# arguments that follow; appends its line to runs.jsonl: the balancer's CPU over the pass, requests ok and failed,
# req/s and chunks. Uses the caller's dir, url and pid.
tls_pass() {
    local kind=$1 t=$2 r=$3 out c0 c1
    shift 3
    out="$dir/$kind-$t-$r.json"
    c0=$(cpu_seconds "${pid[$t]}")
    tls_loadgen "${url[$t]}" "$out" "$@"
    c1=$(cpu_seconds "${pid[$t]}")
    jq -c --arg k "$kind" --arg t "$t" --argjson r "$r" --argjson cpu "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" \
        '{kind: $k, target: $t, round: $r, cpu: $cpu, ok: .requests.ok, errors: .requests.errors,
          rps: .throughput.requestsPerSecond, chunks: .chunks.count}' "$out" >> "$dir/runs.jsonl"
}

run_tls() {
    local dir="$OUT/tls" sport t r json port
    rm -rf "$dir"; mkdir -p "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null \
        || die "openssl could not make a certificate"
    # One simulator, as the streams benchmark writes it (decodeSlowdown 0: every stream decodes at the set speed
    # however many run; no jitter; the model warm), with 1,024 slots.
    STREAMS=1024 SIMS=1 DECODE_TPS=100 JITTER=0 write_fleet "$dir/fleet.json"
    # shellcheck disable=SC2086
    java $SIM_JAVA_OPTS -jar "$JAR" simulate --fleet "$dir/fleet.json" --write-backends "$dir/backends.json" \
        > "$dir/sim.log" 2>&1 &
    track $!
    for _ in $(seq 1 240); do
        [ -s "$dir/backends.json" ] && break
        sleep 0.25
    done
    [ -s "$dir/backends.json" ] || die "the simulator did not start (see $dir/sim.log)"
    local -A url pid
    for t in plain openssl jdk; do
        port=$(free_port)
        local extra="" opts="$BALANCER_JAVA_OPTS"
        [ "$t" != plain ] && extra="--tls-cert $dir/tls.crt --tls-key $dir/tls.key"
        [ "$t" = jdk ] && opts="$opts -Dio.netty.handler.ssl.noOpenSsl=true"
        # shellcheck disable=SC2086
        (cd "$dir" && exec java $opts -jar "$JAR" serve --bind 127.0.0.1 --port "$port" \
            --config "$dir/backends.json" $extra > "$dir/balancer-$t.log" 2>&1) &
        pid[$t]=$!; track "${pid[$t]}"
        url[$t]="$([ "$t" = plain ] && echo http || echo https)://127.0.0.1:$port"
        if [ "$t" = plain ]; then
            wait_http "${url[$t]}/ready" 200 60
        else
            for _ in $(seq 1 240); do
                curl -sf -m 2 --cacert "$dir/tls.crt" -o /dev/null "${url[$t]}/ready" && break
                sleep 0.25
            done
            curl -sf -m 2 --cacert "$dir/tls.crt" -o /dev/null "${url[$t]}/ready" || die "${url[$t]} is not ready"
        fi
    done
    grep -h "HTTPS with" "$dir"/balancer-*.log | sed 's/^.*HTTPS with/HTTPS with/' > "$dir/providers.txt" || true

    tls_loadgen() { # $1 target, $2 out, then loadgen options
        local target=$1 out=$2; shift 2
        # shellcheck disable=SC2086
        java $LOADGEN_JAVA_OPTS -jar "$JAR" loadgen --target "$target" --ca "$dir/tls.crt" --timeout 30s \
            --threads "${LOADGEN_THREADS:-2}" --out "$out" "$@" 2>> "$dir/loadgen.log" \
            || die "loadgen failed against $target (see $dir/loadgen.log)"
    }
    log "tls: warm-up"
    for t in plain openssl jdk; do
        tls_loadgen "${url[$t]}" "$dir/warm-$t.json" --connections "$TLS_CONNECTIONS" --duration 5s \
            --body "$TLS_SMALL_BODY"
    done
    : > "$dir/runs.jsonl"
    local stream_body="{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"options\":{\"num_predict\":$TLS_TOKENS}}"
    for r in $(seq 1 "$TLS_ROUNDS"); do
        for t in plain openssl jdk; do
            log "tls: round $r/$TLS_ROUNDS, $t: small requests, ${TLS_CONNECTIONS} connections, $TLS_DURATION"
            tls_pass small "$t" "$r" --connections "$TLS_CONNECTIONS" --duration "$TLS_DURATION" \
                --body "$TLS_SMALL_BODY"
            log "tls: round $r/$TLS_ROUNDS, $t: $TLS_STREAMS streams of $TLS_TOKENS tokens"
            tls_pass streams "$t" "$r" --connections "$TLS_STREAMS" --requests 1 --ramp-up 1s --body "$stream_body"
            log "tls: round $r/$TLS_ROUNDS, $t: $TLS_HANDSHAKES requests, one new connection each"
            tls_pass connections "$t" "$r" --connections "$TLS_HANDSHAKES" --requests 1 --ramp-up 5s \
                --body "$TLS_SMALL_BODY"
        done
    done
    tls_section "$dir"
}

# Writes the TLS section of RESULTS.md from $1/runs.jsonl (medians over the rounds).
tls_section() {
    local dir=$1 t med
    med() { jq -r "select(.kind == \"$1\" and .target == \"$2\") | $3" "$dir/runs.jsonl" | median; }
    {
        echo "<!-- bench:tls:start -->"
        echo "## TLS on the listener: plain HTTP, OpenSSL and the JDK's provider (issue #13, item 5)"
        echo
        echo "Run $(date -u +%Y-%m-%dT%H:%M:%SZ) with \`$BENCH_COMMAND\`."
        echo
        machine_block
        echo "- Certificate: EC P-256, self-signed (openssl); TLS 1.3, HTTP/1.1 by ALPN. $(paste -sd ';' "$dir/providers.txt")"
        echo "- Backend: one simulator (1,024 slots, 100 tokens/s per stream whatever the concurrency); three balancers in front of it, built-in defaults (access log on), \`$BALANCER_JAVA_OPTS\`; the loadgen subcommand as the client (\`--ca\` for HTTPS), $TLS_ROUNDS interleaved rounds, medians."
        echo "- *small*: \`$TLS_SMALL_BODY\` on $TLS_CONNECTIONS keep-alive connections for $TLS_DURATION. *streams*: $TLS_STREAMS concurrent streams of $TLS_TOKENS tokens (one chunk each). *new connections*: $TLS_HANDSHAKES small requests, each on a new connection (one handshake each)."
        echo "- Noise: everything shares the machine's CPUs (load average $(loadavg) at the end); compare within the table."
        echo
        echo "| listener | small req/s | CPU µs per small request | CPU µs per stream chunk | CPU µs per new connection + request | errors |"
        echo "|---|---|---|---|---|---|"
        for t in plain openssl jdk; do
            printf '| %s | %.0f | %.0f | %.1f | %.0f | %s |\n' "$t" \
                "$(med small "$t" .rps)" \
                "$(med small "$t" '(.cpu * 1e6 / (.ok + 0.0001))')" \
                "$(med streams "$t" '(.cpu * 1e6 / (.chunks + 0.0001))')" \
                "$(med connections "$t" '(.cpu * 1e6 / (.ok + 0.0001))')" \
                "$(jq -s "map(select(.target == \"$t\") | .errors) | add" "$dir/runs.jsonl")"
        done
        echo
        echo "CPU is the balancer process's (user + system, from /proc) over each loadgen run, divided by what the run completed."
        echo "<!-- bench:tls:end -->"
    } > "$dir/section.md"
    update_section tls "$dir/section.md"
}

#!/usr/bin/env bash
# A/B(/C) of balancer builds on the proxy benchmark's load (bench/lib/proxy.sh), for work on the per-request cost
# and the one-connection latency (issue #11): the static nginx backend, nginx proxy_pass, balancer A (jar $JAR_A)
# and balancers B and C (jars $JAR_B, $JAR_C, optional) in front of it, measured in interleaved rounds direct -> nginx -> A -> B -> C
# with the same wrk (default one connection: -t1 -c1), so that the noise of a shared machine falls on all alike.
# Per round and path: req/s, p50/p90/p99/max latency, the proxy's CPU µs per request (/proc/PID/stat), the balancer's
# user/system split and read/write system calls per request (/proc/PID/io), the balancer's GC count and pause time
# over the run (its -Xlog:gc file) and its CPU µs per request by thread group (threads.txt). Prints a table and the medians of the per-round ratios
# A/nginx and B/nginx; raw lines in OUTDIR/runs.jsonl.
#   JAR_A=old.jar JAR_B=new.jar bench/proxy-ab.sh OUTDIR
# Each balancer reads its own copy of the backends file, alone in its directory (OUTDIR/A/...). ENV_x adds
# environment to balancer x (e.g. ENV_B="ACCESS_LOG_LEVEL=OFF"); BESIDE_x=1 writes its log into its config directory.
# Knobs: ROUNDS (3), DURATION (10s), THREADS (1), CONNECTIONS (1), WARM (10s per path, at WRK_CONNECTIONS);
# PROFILE=1 records JFR of each balancer over its measured runs (OUTDIR/A.jfr, B.jfr; summarised with
# bench/jfr-top.sh into OUTDIR/profile-A.txt, profile-B.txt). The balancers run with their defaults (access log
# on) and BALANCER_JAVA_OPTS (-Xmx512m). Every process it starts is stopped on exit. Not part of bench/run.sh.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
JAR=${JAR_A:-$ROOT/target/ollama-balancer.jar}
# shellcheck source=lib/common.sh
. "$ROOT/bench/lib/common.sh"
# shellcheck source=lib/proxy.sh
. "$ROOT/bench/lib/proxy.sh"
: "${ROUNDS:=3}" "${DURATION:=10s}" "${THREADS:=1}" "${CONNECTIONS:=1}" "${WARM:=10s}"
trap cleanup EXIT
trap 'exit 130' INT TERM
ensure_tools
[ -n "$NGINX" ] || die "needs nginx"

start_static_pair "$OUT/pair"
declare -A logs=()
declare -A url=([direct]="http://127.0.0.1:$STATIC_PORT" [nginx]="http://127.0.0.1:$PEER_PORT")
declare -A procs=([direct]="$STATIC_PID $(pgrep -P "$STATIC_PID" | tr '\n' ' ')"
                  [nginx]="$PEER_PID $(pgrep -P "$PEER_PID" | tr '\n' ' ')")
paths=(direct nginx)
declare -A jars=([A]="${JAR_A:-$ROOT/target/ollama-balancer.jar}" [B]="${JAR_B:-}" [C]="${JAR_C:-}")
declare -A envs=([A]="${ENV_A:-}" [B]="${ENV_B:-}" [C]="${ENV_C:-}")
declare -A beside=([A]="${BESIDE_A:-0}" [B]="${BESIDE_B:-0}" [C]="${BESIDE_C:-0}")
for b in A B C; do
    [ -n "${jars[$b]}" ] || continue
    # Each balancer watches its own config directory, where nothing else writes (nginx's access log would wake its
    # watcher on every request); BESIDE_x=1 writes its log there, as bench/run.sh once did.
    mkdir -p "$OUT/$b"; cp "$OUT/pair/backends.json" "$OUT/$b/"
    blog="$OUT/$b.log"; [ "${beside[$b]}" = 1 ] && blog="$OUT/$b/balancer.log"
    port=$(free_port)
    # As start_balancer (bench/lib/common.sh), with this balancer's jar and environment.
    # shellcheck disable=SC2086
    (cd "$OUT/$b" && exec env ${envs[$b]} java $BALANCER_JAVA_OPTS -Xlog:gc:file="$blog.gc" -jar "${jars[$b]}" \
        serve --bind 127.0.0.1 --port "$port" --config "$OUT/$b/backends.json" > "$blog" 2>&1) &
    STARTED_PID=$!; track "$STARTED_PID"
    procs[$b]=$STARTED_PID; url[$b]="http://127.0.0.1:$port"; paths+=("$b"); logs[$b]=$blog
    wait_http "${url[$b]}/ready" 200 60
done
log "paths: ${paths[*]}; warm-up $WARM each at -t$WRK_THREADS -c$WRK_CONNECTIONS, then $ROUNDS rounds of -t$THREADS -c$CONNECTIONS -d$DURATION"
for p in "${paths[@]}"; do warm_path "${url[$p]}"; wrk_once "${url[$p]}" "$WARM" >/dev/null; done
if [ "${PROFILE:-0}" = 1 ]; then
    for p in A B C; do
        [ -n "${procs[$p]:-}" ] && jcmd "${procs[$p]}" JFR.start name=ab settings=profile filename="$OUT/$p.jfr" >/dev/null
    done
fi

# CPU ticks of every thread of process $1, "name ticks" per line (digits in names folded to #, so that the event
# loops or GC workers add up to one group).
thread_ticks() {
    local t
    for t in /proc/"$1"/task/*; do
        [ -r "$t/stat" ] || continue
        printf '%s %s\n' "$(tr -d ' ' < "$t/comm" | sed 's/[0-9]\+/#/g')" "$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$t/stat")"
    done 2>/dev/null | awk '{ s[$1] += $2 } END { for (n in s) print n, s[n] }'
}

# "<user ticks> <system ticks> <read syscalls> <write syscalls>" of the given processes so far (/proc/PID/stat, io).
usersys() {
    local pid
    for pid in "$@"; do
        [ -r "/proc/$pid/stat" ] || continue
        printf '%s %s\n' "$(awk '{ sub(/^.*\) /, ""); print $12, $13 }' "/proc/$pid/stat")" \
            "$(awk '/^syscr/ { r = $2 } /^syscw/ { w = $2 } END { print r + 0, w + 0 }' "/proc/$pid/io" 2>/dev/null)"
    done | awk '{ u += $1; s += $2; r += $3; w += $4 } END { print u + 0, s + 0, r + 0, w + 0 }'
}

# "<collections> <pause ms>" of the balancer's GC log so far.
gc_now() {
    if [ -n "${logs[$1]:-}" ] && [ -f "${logs[$1]}.gc" ]; then
        awk '/Pause/ { n++; v = $NF; sub(/ms$/, "", v); s += v } END { printf "%d %.1f\n", n, s }' "${logs[$1]}.gc"
    else
        echo "0 0"
    fi
}

: > "$OUT/runs.jsonl"; : > "$OUT/threads.txt"
for r in $(seq 1 "$ROUNDS"); do
    for p in "${paths[@]}"; do
        # shellcheck disable=SC2086
        c0=$(cpu_seconds ${procs[$p]}); g0=$(gc_now "$p"); read -r u0 s0 r0 w0 <<< "$(usersys ${procs[$p]})"
        if [ -n "${logs[$p]:-}" ]; then thread_ticks "${procs[$p]}" > "$OUT/threads0"; fi
        json=$(wrk_once "${url[$p]}" "$DURATION" "$THREADS" "$CONNECTIONS")
        # shellcheck disable=SC2086
        c1=$(cpu_seconds ${procs[$p]}); g1=$(gc_now "$p"); read -r u1 s1 r1 w1 <<< "$(usersys ${procs[$p]})"
        if [ -n "${logs[$p]:-}" ]; then
            # CPU µs per request by thread group over this run, largest first.
            thread_ticks "${procs[$p]}" | awk -v hz="$(getconf CLK_TCK)" -v n="$(jq -r .requests <<< "$json")" \
                -v p="$p" -v r="$r" 'NR == FNR { a[$1] = $2; next } { d = ($2 - a[$1]) * 1e6 / hz / n; if (d > 0) printf "%s r%s %8.1f %s\n", p, r, d, $1 }' \
                "$OUT/threads0" - | sort -k3 -nr >> "$OUT/threads.txt"
        fi
        jq -c --arg t "$p" --argjson r "$r" --argjson cpu "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" \
            --argjson gcs "$(awk -v a="${g0% *}" -v b="${g1% *}" 'BEGIN { print b - a }')" \
            --argjson gcms "$(awk -v a="${g0#* }" -v b="${g1#* }" 'BEGIN { print b - a }')" \
            --argjson hz "$(getconf CLK_TCK)" --argjson ut $((u1 - u0)) --argjson st $((s1 - s0)) \
            --argjson rd $((r1 - r0)) --argjson wr $((w1 - w0)) \
            '. + {target: $t, round: $r, cpuSeconds: $cpu, gcs: $gcs, gcMs: $gcms, rps: (.requests / (.durationUs / 1e6)),
                  userSeconds: ($ut / $hz), systemSeconds: ($st / $hz), readCalls: $rd, writeCalls: $wr}' \
            <<< "$json" >> "$OUT/runs.jsonl"
        log "round $r $p: $(tail -n 1 "$OUT/runs.jsonl" | jq -r '"\(.rps | floor) req/s, p50 \(.p50Us) p90 \(.p90Us) p99 \(.p99Us) max \(.maxUs) µs, cpu \(.cpuSeconds * 1e6 / .requests | floor) µs/req (user \(.userSeconds * 1e6 / .requests | floor)), read/write calls per req \(.readCalls / .requests * 100 | floor / 100)/\(.writeCalls / .requests * 100 | floor / 100), gc \(.gcs) (\(.gcMs) ms)"')"
    done
done
if [ "${PROFILE:-0}" = 1 ]; then
    for p in A B C; do
        [ -n "${procs[$p]:-}" ] || continue
        jcmd "${procs[$p]}" JFR.stop name=ab >/dev/null 2>&1 || true
        "$ROOT/bench/jfr-top.sh" "$OUT/$p.jfr" > "$OUT/profile-$p.txt" 2>&1 || true
    done
fi

{
    echo "| path | req/s | p50 µs | p90 µs | p99 µs | CPU µs/request | GCs per run |"
    echo "|---|---|---|---|---|---|---|"
    for p in "${paths[@]}"; do
        printf '| %s | %.0f | %.0f | %.0f | %.0f | %.1f | %.1f |\n' "$p" "$(pmed "$OUT/runs.jsonl" "$p" .rps)" \
            "$(pmed "$OUT/runs.jsonl" "$p" .p50Us)" "$(pmed "$OUT/runs.jsonl" "$p" .p90Us)" \
            "$(pmed "$OUT/runs.jsonl" "$p" .p99Us)" "$(pmed "$OUT/runs.jsonl" "$p" '.cpuSeconds * 1e6 / .requests')" \
            "$(pmed "$OUT/runs.jsonl" "$p" .gcs)"
    done
    echo
    for p in A B C; do
        [ -n "${procs[$p]:-}" ] || continue
        for f in rps p50Us p99Us; do
            printf -- '- %s / nginx %s: %.2f (median of the per-round ratios)\n' "$p" "$f" "$(jq -rs --arg p "$p" --arg f "$f" \
                'group_by(.round)[] | (map(select(.target == $p))[0][$f] / map(select(.target == "nginx"))[0][$f])' "$OUT/runs.jsonl" | median)"
        done
        printf -- '- %s / nginx CPU per request: %.2f\n' "$p" "$(jq -rs --arg p "$p" \
            'group_by(.round)[] | ((map(select(.target == $p))[0] | .cpuSeconds / .requests) / (map(select(.target == "nginx"))[0] | .cpuSeconds / .requests))' "$OUT/runs.jsonl" | median)"
    done
} | tee "$OUT/summary.md"

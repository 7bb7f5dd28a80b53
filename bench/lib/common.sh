# Shared helpers of bench/run.sh: tools, ports, processes, machine description, RESULTS.md sections.
# Sourced, not run. Expects ROOT, OUT, JAR to be set.

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Installs what the benchmarks run, from the distribution's packages, when missing (needs root or sudo).
ensure_tools() {
    local missing=()
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    command -v jq >/dev/null 2>&1 || missing+=(jq)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    if [ ${#missing[@]} -gt 0 ]; then
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        log "installing ${missing[*]} with apt-get"
        if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
                --no-install-recommends "${missing[@]}" >/dev/null; }; then
            log "warning: apt-get could not install ${missing[*]}"
        fi
    fi
    local tool
    for tool in wrk jq curl; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool is needed and could not be installed"
    done
    # Without nginx the streams benchmark runs without its peer row (it says so); the proxy benchmark stops.
    NGINX=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
    command -v java >/dev/null 2>&1 || die "a JDK 17+ is needed (java not found)"
}

# Builds the jar when it is missing.
ensure_jar() {
    if [ ! -f "$JAR" ]; then
        log "building $JAR"
        (cd "$ROOT" && mvn -B -q package -DskipTests)
    fi
}

# Starts nginx with config $2 as a background job (not daemonized); sets STARTED_PID to its master's pid.
start_nginx() {
    local dir=$1 conf=$2 name
    name=$(basename "$conf" .conf)
    "$NGINX" -t -q -e "$dir/$name-test.log" -c "$conf" -p "$dir" || die "nginx rejected $conf"
    "$NGINX" -e "$dir/$name-error.log" -c "$conf" -p "$dir" -g 'daemon off;' > "$dir/$name.out" 2>&1 &
    STARTED_PID=$!
    track "$STARTED_PID"
}

# A TCP port on 127.0.0.1 that nothing listens on (best effort: another process may take it before we bind), below
# the kernel's ephemeral range: a port in that range can be taken at any moment as the local end of an outgoing
# connection (thousands of them in a streams run), and a listener started on it later fails to bind.
free_port() {
    local p low=32768
    read -r low _ < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
    [ "$low" -gt 12000 ] || low=32768
    for _ in $(seq 1 200); do
        p=$(( (RANDOM * 32768 + RANDOM) % (low - 10000) + 10000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    die "no free port found"
}

# Every process started here; the EXIT trap stops them (children of ours only, by pid).
PIDS=()
track() { PIDS+=("$1"); }

# Whether process $1 exists and has not exited (an exited child stays a zombie until waited for).
running() { [ -r "/proc/$1/stat" ] && [ "$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# Stops process $1: SIGTERM, then SIGKILL if it has not exited after 10 s (a JVM whose event loops are stuck never
# finishes its shutdown hook).
stop_pid() {
    local pid=$1
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 40); do
        running "$pid" || break
        sleep 0.25
    done
    if running "$pid"; then
        log "process $pid ignored SIGTERM for 10 s; killing it"
        kill -9 "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local pid
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && stop_pid "$pid"
    done
    PIDS=()
}

: "${BALANCER_JAVA_OPTS:=-Xmx512m}" "${BALANCER_TRIES:=3}"

# Starts the balancer (serve) on port $2 with backends file $3, logging to $4 (and its GC log to $4.gc); sets
# STARTED_PID. Runs from directory $1 so that no .env of the repository changes its settings: the built-in defaults
# apply, the access log included (one line per request to $4, as a user gets it), because defaults are what is measured.
start_balancer() {
    local dir=$1 port=$2 backends=$3 log=$4
    # shellcheck disable=SC2086
    (cd "$dir" && exec java $BALANCER_JAVA_OPTS -Xlog:gc:file="$log.gc" \
        -jar "$JAR" serve --bind 127.0.0.1 --port "$port" --config "$backends" > "$log" 2>&1) &
    STARTED_PID=$!
    track "$STARTED_PID"
}

# Waits (at most $3 seconds) until GET $1 answers with status $2.
wait_http() {
    local url=$1 want=$2 limit=${3:-60} code
    for _ in $(seq 1 $((limit * 4))); do
        code=$(curl -s -o /dev/null -w '%{http_code}' -m 2 "$url" || true)
        [ "$code" = "$want" ] && return 0
        sleep 0.25
    done
    die "$url did not answer $want within ${limit}s (last: $code)"
}

# CPU time (user + system, in seconds) consumed so far by the given processes, all their threads included.
cpu_seconds() {
    local ticks=0 pid t
    for pid in "$@"; do
        [ -r "/proc/$pid/stat" ] || continue
        t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat")
        ticks=$((ticks + t))
    done
    awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# CPU time (seconds) consumed so far by the JIT compiler threads of JVM $1 (HotSpot names them "C1 CompilerThre…",
# "C2 CompilerThre…"); 0 when the process is gone.
compiler_seconds() {
    local ticks=0 t task
    for task in /proc/"$1"/task/*; do
        [ -r "$task/comm" ] || continue
        case "$(cat "$task/comm" 2>/dev/null)" in
            C1\ Compiler*|C2\ Compiler*)
                t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$task/stat" 2>/dev/null) || continue
                ticks=$((ticks + t)) ;;
        esac
    done
    awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

# Markdown lines describing the machine and the software under test.
machine_block() {
    local cpu mem jdk
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    jdk=$(java -version 2>&1 | head -n 2 | tail -n 1)
    echo "- Machine: $(nproc) CPUs ($cpu), $mem memory, Linux $(uname -r)"
    echo "- JDK: $jdk"
    echo "- nginx: $([ -n "$NGINX" ] && "$NGINX" -v 2>&1 | sed 's/^nginx version: //' || echo none); wrk: $(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }')"
    echo "- Balancer: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown) ($(basename "$JAR"))"
}

# Replaces the section <!-- bench:NAME:start --> ... <!-- bench:NAME:end --> of bench/RESULTS.md with the
# content of file $2 (markers included in the file), appending it when the section does not exist yet.
update_section() {
    local name=$1 body=$2 results="$ROOT/bench/RESULTS.md" tmp
    local start="<!-- bench:$name:start -->" end="<!-- bench:$name:end -->"
    if [ ! -f "$results" ]; then
        cat > "$results" <<'HEAD'
# Benchmark results

Written by `bench/run.sh` (see `bench/README.md`); each section is replaced only by the run of its own
benchmark, so sections can come from different runs. Every result is a ratio against a baseline measured in the
same run, because the machine is shared and noisy; absolute numbers are only comparable within one section.
HEAD
    fi
    tmp=$(mktemp)
    if grep -qF "$start" "$results"; then
        awk -v s="$start" -v e="$end" -v f="$body" '
            $0 == s { while ((getline line < f) > 0) print line; skip = 1; next }
            $0 == e { skip = 0; next }
            !skip { print }' "$results" > "$tmp"
    else
        { cat "$results"; echo; cat "$body"; } > "$tmp"
    fi
    mv "$tmp" "$results"
    log "updated section '$name' of bench/RESULTS.md"
}

# Median of the numbers on stdin (one per line).
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Whether the balancer at $1 still answers GET /health within 3 seconds.
balancer_alive() { [ "$(curl -s -o /dev/null -w '%{http_code}' -m 3 "$1/health" || true)" = 200 ]; }

# Records that the balancer (pid $2) stopped answering during $3: a thread dump into directory $1 and a line in
# $1/hangs.txt. The caller restarts it.
record_hang() {
    local dir=$1 pid=$2 what=$3 n
    n=$(( $(hang_count "$dir") + 1 ))
    local dump="$dir/hang-$n-jstack.txt" where="no thread dump"
    timeout 30 jstack "$pid" > "$dump" 2>&1 || true
    if grep -A4 '^"multiThreadIoEventLoopGroup' "$dump" | grep -q 'org.HdrHistogram.packedarray\|WriterReaderPhaser'; then
        where="its event loops are inside HdrHistogram's packed recorder"
    elif grep -q '^"' "$dump"; then
        where="see the thread dump"
    fi
    echo "$what: the balancer stopped answering GET /health ($where; bench/out/$(basename "$dir")/hang-$n-jstack.txt)" \
        >> "$dir/hangs.txt"
    log "$what: the balancer stopped answering; thread dump in $dir/hang-$n-jstack.txt; restarting it"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# How many hangs were recorded in directory $1.
hang_count() { if [ -f "$1/hangs.txt" ]; then wc -l < "$1/hangs.txt"; else echo 0; fi; }

# Markdown lines about hangs recorded in $1/hangs.txt, if any.
hang_lines() {
    [ -s "$1/hangs.txt" ] || return 0
    echo "- **The balancer stopped answering $(wc -l < "$1/hangs.txt") time(s)**; each time it was killed, restarted and warmed up,"\
         "and the run was repeated, at most $BALANCER_TRIES tries per run (a run whose last try hung is reported as it"\
         "came out):"
    sed 's/^/  - /' "$1/hangs.txt"
}

# From the GC logs given (-Xlog:gc): "<collections> <total pause ms> <max pause ms> <max heap after a GC, MiB>".
gc_summary() {
    cat "$@" 2>/dev/null | awk '
        match($0, /[0-9]+M->[0-9]+M\([0-9]+M\) [0-9.]+ms/) {
            s = substr($0, RSTART, RLENGTH); split(s, a, /M->|M\(|M\) |ms/)
            n++; total += a[4]; if (a[4] > maxp) maxp = a[4]; if (a[2] > after) after = a[2]
        }
        END { printf "%d %.1f %.1f %d\n", n, total, maxp, after }'
}

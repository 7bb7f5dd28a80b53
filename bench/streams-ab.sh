#!/usr/bin/env bash
# A/B of two balancer builds on the streams benchmark's load (bench/lib/streams.sh), for work on the per-chunk cost
# (issue #11): one simulator fleet, balancer A (jar $JAR_A), balancer B (jar $JAR_B, optional) and nginx
# (bench/nginx/streams.conf.in) in front of it, measured in interleaved rounds A -> B -> nginx, so that the noise of a
# shared machine falls on all three alike. Per round and path: CPU µs per forwarded chunk and write syscalls per
# chunk (/proc/PID/stat and /proc/PID/io, nginx: master and workers), the balancer's user/system split
# (usersys.txt) and its CPU by thread group (threads.txt: event loops, JIT compilers, GC, log writer...).
#   JAR_A=old.jar JAR_B=new.jar ROUNDS=3 bench/streams-ab.sh OUTDIR
# Knobs: STREAMS SIMS DECODE_TPS TOKENS REQS WARM ROUNDS JIT_PASSES; OPTS_A, OPTS_B: JVM options of either balancer
# (JAR_B may be the same jar as JAR_A, to compare JVM options); PROFILE=1 records JFR of each balancer in round
# PROFILE_ROUND (OUTDIR/A.jfr, B.jfr; summarise with bench/jfr-top.sh); STRACE=1 adds strace -c (unreliable on
# the JVM's event loops: use the syscw counts). The balancers run with their defaults (access log on), -Xmx512m.
# Every process it starts is stopped on exit. Not part of bench/run.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUTD=$1; mkdir -p "$OUTD"; rm -f "$OUTD"/*.json "$OUTD"/cpu.txt
: "${STREAMS:=1000}" "${SIMS:=4}" "${DECODE_TPS:=20}" "${TOKENS:=100}" "${ROUNDS:=3}" "${REQS:=2}" "${WARM:=1}"
: "${JAR_A:=$ROOT/target/ollama-balancer.jar}" "${JAR_B:=}" "${JFR_B:=}" "${JFR_A:=}"
SIMJAR=$JAR_A
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
slots=$(( (STREAMS + SIMS - 1) / SIMS ))
cat > "$OUTD/fleet.json" <<JSON
{"defaults": {"host": "127.0.0.1", "port": 0, "slots": $slots, "maxQueue": $STREAMS,
  "decodeTokensPerSecond": $DECODE_TPS, "prefillTokensPerSecond": 100000, "decodeSlowdown": 0,
  "jitter": 0.05, "loadTimeMillis": 0, "meanOutputTokens": 100000, "maxOutputTokens": 100000,
  "models": [{"name": "llama3.2:1b", "loadedAtStart": true}]},
 "simulators": [{"name": "sim", "count": $SIMS}]}
JSON
rm -f "$OUTD/backends.json"
(cd "$OUTD" && exec env LOG_LEVEL=WARN java -Xmx1g -jar $SIMJAR simulate --fleet "$OUTD/fleet.json" --write-backends "$OUTD/backends.json" > "$OUTD/sims.log" 2>&1) &
pids+=($!)
for _ in $(seq 1 240); do [ -s "$OUTD/backends.json" ] && jq -e --argjson n "$SIMS" '.backends | length == $n' "$OUTD/backends.json" >/dev/null 2>&1 && break; sleep 0.25; done
direct=$(jq -r '[.backends[].url] | join(",")' "$OUTD/backends.json")
declare -A url pid
start_bal() { # name jar port jfr
  local jfropt="" opts
  opts=$([ "$1" = A ] && echo "${OPTS_A:-}" || echo "${OPTS_B:-}")
  [ -n "$4" ] && jfropt="-XX:StartFlightRecording=filename=$OUTD/$1.jfr,settings=profile,delay=${JFR_DELAY:-60s},duration=${JFR_DUR:-30s}"
  (cd "$OUTD" && exec java -Xmx512m $opts $jfropt -jar "$2" serve --bind 127.0.0.1 --port "$3" --config "$OUTD/backends.json" > "$OUTD/$1.log" 2>&1) &
  pid[$1]=$!; pids+=($!); url[$1]="http://127.0.0.1:$3"
}
start_bal A "$JAR_A" 18101 "$JFR_A"
paths=(A)
if [ -n "$JAR_B" ]; then start_bal B "$JAR_B" 18102 "$JFR_B"; paths+=(B); fi
servers=$(jq -r '[.backends[].url | sub("^http://"; "") | "server \(.);"] | join(" ")' "$OUTD/backends.json")
mkdir -p "$OUTD/tmp"
sed -e "s|@DIR@|$OUTD|g" -e "s|@PORT@|18103|g" -e "s|@SERVERS@|$servers|" -e "s|@WORKER_CONNECTIONS@|$(( STREAMS * 2 + 1024 ))|" \
    -e "s|@RLIMIT@|8192|" -e "s|@KEEPALIVE@|$STREAMS|" "$ROOT/bench/nginx/streams.conf.in" > "$OUTD/nginx.conf"
ulimit -n 65536 2>/dev/null || true
nginx -e "$OUTD/ng-err.log" -c "$OUTD/nginx.conf" -p "$OUTD" -g 'daemon off;' > "$OUTD/ng.out" 2>&1 &
pid[N]=$!; pids+=($!); url[N]="http://127.0.0.1:18103"
paths+=(N)
for p in "${paths[@]}"; do
  for _ in $(seq 1 240); do curl -s -m 2 "${url[$p]}/api/tags" | grep -q llama3.2 && break; sleep 0.25; done
done
tasks() { for t in /proc/$1/task/*; do awk '{ c=$0; sub(/^[^(]*\(/, "", c); sub(/\).*$/, "", c); gsub(/[0-9]+$/, "", c); gsub(/ /, "_", c); s=$0; sub(/^.*\) /, "", s); split(s, f, " "); print c, f[12] + f[13] }' $t/stat 2>/dev/null; done | awk '{a[$1]+=$2} END {for (k in a) print k, a[k]}' | sort; }
sysw() { local t=0 x q; for q in "$@"; do x=$(awk '/^syscw/ {print $2}' /proc/$q/io); t=$((t+x)); done; echo $t; }
cpusplit() { awk '{ sub(/^.*\) /, ""); print $12, $13 }' /proc/$1/stat; }
cpu() { local t=0 x q; for q in "$@"; do x=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/$q/stat); t=$((t+x)); done; echo $t; }
lg() { java -Xmx1g -jar $SIMJAR loadgen --target "$1" --connections "$STREAMS" --requests "$2" --warmup "$3" --ramp-up 2s --timeout 30s --threads 2 --body "{\"model\":\"llama3.2:1b\",\"prompt\":\"Tell me a story, number {{i}}.\",\"stream\":true,\"options\":{\"num_predict\":$TOKENS}}" --out "$4" 2>>"$OUTD/lg.log"; }
for p in "${paths[@]}"; do lg "${url[$p]}" 1 0 "$OUTD/warm-$p.json"; done
# JIT warm-up of each balancer, as bench/run.sh streams does (see bench/lib/streams.sh, jit_warm): passes of the
# measured load, A and B alternately, until both balancers' compiler threads took < 5 % of their CPU in a pass (at
# most JIT_PASSES). Both get the same passes, so that a difference between the builds is not one of how far their
# JITs got.
comp() { tasks "$1" | awk '/^C[12]_CompilerThre/ {c+=$2} END {print c+0}'; }
for i in $(seq 1 "${JIT_PASSES:-10}"); do
  unsettled=0
  for p in "${paths[@]}"; do
    [ "$p" = N ] && continue
    c0=$(cpu ${pid[$p]}); k0=$(comp ${pid[$p]}); lg "${url[$p]}" "$REQS" "$WARM" "$OUTD/jit-$p-$i.json"
    c1=$(cpu ${pid[$p]}); k1=$(comp ${pid[$p]})
    echo "jit pass $i $p cpu_ticks $((c1-c0)) compiler_ticks $((k1-k0))" | tee -a "$OUTD/cpu.txt"
    [ $(( (k1-k0) * 20 )) -lt $((c1-c0)) ] || unsettled=1
  done
  [ "$unsettled" = 0 ] && break
done
echo "load before $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUTD/cpu.txt"
for r in $(seq 1 "$ROUNDS"); do
  for p in "${paths[@]}"; do
    if [ "$p" = N ]; then ps="${pid[N]} $(pgrep -P ${pid[N]} | tr '\n' ' ')"; else ps=${pid[$p]}; fi
    if [ -n "${PROFILE:-}${STRACE:-}" ] && [ "$r" = "${PROFILE_ROUND:-1}" ] && [ "$p" != N ]; then
      [ -n "${PROFILE:-}" ] && jcmd ${pid[$p]} JFR.start name=p settings=profile filename=$OUTD/$p.jfr >/dev/null
      if [ -n "${STRACE:-}" ]; then
        el=$(for t in /proc/${pid[$p]}/task/*; do grep -q '^multiThreadIoEv' $t/comm && basename $t; done | head -1 || true)
        ( sleep 6; timeout -s INT 5 strace -c -p $el -o $OUTD/strace-$p.txt ) &
      fi
    fi
    if [ -n "${STRACE:-}" ] && [ "$r" = 1 ] && [ "$p" = N ]; then
      ( sleep 6; timeout -s INT 5 strace -c -f $(for q in $(pgrep -P ${pid[N]}); do echo -p $q; done) -o $OUTD/strace-N.txt ) &
    fi
    [ "$p" != N ] && tasks ${pid[$p]} > "$OUTD/tasks0"
    read u0 s0 < <(cpusplit ${pid[$p]}); w0=$(sysw $ps); c0=$(cpu $ps); lg "${url[$p]}" "$REQS" "$WARM" "$OUTD/$p-$r.json"; c1=$(cpu $ps); w1=$(sysw $ps); read u1 s1 < <(cpusplit ${pid[$p]}); [ "$p" != N ] && echo "round $r $p user $((u1-u0)) sys $((s1-s0))" >> "$OUTD/usersys.txt"
    if [ "$p" != N ]; then tasks ${pid[$p]} > "$OUTD/tasks1"; echo "round $r $p threads: $(join -a2 -e0 -o 0,1.2,2.2 "$OUTD/tasks0" "$OUTD/tasks1" | awk '{d=$3-$2; if (d>0) printf "%s=%d ", $1, d}')" >> "$OUTD/threads.txt"; fi
    if [ -n "${PROFILE:-}" ] && [ "$r" = "${PROFILE_ROUND:-1}" ] && [ "$p" != N ]; then jcmd ${pid[$p]} JFR.stop name=p >/dev/null; fi
    n=$(jq '.chunks.count' "$OUTD/$p-$r.json"); e=$(jq '.requests.errors + .warmup.errors' "$OUTD/$p-$r.json")
    us=$(awk -v a=$c0 -v b=$c1 -v n=$n -v w=$WARM -v m=$REQS -v hz=$(getconf CLK_TCK) 'BEGIN{printf "%.2f", (b-a)/hz*1e6/(n*(w+m)/m)}')
    echo "round $r $p cpu_ticks $((c1-c0)) chunks $n errors $e us_per_chunk $us writes_per_chunk $(awk -v a=$w0 -v b=$w1 -v n=$n -v w=$WARM -v m=$REQS 'BEGIN{printf "%.2f", (b-a)/(n*(w+m)/m)}') p99 $(jq .chunkDelayMs.p99 "$OUTD/$p-$r.json") load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$OUTD/cpu.txt"
  done
done
echo "load after $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUTD/cpu.txt"
[ -n "${HOLD:-}" ] && { echo "holding; pids A=${pid[A]} ${pid[B]:-}"; sleep "$HOLD"; }
exit 0

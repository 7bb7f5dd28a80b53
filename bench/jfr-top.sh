#!/usr/bin/env bash
# Summarises a JFR recording of the balancer (bench/run.sh with PROFILE=1 records one per benchmark): where the
# sampled Java threads were (top frames, and the first frame of the balancer's own code), where native-method
# samples were, and allocation and GC totals. Usage: bench/jfr-top.sh FILE.jfr [TOP]
set -eu  # no pipefail: head closes the pipes early on purpose
file=$1
top=${2:-25}
[ -f "$file" ] || { echo "jfr-top: no such file: $file" >&2; exit 2; }

# Each sample's frames, one "frame" per line and a blank line between samples (stack depth 64).
frames() {
    jfr print --events "$1" --stack-depth 64 "$file" | awk '
        /stackTrace = \[/ { in_stack = 1; next }
        in_stack && /^[[:space:]]*\]/ { in_stack = 0; print ""; next }
        in_stack { sub(/^[[:space:]]+/, ""); sub(/[[:space:]]+line:.*$/, ""); if ($0 != "...") print }'
}

count() { sort | uniq -c | sort -rn | head -n "$top"; }

samples=$(frames jdk.ExecutionSample)
total=$(grep -c '^$' <<< "$samples" || true)
echo "== $file: $total Java execution samples"
echo
echo "-- top frames (self time)"
awk 'prev == "" && $0 != "" { print } { prev = $0 }' <<< $'\n'"$samples" | count
echo
echo "-- by package of the top frame"
awk 'prev == "" && $0 != "" { n = split($0, p, "."); pkg = p[1] "." p[2] "." p[3]; print pkg } { prev = $0 }' \
    <<< $'\n'"$samples" | count
echo
echo "-- first io.ollamabalancer frame of each sample (inclusive time of the balancer's own methods)"
awk '$0 == "" { done = 0; next } !done && /^io\.ollamabalancer\./ { print; done = 1 }' <<< "$samples" | count
echo
echo "-- native method samples (threads blocked or working in native code), top frames"
frames jdk.NativeMethodSample | awk 'prev == "" && $0 != "" { print } { prev = $0 }' | count
echo
echo "-- allocation (top allocation sites by sampled weight, MiB)"
jfr print --events jdk.ObjectAllocationSample --stack-depth 1 "$file" | awk '
    /objectClass = / { cls = $3 }
    /weight = / { w = $3; unit = $4; if (unit ~ /kB/) w /= 1024; else if (unit ~ /bytes/) w /= 1048576; else if (unit ~ /GB/) w *= 1024 }
    /stackTrace = \[/ { getline; sub(/^[[:space:]]+/, ""); sub(/[[:space:]]+line:.*$/, ""); site[$0 " (" cls ")"] += w }
    END { for (s in site) printf "%10.1f  %s\n", site[s], s }' | sort -rn | head -n "$top"
echo
echo "-- garbage collections"
jfr summary "$file" | grep -E 'jdk\.(GarbageCollection|GCPhasePause) ' || true
jfr print --events jdk.GarbageCollection "$file" | awk '/sumOfPauses = / { n++; v = $3; if ($4 ~ /^s/) v *= 1000; else if ($4 ~ /us/) v /= 1000; s += v } END { printf "%d collections, %.1f ms of pauses in total\n", n, s }'

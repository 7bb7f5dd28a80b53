#!/usr/bin/env bash
# Placement A/B over many trace seeds (issue #9): two balancer jars, the same discrete-event simulation of the
# memory-limited fleets (swap, swap-zipf, gpu-zipf) at 40, 60 and 80 % of their no-swap capacity, eft only, one
# trace per seed. One seed decides little at these loads (at 80 % the mean moves 2-3x from seed to seed), so a
# change to the placement plan is judged on the mean over seeds and on how many seeds it helps.
#
#   JAR_A=old.jar JAR_B=new.jar bench/placement-ab.sh [OUT]      seeds 1-16 (swap: 1-8), 3000 requests each
#   SEEDS="1 2 3" REQUESTS=1000 JAR_A=... JAR_B=... bench/placement-ab.sh
#   JAR_A=x.jar JAR_B=x.jar OPTS_B="-Dsome.property=1" bench/placement-ab.sh   one jar, two sets of JVM options
#
# Two simulations run at once (xargs -P2). Prints, per fleet and load, the mean of the per-seed eft means for A and
# B, B's change, two standard errors of the paired per-seed change (a change inside it is noise: the same code with
# other random draws in the trials stayed inside it at every fleet and load), the seeds where B is better / worse,
# and the mean steady-state loads per 100 requests of each. Per-seed logs and reports go to OUT (default
# target/bench-placement-ab).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
: "${JAR_A:?set JAR_A to the baseline jar}"
: "${JAR_B:?set JAR_B to the jar to compare}"
OPTS_A=${OPTS_A:-}
OPTS_B=${OPTS_B:-}
OUT=${1:-target/bench-placement-ab}
SEEDS=${SEEDS:-$(seq 1 16)}
SWAP_SEEDS=${SWAP_SEEDS:-$(seq 1 8)}
REQUESTS=${REQUESTS:-3000}
LOADS=${LOADS:-0.4,0.6,0.8}
mkdir -p "$OUT"

# One simulation: side (A|B), fleet, seed; prints "fleet seed load mean" lines.
one() {
  local side=$1 fleet=$2 seed=$3 jar mix opts
  jar=$([ "$side" = A ] && echo "$JAR_A" || echo "$JAR_B")
  opts=$([ "$side" = A ] && echo "${OPTS_A:-}" || echo "${OPTS_B:-}")
  case $fleet in
    swap) mix=swap=llama3.2:1b:50,qwen2.5:0.5b:30,gemma3:1b:20 ;;
    *) mix=$fleet=zipf ;;
  esac
  # shellcheck disable=SC2086 # the options are words
  java -Xmx1g $opts -jar "$jar" replay bench --fleets "bench/fleets/$fleet.json" --policies eft --memory-loads "$LOADS" \
    --fleet-mix "$mix" --requests "$REQUESTS" --seed "$seed" --sweep-seeds 1 --sweep-requests 50 \
    --results "$OUT/$side-$fleet-$seed.md" > "$OUT/$side-$fleet-$seed.log" 2>&1
  grep -o "at [0-9]*%: eft mean [0-9.]* s" "$OUT/$side-$fleet-$seed.log" \
    | awk -v s="$side" -v f="$fleet" -v n="$seed" '{sub("%:", "", $2); print s, f, n, $2, $5}'
}
export -f one
export JAR_A JAR_B OPTS_A OPTS_B OUT REQUESTS LOADS

{
  for fleet in swap-zipf gpu-zipf; do
    for seed in $SEEDS; do echo "A $fleet $seed"; echo "B $fleet $seed"; done
  done
  for seed in $SWAP_SEEDS; do echo "A swap $seed"; echo "B swap $seed"; done
} | xargs -P2 -L1 bash -c 'one "$0" "$1" "$2"' > "$OUT/means.txt"

printf "%-10s %5s %9s %9s %8s %9s %-26s %s\n" "fleet" "load" "A mean" "B mean" "B vs A" "2 SE" \
  "seeds B better / worse" "steady loads / 100, A -> B"
# The eft rows' steady-state loads per 100 requests (column 9 of the per-seed reports), as "loads SIDE FLEET LOAD MEAN".
steady_loads() {
  local side fleet
  for side in A B; do
    for fleet in swap-zipf gpu-zipf swap; do
      for f in "$OUT/$side-$fleet"-[0-9]*.md; do
        [ -e "$f" ] || continue
        grep -h '\*\*eft\*\*' "$f" | awk -F'|' -v s="$side" -v fl="$fleet" \
          '{ split($2, w, " "); print "loads", s, fl, w[1], $9 }'
      done
    done
  done | awk '{ t[$2 " " $3 " " $4] += $5; n[$2 " " $3 " " $4]++ }
    END { for (k in t) printf "loads %s %.2f\n", k, t[k] / n[k] }'
}

awk '
  $1 == "loads" { loads[$2 " " $3 " " $4] = $5; next }
  { key = $2 " " $4; m[$1 " " key " " $3] = $5; keys[key] = 1; seeds[key " " $3] = 1 }
  END {
    for (k in keys) {
      sa = 0; sb = 0; c = 0; better = 0; worse = 0; sd = 0; sd2 = 0
      for (ks in seeds) {
        split(ks, p, " ")
        if (p[1] " " p[2] != k) continue
        a = m["A " k " " p[3]]; b = m["B " k " " p[3]]
        if (a == "" || b == "") continue
        sa += a; sb += b; c++
        # The paired change of one seed, as a log ratio: its spread over the seeds says how sure the change is.
        d = log(b / a); sd += d; sd2 += d * d
        if (b < a) better++; else if (b > a) worse++
      }
      if (c == 0) continue
      se = c > 1 ? sqrt((sd2 - sd * sd / c) / (c - 1) / c) : 0
      split(k, q, " ")
      printf "%-10s %4s%% %8.2fs %8.2fs %+7.1f%% %8.1f%% %-26s %s -> %s\n", q[1], q[2], sa / c, sb / c,
        100 * (sb / sa - 1), 100 * (exp(2 * se) - 1), better " / " worse " of " c, loads["A " k], loads["B " k]
    }
  }' <(steady_loads) "$OUT/means.txt" | sort -k1,1 -k2n

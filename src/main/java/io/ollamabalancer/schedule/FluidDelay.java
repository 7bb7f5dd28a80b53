package io.ollamabalancer.schedule;

import java.util.Arrays;

/**
 * The latency side of the fluid model behind the placement plan: for a placement (which models each backend holds),
 * each model's demand (work per second), each backend's capacity (work per second with every slot busy), slots and
 * slowness (how many times longer a job takes there alone than on the fastest backend) and crowding (how much slower
 * each stream decodes with every slot busy than alone, less one), the mean stretch of the work when each model's
 * work is split among its holders as well as it can be: the work-weighted mean over backends of slowness × the
 * slowdown of sharing the backend with the streams its utilisation implies × the queueing stretch at that
 * utilisation (M/M/c response time over service time, Sakasegawa's approximation, continued past {@link #SATURATED}
 * by its tangent so that overloaded placements still compare). 1 is every job on the fastest backend with no wait.
 *
 * <p>Why not only the busiest utilisation ({@link FluidLoad}): it balances, so on a fleet of fast and slow backends
 * it gives the slow ones a share of every model's work as soon as their utilisation would be lower, and a placement
 * that keeps a fifth of the demand on backends three times slower reads as good as one that keeps it on the fast
 * ones (DES, swap-zipf at 40 %: a model asked for a fifth of the time planned on the CPU backends only).
 *
 * <p>The split is a convex problem (each backend's cost is convex in its work); it is solved in pieces of a
 * model's demand, each to the holder where it adds least, then improved by moving pieces between a model's holders
 * while that lowers the total. Stateless; each call allocates its own small arrays.
 */
final class FluidDelay {
    /** Pieces each model's demand is split into. */
    private static final int PIECES = 32;
    private static final int ROUNDS = 64;
    /** Utilisation beyond which the stretch is continued by its tangent. */
    static final double SATURATED = 0.95;

    private FluidDelay() {
    }

    /**
     * @param demand   work per second of each model (index m); models nobody holds are left out
     * @param capacity work per second of each backend (index b), > 0
     * @param slots    each backend's concurrent slots, >= 1
     * @param slowness each backend's time for a job alone over the fastest backend's, >= 1
     * @param crowding each backend's time for a job with every slot busy over its time alone, less one, >= 0
     * @param holds    holds[b][m]: backend b holds model m
     * @return the mean stretch of the held models' work (1 when there is none)
     */
    static double meanStretch(double[] demand, double[] capacity, int[] slots, double[] slowness,
                              double[] crowding, boolean[][] holds) {
        Backends at = new Backends(capacity, slots, slowness, crowding);
        int nb = capacity.length;
        int nm = demand.length;
        double total = 0;
        Integer[] order = new Integer[nm];
        for (int m = 0; m < nm; m++) {
            order[m] = m;
        }
        Arrays.sort(order, (a, b) -> Double.compare(demand[b], demand[a]));
        double[] work = new double[nb];
        // Each backend's cost at its work now: every step below compares it with the cost one piece away, and
        // recomputing both sides was most of a plan's time (16 backends x 12 models: hundreds of ms per plan).
        double[] now = new double[nb];
        int[][] pieces = new int[nm][nb];
        for (int m : order) {
            double piece = demand[m] / PIECES;
            if (!(piece > 0)) {
                continue;
            }
            boolean held = false;
            for (int b = 0; b < nb; b++) {
                held |= holds[b][m];
            }
            if (!held) {
                continue;
            }
            total += demand[m];
            for (int k = 0; k < PIECES; k++) {
                int best = -1;
                double bestAdd = Double.MAX_VALUE;
                double bestAfter = 0;
                for (int b = 0; b < nb; b++) {
                    if (holds[b][m]) {
                        double after = cost(work[b] + piece, b, at);
                        double add = after - now[b];
                        if (add < bestAdd) {
                            bestAdd = add;
                            bestAfter = after;
                            best = b;
                        }
                    }
                }
                work[best] += piece;
                now[best] = bestAfter;
                pieces[m][best]++;
            }
        }
        if (total <= 0) {
            return 1;
        }
        // Greedy placement can leave a piece where a later, bigger model made it dear: move pieces back and forth
        // between a model's holders while that lowers the total.
        for (int round = 0; round < ROUNDS; round++) {
            boolean moved = false;
            for (int m = 0; m < nm; m++) {
                double piece = demand[m] / PIECES;
                for (int from = 0; from < nb; from++) {
                    if (pieces[m][from] == 0) {
                        continue;
                    }
                    for (int to = 0; to < nb; to++) {
                        if (to == from || !holds[to][m] || pieces[m][from] == 0) {
                            continue;
                        }
                        double fromAfter = cost(work[from] - piece, from, at);
                        double toAfter = cost(work[to] + piece, to, at);
                        double saved = now[from] - fromAfter;
                        double added = toAfter - now[to];
                        if (saved - added > 1e-12 * Math.max(1, saved)) {
                            work[from] -= piece;
                            work[to] += piece;
                            now[from] = fromAfter;
                            now[to] = toAfter;
                            pieces[m][from]--;
                            pieces[m][to]++;
                            moved = true;
                        }
                    }
                }
            }
            if (!moved) {
                break;
            }
        }
        double sum = 0;
        for (int b = 0; b < nb; b++) {
            sum += now[b];
        }
        return sum / total;
    }

    /** The backends' figures, indexed alike. */
    private record Backends(double[] capacity, int[] slots, double[] slowness, double[] crowding) {
    }

    /**
     * Backend b's share of the total: its work × its slowness × the slowdown of the streams it runs at once (about
     * utilisation × slots of them, each slower than alone by the crowding's share) × its queueing stretch.
     */
    private static double cost(double work, int b, Backends at) {
        if (work <= 0) {
            return 0;
        }
        double rho = work / at.capacity[b];
        int c = at.slots[b];
        return work * at.slowness[b] * slowdown(at.crowding[b], rho * c, c) * stretch(rho, c);
    }

    /**
     * How much slower each of {@code streams} streams decodes on a backend of {@code slots} slots than one alone:
     * 1 for one stream, 1 + crowding with every slot busy, linear between (the fluid model's streams need not be
     * whole; {@link PlacementTrial}'s are).
     */
    static double slowdown(double crowding, double streams, int slots) {
        double together = slots <= 1 ? 0 : Math.min(1, Math.max(0, (streams - 1) / (slots - 1)));
        return 1 + crowding * together;
    }

    /**
     * Response time over service time of an M/M/c queue at utilisation {@code rho}: 1 + ρ^(√(2(c+1)) − 1) / (c (1 −
     * ρ)) (Sakasegawa; exact for c = 1), continued past {@link #SATURATED} by its tangent.
     */
    static double stretch(double rho, int c) {
        if (rho <= SATURATED) {
            return mmc(rho, c);
        }
        double h = 1e-4;
        double slope = (mmc(SATURATED, c) - mmc(SATURATED - h, c)) / h;
        return mmc(SATURATED, c) + slope * (rho - SATURATED);
    }

    private static double mmc(double rho, int c) {
        if (rho <= 0) {
            return 1;
        }
        return 1 + Math.pow(rho, Math.sqrt(2.0 * (c + 1)) - 1) / (c * (1 - rho));
    }
}

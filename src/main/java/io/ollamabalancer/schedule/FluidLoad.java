package io.ollamabalancer.schedule;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * The fluid model behind the placement plan: given each model's demand (work per second), each backend's capacity
 * (work per second it completes with every slot busy) and which models each backend holds, the smallest possible
 * utilisation of the busiest backend when every model's work may be split freely among the backends holding it.
 * Found by bisection on the utilisation with a max-flow feasibility test (source → model → backend → sink).
 * {@link #queueing} is what the plan minimises: the expected requests in the fleet for the best such split.
 * Demand of a model that no backend holds is left out (it is the plan's coverage step's business).
 *
 * <p>Stateless; each call allocates its own small arrays. Sizes are the fleet's (tens of models and backends).
 */
final class FluidLoad {
    private static final int ROUNDS = 24;

    private FluidLoad() {
    }

    /**
     * @param demand   work per second of each model (index m)
     * @param capacity work per second of each backend (index b), > 0
     * @param holds    holds[b][m]: backend b holds model m
     * @return the busiest backend's utilisation at best (0 when there is no demand)
     */
    static double utilisation(double[] demand, double[] capacity, boolean[][] holds) {
        double total = 0;
        int models = demand.length;
        boolean[] served = new boolean[models];
        for (int m = 0; m < models; m++) {
            for (boolean[] h : holds) {
                served[m] |= h[m];
            }
            if (served[m]) {
                total += demand[m];
            }
        }
        if (total <= 0) {
            return 0;
        }
        // Upper bound: every model's work all on its slowest holder, all at once on one backend.
        double minCap = Arrays.stream(capacity).min().orElse(1);
        double lo = 0;
        double hi = total / minCap;
        for (int i = 0; i < ROUNDS; i++) {
            double mid = (lo + hi) / 2;
            if (feasible(demand, served, capacity, holds, mid, total)) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return hi;
    }

    private static boolean feasible(double[] demand, boolean[] served, double[] capacity, boolean[][] holds,
                                    double theta, double total) {
        int models = demand.length;
        int backends = capacity.length;
        int n = models + backends + 2;
        int source = n - 2;
        int sink = n - 1;
        double[][] cap = new double[n][n];
        for (int m = 0; m < models; m++) {
            if (served[m]) {
                cap[source][m] = demand[m];
            }
            for (int b = 0; b < backends; b++) {
                if (holds[b][m]) {
                    cap[m][models + b] = Double.MAX_VALUE / 4;
                }
            }
        }
        for (int b = 0; b < backends; b++) {
            cap[models + b][sink] = theta * capacity[b];
        }
        double flow = 0;
        int[] parent = new int[n];
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (;;) {
            Arrays.fill(parent, -1);
            parent[source] = source;
            queue.clear();
            queue.add(source);
            while (!queue.isEmpty() && parent[sink] < 0) {
                int u = queue.poll();
                for (int v = 0; v < n; v++) {
                    if (parent[v] < 0 && cap[u][v] > 1e-12) {
                        parent[v] = u;
                        queue.add(v);
                    }
                }
            }
            if (parent[sink] < 0) {
                break;
            }
            double push = Double.MAX_VALUE;
            for (int v = sink; v != source; v = parent[v]) {
                push = Math.min(push, cap[parent[v]][v]);
            }
            for (int v = sink; v != source; v = parent[v]) {
                cap[parent[v]][v] -= push;
                cap[v][parent[v]] += push;
            }
            flow += push;
        }
        return flow >= total * (1 - 1e-9);
    }

    /** Utilisation past which the queueing cost continues by its tangent (overloaded plans still differ). */
    private static final double KNEE = 0.95;
    private static final int SPLIT_ROUNDS = 60;
    private static final int LINE_ROUNDS = 30;

    /**
     * A plan's expected queueing: {@code cost} is the number of requests in the fleet at steady state (Σ over
     * backends of ρ / (1 − ρ), M/M/1 each), which by Little's law is the mean response time × the arrival rate;
     * {@code busiest} the highest utilisation ρ in that split.
     */
    record Queueing(double cost, double busiest) {
    }

    /**
     * The expected queueing of {@code holds} when each model's work is split among its holders so as to minimise
     * the requests in the fleet (Frank–Wolfe: each round moves a share of every model's work towards its holder of
     * least marginal cost, by the share that lowers the cost most). Unlike the busiest utilisation alone, this
     * prefers fast backends (the same work is a larger ρ on a slow one) and values every backend's queue, not only
     * the busiest's.
     *
     * @param demand   work per second of each model (index m), in the unit of {@code capacity}
     * @param capacity work per second each backend completes with every slot busy (index b), > 0
     * @param holds    holds[b][m]: backend b holds model m
     */
    static Queueing queueing(double[] demand, double[] capacity, boolean[][] holds) {
        int nb = capacity.length;
        int nm = demand.length;
        double[][] x = new double[nm][nb];
        double[] rho = new double[nb];
        for (int m = 0; m < nm; m++) {
            double held = 0;
            for (int b = 0; b < nb; b++) {
                held += holds[b][m] ? capacity[b] : 0;
            }
            for (int b = 0; b < nb && held > 0; b++) {
                if (holds[b][m]) {
                    x[m][b] = demand[m] * capacity[b] / held;
                    rho[b] += x[m][b] / capacity[b];
                }
            }
        }
        double[] delta = new double[nb];
        int[] target = new int[nm];
        for (int round = 0; round < SPLIT_ROUNDS; round++) {
            Arrays.fill(delta, 0);
            for (int m = 0; m < nm; m++) {
                target[m] = -1;
                double best = Double.MAX_VALUE;
                for (int b = 0; b < nb; b++) {
                    double d = holds[b][m] ? slope(rho[b]) / capacity[b] : Double.MAX_VALUE;
                    if (d < best) {
                        best = d;
                        target[m] = b;
                    }
                }
                for (int b = 0; b < nb && target[m] >= 0; b++) {
                    double y = b == target[m] ? demand[m] : 0;
                    delta[b] += (y - x[m][b]) / capacity[b];
                }
            }
            // The cost along the direction is convex: bisect its derivative for the best step.
            double lo = 0;
            double hi = 1;
            for (int i = 0; i < LINE_ROUNDS; i++) {
                double mid = (lo + hi) / 2;
                double d = 0;
                for (int b = 0; b < nb; b++) {
                    d += slope(rho[b] + mid * delta[b]) * delta[b];
                }
                if (d > 0) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            double step = (lo + hi) / 2;
            if (step < 1e-6) {
                break;
            }
            Arrays.fill(rho, 0);
            for (int m = 0; m < nm; m++) {
                for (int b = 0; b < nb && target[m] >= 0; b++) {
                    double y = b == target[m] ? demand[m] : 0;
                    x[m][b] += step * (y - x[m][b]);
                    rho[b] += x[m][b] / capacity[b];
                }
            }
        }
        double cost = 0;
        double busiest = 0;
        for (int b = 0; b < nb; b++) {
            cost += requests(rho[b]);
            busiest = Math.max(busiest, rho[b]);
        }
        return new Queueing(cost, busiest);
    }

    /** ρ / (1 − ρ), continued past {@link #KNEE} by its tangent. */
    static double requests(double rho) {
        return rho <= KNEE ? rho / (1 - rho) : KNEE / (1 - KNEE) + (rho - KNEE) * slope(KNEE);
    }

    private static double slope(double rho) {
        double r = Math.min(rho, KNEE);
        return 1 / ((1 - r) * (1 - r));
    }
}

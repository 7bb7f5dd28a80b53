package io.ollamabalancer.schedule;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * The fluid model behind the placement plan: given each model's demand (work per second), each backend's capacity
 * (work per second it completes with every slot busy) and which models each backend holds, the smallest possible
 * utilisation of the busiest backend when every model's work may be split freely among the backends holding it.
 * Found by bisection on the utilisation with a max-flow feasibility test (source → model → backend → sink).
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
}

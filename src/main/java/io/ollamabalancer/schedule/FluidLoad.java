package io.ollamabalancer.schedule;

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
        Network g = network(demand, served, capacity, holds);
        for (int i = 0; i < ROUNDS; i++) {
            double mid = (lo + hi) / 2;
            if (g.maxFlow(mid) >= total * (1 - 1e-9)) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return hi;
    }

    /**
     * The flow network source → model → backend → sink whose max flow tells whether every served model's demand
     * fits with each backend at most θ busy (the backends' edges to the sink carry θ × their capacity). Edge lists,
     * built once per utilisation and reset per θ: the graph has a model's holders as its only middle edges, and a
     * dense matrix built and scanned per step cost most of a plan's time (16 backends × 12 models, ~300 ms per plan).
     */
    private static Network network(double[] demand, boolean[] served, double[] capacity, boolean[][] holds) {
        int models = demand.length;
        int edges = capacity.length;
        for (int m = 0; m < models; m++) {
            edges += served[m] ? 1 : 0;
            for (boolean[] h : holds) {
                edges += h[m] ? 1 : 0;
            }
        }
        Network g = new Network(models + capacity.length + 2, edges, capacity);
        int source = g.n - 2;
        for (int m = 0; m < models; m++) {
            if (served[m]) {
                g.edge(source, m, demand[m]);
            }
            for (int b = 0; b < capacity.length; b++) {
                if (holds[b][m]) {
                    g.edge(m, models + b, Double.MAX_VALUE / 4);
                }
            }
        }
        for (int b = 0; b < capacity.length; b++) {
            g.toSink(models + b, b);
        }
        return g;
    }

    /**
     * A flow network as edge lists (each edge and its reverse are adjacent: e and e ^ 1), source n − 2 and sink
     * n − 1, whose backend → sink edges take θ × the backend's capacity at each {@link #maxFlow}.
     */
    private static final class Network {
        final int n;
        private final double[] capacity;
        private final int[] head;
        private final int[] next;
        private final int[] to;
        private final double[] base;
        private final double[] cap;
        private int edges;
        /** Per backend (index b), its edge to the sink. */
        private final int[] sinkEdge;
        private final int[] via;
        private final int[] queue;

        /** {@code n} nodes, room for {@code edges} edges (each added with its reverse). */
        Network(int n, int edges, double[] capacity) {
            this.n = n;
            this.capacity = capacity;
            next = new int[2 * edges];
            to = new int[2 * edges];
            base = new double[2 * edges];
            cap = new double[2 * edges];
            head = new int[n];
            Arrays.fill(head, -1);
            sinkEdge = new int[capacity.length];
            via = new int[n];
            queue = new int[n];
        }

        void edge(int u, int v, double c) {
            add(u, v, c);
            add(v, u, 0);
        }

        /** The edge from backend node {@code u} (backend {@code b}) to the sink. */
        void toSink(int u, int b) {
            sinkEdge[b] = edges;
            edge(u, n - 1, 0);
        }

        private void add(int u, int v, double c) {
            to[edges] = v;
            base[edges] = c;
            next[edges] = head[u];
            head[u] = edges++;
        }

        /** The max flow with every backend's edge to the sink at {@code theta} × its capacity. */
        double maxFlow(double theta) {
            System.arraycopy(base, 0, cap, 0, edges);
            for (int b = 0; b < sinkEdge.length; b++) {
                cap[sinkEdge[b]] = theta * capacity[b];
            }
            int source = n - 2;
            int sink = n - 1;
            double flow = 0;
            for (;;) {
                Arrays.fill(via, -1);
                via[source] = -2;
                int read = 0;
                int write = 0;
                queue[write++] = source;
                while (read < write && via[sink] == -1) {
                    int u = queue[read++];
                    for (int e = head[u]; e >= 0; e = next[e]) {
                        int v = to[e];
                        if (via[v] == -1 && cap[e] > 1e-12) {
                            via[v] = e;
                            queue[write++] = v;
                        }
                    }
                }
                if (via[sink] == -1) {
                    return flow;
                }
                double push = Double.MAX_VALUE;
                for (int v = sink; v != source; v = to[via[v] ^ 1]) {
                    push = Math.min(push, cap[via[v]]);
                }
                for (int v = sink; v != source; v = to[via[v] ^ 1]) {
                    cap[via[v]] -= push;
                    cap[via[v] ^ 1] += push;
                }
                flow += push;
            }
        }
    }
}

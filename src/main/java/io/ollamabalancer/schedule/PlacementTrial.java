package io.ollamabalancer.schedule;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Judges candidate placements the way a placement oracle does, by replaying demand through them, but with what the
 * plan has learned instead of a known trace: a small discrete-event simulation of the next horizon for each
 * candidate, starting from what waits, what runs and what is resident now (a model a candidate adds on a backend is
 * served there only after its loads, one after another, which start once the requests running there of the models it
 * evicts have ended, as Ollama waits for them), with each model's arrivals drawn at its learned rate, each request's
 * work drawn exponential around its learned mean, streams on one backend sharing it as its learned decode slowdown
 * says, and requests taken late, oldest first, by a free slot unless another holder would finish them sooner (eft's
 * rule). Arrivals stop at the horizon and every request drawn is run to its end, so a placement that cannot keep up
 * pays for its backlog and a change pays for its loads.
 *
 * <p>Why: the fluid model ranks the bad placements from the good but cannot tell the best few apart (DES swap-zipf
 * at 40 %: four of the five best score alike), and it reads a backlog as a rate that never drains, so near
 * saturation every plan looks overloaded. A simulation judges both on the quantity that matters, the mean latency,
 * transient included.
 *
 * <p>Each replication draws its own demand: every model's rate scaled by its Poisson uncertainty (a normal draw of
 * one over the square root of the arrivals it rests on), then the arrivals and sizes; every candidate sees the same
 * draws (common random numbers), so the differences between candidates are measured with far less noise than the
 * means, and a change is taken only when it wins across the draws of what demand might be, not on one reading of it.
 *
 * <p>Stateless; allocates per call; the planner calls it from its timer thread, never an event loop.
 */
final class PlacementTrial {
    /** Requests simulated per replication at most (the horizon shrinks under heavy demand). */
    private static final int MAX_REQUESTS = 600;

    /**
     * The fleet as the plan sees it, indexed like the plan: each backend's speed for one stream alone (work per
     * second), slots, and crowding (time with every slot busy over time alone, less one).
     */
    record Fleet(double[] speed, int[] slots, double[] crowding) {
    }

    /**
     * Demand per model, indexed like the plan: arrivals per second, the arrivals that rate rests on, mean work of
     * one request (in the fleet's work unit), requests waiting now, the seconds one load of it takes, and the
     * requests running now ({@code running[b][m]}: of model m on backend b).
     */
    record Demand(double[] rate, double[] arrivals, double[] work, int[] queued, double[] loadSeconds,
                  int[][] running) {
    }

    /** Mean latency of each candidate (index c) in each replication (index r), seconds. */
    record Verdict(double[][] means) {
        double mean(int c) {
            double s = 0;
            for (double v : means[c]) {
                s += v;
            }
            return s / means[c].length;
        }

        /**
         * How sure it is that candidate {@code c} beats candidate {@code base}: the mean of their paired differences
         * over its standard error (infinite when they differ alike in every replication).
         */
        double sureness(int base, int c) {
            int n = means[c].length;
            double sum = 0;
            double sq = 0;
            for (int r = 0; r < n; r++) {
                double d = means[base][r] - means[c][r];
                sum += d;
                sq += d * d;
            }
            double mean = sum / n;
            double var = n > 1 ? Math.max(0, (sq - n * mean * mean) / (n - 1)) : 0;
            double se = Math.sqrt(var / n);
            return se > 0 ? mean / se : mean > 0 ? Double.POSITIVE_INFINITY : 0;
        }
    }

    private PlacementTrial() {
    }

    /**
     * @param start      what each backend holds now (holds[b][m])
     * @param candidates the placements to judge; each backend holds a model at t = 0 if {@code start} did, after
     *                   its loads otherwise
     * @param horizon    seconds of arrivals per replication
     * @param reps       replications
     * @param seed       the draws' seed: the same seed draws the same demand
     */
    static Verdict judge(Fleet fleet, Demand demand, boolean[][] start, List<boolean[][]> candidates,
                         double horizon, int reps, long seed) {
        double[][] means = new double[candidates.size()][reps];
        SplittableRandom seeds = new SplittableRandom(seed);
        for (int r = 0; r < reps; r++) {
            Draw draw = Draw.of(demand, horizon, seeds.split());
            for (int c = 0; c < candidates.size(); c++) {
                means[c][r] = new Run(fleet, demand, draw, start, candidates.get(c), horizon).meanLatency();
            }
        }
        return new Verdict(means);
    }

    /**
     * One replication's requests in arrival order (time, model and work; those waiting now arrive at 0), and the
     * work left of the requests running now (backend, model, work left: exponential, as the rest of an exponential
     * job is).
     */
    private record Draw(double[] at, int[] model, double[] work, int[] runBackend, int[] runModel, double[] runLeft) {
        static Draw of(Demand demand, double horizon, SplittableRandom random) {
            int nm = demand.rate().length;
            double[] rate = new double[nm];
            double total = 0;
            for (int m = 0; m < nm; m++) {
                double err = 1 / Math.sqrt(Math.max(1, demand.arrivals()[m]));
                rate[m] = demand.rate()[m] * Math.max(0, 1 + err * random.nextGaussian());
                total += rate[m];
            }
            int backlog = 0;
            for (int q : demand.queued()) {
                backlog += q;
            }
            double h = total * horizon > MAX_REQUESTS ? MAX_REQUESTS / total : horizon;
            int cap = backlog + (int) (total * h * 2 + 16);
            double[] at = new double[cap];
            int[] model = new int[cap];
            double[] work = new double[cap];
            int n = 0;
            // What waits now, interleaved by model as the queues' ages would be.
            int[] left = demand.queued().clone();
            for (boolean any = true; any;) {
                any = false;
                for (int m = 0; m < nm; m++) {
                    if (left[m] > 0) {
                        left[m]--;
                        any = true;
                        model[n] = m;
                        work[n] = random.nextExponential() * demand.work()[m];
                        n++;
                    }
                }
            }
            // Then Poisson arrivals of the whole demand, each taking its model by its share of the rate.
            for (double t = random.nextExponential() / total; total > 0 && t < h && n < cap;
                 t += random.nextExponential() / total) {
                double u = random.nextDouble() * total;
                int m = 0;
                while (m < nm - 1 && u >= rate[m]) {
                    u -= rate[m];
                    m++;
                }
                at[n] = t;
                model[n] = m;
                work[n] = random.nextExponential() * demand.work()[m];
                n++;
            }
            int[][] now = demand.running();
            int k = 0;
            for (int[] perModel : now) {
                for (int c : perModel) {
                    k += c;
                }
            }
            int[] runBackend = new int[k];
            int[] runModel = new int[k];
            double[] runLeft = new double[k];
            k = 0;
            for (int b = 0; b < now.length; b++) {
                for (int m = 0; m < now[b].length; m++) {
                    for (int i = 0; i < now[b][m]; i++) {
                        runBackend[k] = b;
                        runModel[k] = m;
                        runLeft[k] = random.nextExponential() * demand.work()[m];
                        k++;
                    }
                }
            }
            return new Draw(Arrays.copyOf(at, n), Arrays.copyOf(model, n), Arrays.copyOf(work, n), runBackend,
                    runModel, runLeft);
        }
    }

    /** One candidate through one draw: the event loop and its state. */
    private static final class Run {
        private final Fleet fleet;
        private final Draw draw;
        private final int nb;
        private final int nm;
        /** When backend b can serve model m (infinite: it does not hold it). */
        private final double[][] ready;
        /** Per backend, its running requests (indices into the draw) and their work left. */
        private final int[][] running;
        private final double[][] left;
        private final int[] busy;
        /** Per model, the requests waiting in arrival order, as a ring. */
        private final int[][] waiting;
        private final int[] head;
        private final int[] size;
        /** Requests waiting in all models' rings. */
        private int queued;
        private final Integer[] fastestFirst;
        /** The (backend, model) pairs the candidate loads: the only times a model becomes ready after 0. */
        private final int[] loadingB;
        private final int[] loadingM;
        private int loading;
        private final double horizon;
        private double now;
        private double latency;
        private int done;

        Run(Fleet fleet, Demand demand, Draw draw, boolean[][] start, boolean[][] plan, double horizon) {
            this.fleet = fleet;
            this.draw = draw;
            this.horizon = horizon;
            nb = plan.length;
            nm = plan.length == 0 ? 0 : plan[0].length;
            ready = new double[nb][nm];
            loadingB = new int[nb * nm];
            loadingM = new int[nb * nm];
            running = new int[nb][];
            left = new double[nb][];
            busy = new int[nb];
            for (int b = 0; b < nb; b++) {
                running[b] = new int[fleet.slots()[b]];
                left[b] = new double[fleet.slots()[b]];
            }
            // What runs now keeps its slot; a model a candidate evicts from b is unloaded only once its requests
            // there have ended (Ollama waits for them), so b's loads start after the longest of those.
            double[] loadStart = new double[nb];
            for (int j = 0; j < draw.runLeft().length; j++) {
                int b = draw.runBackend()[j];
                if (busy[b] < running[b].length) {
                    running[b][busy[b]] = -1 - j;
                    left[b][busy[b]] = draw.runLeft()[j];
                    busy[b]++;
                }
            }
            for (int j = 0; j < draw.runLeft().length; j++) {
                int b = draw.runBackend()[j];
                if (!plan[b][draw.runModel()[j]]) {
                    loadStart[b] = Math.max(loadStart[b], draw.runLeft()[j] / streamSpeed(b, busy[b]));
                }
            }
            for (int b = 0; b < nb; b++) {
                double loads = loadStart[b];
                for (int m = 0; m < nm; m++) {
                    if (!plan[b][m]) {
                        ready[b][m] = Double.POSITIVE_INFINITY;
                    } else if (start[b][m]) {
                        ready[b][m] = 0;
                    } else {
                        loads += demand.loadSeconds()[m];
                        ready[b][m] = loads;
                        loadingB[loading] = b;
                        loadingM[loading] = m;
                        loading++;
                    }
                }
            }
            waiting = new int[nm][Math.max(1, draw.at().length)];
            head = new int[nm];
            size = new int[nm];
            fastestFirst = new Integer[nb];
            for (int b = 0; b < nb; b++) {
                fastestFirst[b] = b;
            }
            Arrays.sort(fastestFirst, (a, c) -> Double.compare(fleet.speed()[c], fleet.speed()[a]));
        }

        /** Work per second each stream on {@code b} gets with {@code k} streams running. */
        private double streamSpeed(int b, int k) {
            return fleet.speed()[b] / FluidDelay.slowdown(fleet.crowding()[b], k, fleet.slots()[b]);
        }

        double meanLatency() {
            int n = draw.at().length;
            if (n == 0) {
                return 0;
            }
            int next = 0;
            while (done < n) {
                double t = next < n ? draw.at()[next] : Double.POSITIVE_INFINITY;
                for (int b = 0; b < nb; b++) {
                    double speed = streamSpeed(b, busy[b]);
                    for (int i = 0; i < busy[b]; i++) {
                        t = Math.min(t, now + left[b][i] / speed);
                    }
                }
                for (int i = 0; i < loading; i++) {
                    double r = ready[loadingB[i]][loadingM[i]];
                    if (r > now && size[loadingM[i]] > 0) {
                        t = Math.min(t, r);
                    }
                }
                if (t == Double.POSITIVE_INFINITY) {
                    break;
                }
                advance(t);
                while (next < n && draw.at()[next] <= now) {
                    int m = draw.model()[next];
                    waiting[m][(head[m] + size[m]) % waiting[m].length] = next;
                    size[m]++;
                    queued++;
                    next++;
                }
                dispatch();
            }
            // A request no placed model can serve waits past every horizon: it counts ten horizons.
            latency += (double) (n - done) * 10 * horizon;
            return latency / n;
        }

        private void advance(double t) {
            double dt = t - now;
            for (int b = 0; b < nb; b++) {
                if (busy[b] == 0) {
                    continue;
                }
                double step = dt * streamSpeed(b, busy[b]);
                for (int i = 0; i < busy[b]; i++) {
                    left[b][i] -= step;
                }
            }
            now = t;
            for (int b = 0; b < nb; b++) {
                for (int i = 0; i < busy[b];) {
                    if (left[b][i] <= 1e-9) {
                        if (running[b][i] >= 0) {
                            // (A request running at the start is the same in every candidate: not counted.)
                            latency += now - draw.at()[running[b][i]];
                            done++;
                        }
                        busy[b]--;
                        running[b][i] = running[b][busy[b]];
                        left[b][i] = left[b][busy[b]];
                    } else {
                        i++;
                    }
                }
            }
        }

        /** Free slots take waiting requests, fastest backend first, until none will. */
        private void dispatch() {
            for (boolean started = queued > 0; started && queued > 0;) {
                started = false;
                for (int b : fastestFirst) {
                    if (busy[b] < fleet.slots()[b] && take(b)) {
                        started = true;
                    }
                }
            }
        }

        /** Starts on {@code b} the oldest waiting request it can serve and should; whether it did. */
        private boolean take(int b) {
            int best = -1;
            for (int m = 0; m < nm; m++) {
                if (size[m] == 0 || ready[b][m] > now) {
                    continue;
                }
                int r = waiting[m][head[m]];
                if (best >= 0 && draw.at()[r] >= draw.at()[waiting[best][head[best]]]) {
                    continue;
                }
                if (sooner(b, m, draw.work()[r])) {
                    continue;
                }
                best = m;
            }
            if (best < 0) {
                return false;
            }
            int r = waiting[best][head[best]];
            head[best] = (head[best] + 1) % waiting[best].length;
            size[best]--;
            queued--;
            running[b][busy[b]] = r;
            left[b][busy[b]] = draw.work()[r];
            busy[b]++;
            return true;
        }

        /** Whether another holder of {@code m} would finish a request of this work sooner than {@code b} now. */
        private boolean sooner(int b, int m, double work) {
            double mine = work / streamSpeed(b, busy[b] + 1);
            for (int o = 0; o < nb; o++) {
                if (o == b || ready[o][m] == Double.POSITIVE_INFINITY) {
                    continue;
                }
                double free = 0;
                if (busy[o] >= fleet.slots()[o]) {
                    double speed = streamSpeed(o, busy[o]);
                    free = Double.POSITIVE_INFINITY;
                    for (int i = 0; i < busy[o]; i++) {
                        free = Math.min(free, left[o][i] / speed);
                    }
                }
                double start = Math.max(free, ready[o][m] - now);
                if (start + work / streamSpeed(o, fleet.slots()[o]) < mine) {
                    return true;
                }
            }
            return false;
        }
    }
}

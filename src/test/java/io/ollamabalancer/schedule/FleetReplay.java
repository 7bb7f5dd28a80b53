package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.estimate.CostHints;
import io.ollamabalancer.estimate.EstimatorSettings;
import io.ollamabalancer.estimate.TimingSample;
import io.ollamabalancer.request.BodyShape;
import io.ollamabalancer.request.InferenceRequest;

import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;

/**
 * A deterministic discrete-event simulator: replays a trace (Poisson arrivals, heavy-tailed output lengths, a
 * model mix) through the real {@link Scheduler} and policies against virtual backends in virtual time, or through
 * an offline oracle that knows every true length and puts each request, in arrival order, where it finishes
 * earliest. Backends report Ollama's timing fields, so the scheduler learns exactly as in production.
 *
 * <p>Single-threaded; everything runs on the caller's thread.
 */
final class FleetReplay {
    static final double PREFILL_TPS = 1000;
    static final double DECODE_TPS = 50;
    static final double LOAD_SECONDS = 8;
    static final double OVERHEAD_SECONDS = 0.02;
    static final double SWEEP_SECONDS = 0.1;
    static final int[] CAPS = {32, 64, 128, 256, 512};

    private FleetReplay() {
    }

    /** A virtual backend: relative speed, slots, the models it has, and those it has loaded at the start. */
    record VirtualBackend(String name, double speed, int slots, List<String> models, List<String> loaded) {
    }

    /** One request of a trace, with its true (natural) output length. */
    record Job(int id, double arrival, String model, int promptTokens, int naturalOutput, int cap, int priority) {
        int output() {
            return cap >= 0 ? Math.min(cap, naturalOutput) : naturalOutput;
        }
    }

    /** A fleet and a traffic mix. */
    record Scenario(String name, List<VirtualBackend> backends, Map<String, Double> modelMix) {
        /** Requests per second that make the fleet {@code load} busy, from the trace's mean true service. */
        double rateFor(double load, List<Job> sample) {
            double capacity = 0;
            for (VirtualBackend b : backends) {
                capacity += b.speed * b.slots;
            }
            double work = 0;
            for (Job j : sample) {
                work += serviceSeconds(j, 1.0, false);
            }
            return load * capacity / (work / sample.size());
        }
    }

    /** Latency figures of one run (seconds), dispatch counts per backend, and queue waits by priority. */
    record Result(String policy, int completed, double mean, double p50, double p99, Map<String, Integer> perBackend,
                  double highWaitP99, double lowWaitP99) {
    }

    static double serviceSeconds(Job j, double speed, boolean cold) {
        return (cold ? LOAD_SECONDS : 0) + j.promptTokens / (PREFILL_TPS * speed)
                + j.output() / (DECODE_TPS * speed) + OVERHEAD_SECONDS;
    }

    /**
     * A trace of {@code n} requests: Poisson arrivals at {@code rate}, prompts log-normal (median 300 tokens),
     * natural outputs log-normal (median 120, σ 1.1, a heavy tail up to 4096), a share of requests carrying a
     * {@code num_predict} cap, a share of them at high priority.
     */
    static List<Job> trace(long seed, int n, double rate, Map<String, Double> mix, double capShare,
                           double highShare) {
        Random rnd = new Random(seed);
        List<Job> jobs = new ArrayList<>(n);
        double t = 0;
        List<String> models = new ArrayList<>(mix.keySet());
        for (int i = 0; i < n; i++) {
            t += -Math.log(1 - rnd.nextDouble()) / rate;
            double u = rnd.nextDouble();
            String model = models.get(models.size() - 1);
            double acc = 0;
            for (String m : models) {
                acc += mix.get(m);
                if (u < acc) {
                    model = m;
                    break;
                }
            }
            int prompt = (int) Math.max(10, Math.min(8000, 300 * Math.exp(0.8 * rnd.nextGaussian())));
            int output = (int) Math.max(1, Math.min(4096, 120 * Math.exp(1.1 * rnd.nextGaussian())));
            int cap = rnd.nextDouble() < capShare ? CAPS[rnd.nextInt(CAPS.length)] : -1;
            int priority = rnd.nextDouble() < highShare ? Priority.HIGH : Priority.NORMAL;
            jobs.add(new Job(i, t, model, prompt, output, cap, priority));
        }
        return jobs;
    }

    /** The same jobs with arrival times scaled so that the arrival rate becomes {@code rate}. */
    static List<Job> atRate(List<Job> unitTrace, double rate) {
        List<Job> out = new ArrayList<>(unitTrace.size());
        for (Job j : unitTrace) {
            out.add(new Job(j.id, j.arrival / rate, j.model, j.promptTokens, j.naturalOutput, j.cap, j.priority));
        }
        return out;
    }

    /** Replays {@code jobs} through the real scheduler with {@code policy} and {@code order}. */
    static Result run(Scenario sc, List<Job> jobs, String policy, QueueOrder order) {
        return run(sc, jobs, policy, order, SchedulerSettings.defaults().aging());
    }

    /** As {@link #run(Scenario, List, String, QueueOrder)} with an SJF aging factor. */
    static Result run(Scenario sc, List<Job> jobs, String policy, QueueOrder order, double aging) {
        return new Run(sc, jobs, policy, order, aging).execute();
    }

    /** The offline oracle: true lengths known, each job in arrival order to its earliest finish. */
    static Result oracle(Scenario sc, List<Job> jobs) {
        Map<String, double[]> free = new HashMap<>();
        Map<String, Set<String>> loaded = new HashMap<>();
        for (VirtualBackend b : sc.backends) {
            free.put(b.name, new double[b.slots]);
            loaded.put(b.name, new HashSet<>(b.loaded));
        }
        double[] latency = new double[jobs.size()];
        Map<String, Integer> per = new LinkedHashMap<>();
        for (Job j : jobs) {
            VirtualBackend best = null;
            double bestFinish = Double.MAX_VALUE;
            int bestSlot = 0;
            for (VirtualBackend b : sc.backends) {
                if (!b.models.contains(j.model)) {
                    continue;
                }
                double[] slots = free.get(b.name);
                int s = argMin(slots);
                double finish = Math.max(j.arrival, slots[s])
                        + serviceSeconds(j, b.speed, !loaded.get(b.name).contains(j.model));
                if (finish < bestFinish) {
                    bestFinish = finish;
                    best = b;
                    bestSlot = s;
                }
            }
            free.get(best.name)[bestSlot] = bestFinish;
            loaded.get(best.name).add(j.model);
            latency[j.id] = bestFinish - j.arrival;
            per.merge(best.name, 1, Integer::sum);
        }
        return summarise("oracle", latency, per, new double[0], new double[0]);
    }

    private static int argMin(double[] a) {
        int m = 0;
        for (int i = 1; i < a.length; i++) {
            if (a[i] < a[m]) {
                m = i;
            }
        }
        return m;
    }

    static Result summarise(String name, double[] latency, Map<String, Integer> per, double[] highWaits,
                            double[] lowWaits) {
        double[] s = latency.clone();
        Arrays.sort(s);
        double sum = 0;
        for (double v : s) {
            sum += v;
        }
        return new Result(name, s.length, sum / s.length, quantile(s, 0.5), quantile(s, 0.99), per,
                quantile(sorted(highWaits), 0.99), quantile(sorted(lowWaits), 0.99));
    }

    private static double[] sorted(double[] a) {
        double[] c = a.clone();
        Arrays.sort(c);
        return c;
    }

    static double quantile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    /** One replay through the real scheduler. */
    private static final class Run {
        private final Scenario sc;
        private final List<Job> jobs;
        private final String policy;
        private final PriorityQueue<Event> events = new PriorityQueue<>();
        private final Map<String, VirtualBackend> virtual = new HashMap<>();
        private final Map<String, Set<String>> loaded = new HashMap<>();
        private final double[] latency;
        private final List<Double> highWaits = new ArrayList<>();
        private final List<Double> lowWaits = new ArrayList<>();
        private final Map<String, Integer> per = new LinkedHashMap<>();
        private final Scheduling scheduling;
        private final Fleet fleet;
        private long now;
        private long seq;
        private boolean sweepPending;
        private int done;

        Run(Scenario sc, List<Job> jobs, String policy, QueueOrder order, double aging) {
            this.sc = sc;
            this.jobs = jobs;
            this.policy = policy;
            this.latency = new double[jobs.size()];
            List<BackendConfig> configs = new ArrayList<>();
            for (VirtualBackend b : sc.backends) {
                configs.add(new BackendConfig(b.name, URI.create("http://127.0.0.1:1"), b.slots, b.models, true));
                virtual.put(b.name, b);
                loaded.put(b.name, new HashSet<>(b.loaded));
                per.put(b.name, 0);
            }
            fleet = new Fleet(configs);
            for (Backend b : fleet.all()) {
                b.updateLoaded(loaded.get(b.name()));
            }
            SchedulerSettings settings = SchedulerSettings.defaults().withOrder(order, order == QueueOrder.SJF ? aging : 0)
                    .withLimits(new QueueLimits(1_000_000, Long.MAX_VALUE / 4));
            scheduling = Scheduling.create(fleet, settings, policy, CostHints.defaults(),
                    EstimatorSettings.defaults().withExactInlineChars(0), null, () -> now, false, null);
        }

        Result execute() {
            for (Job j : jobs) {
                push((long) (j.arrival * 1e9), () -> arrive(j));
            }
            while (!events.isEmpty()) {
                Event e = events.poll();
                now = e.at;
                e.action.run();
                if (!sweepPending && anyWaiting()) {
                    sweepPending = true;
                    push(now + (long) (SWEEP_SECONDS * 1e9), () -> {
                        sweepPending = false;
                        scheduling.scheduler().sweep();
                    });
                }
            }
            if (done != jobs.size()) {
                throw new IllegalStateException(policy + ": " + done + " of " + jobs.size() + " completed");
            }
            return summarise(policy + "/" + scheduling.scheduler().settings().order().name().toLowerCase(),
                    latency, per, toArray(highWaits), toArray(lowWaits));
        }

        private boolean anyWaiting() {
            for (ModelQueue q : scheduling.scheduler().queues().values()) {
                if (!q.isEmpty()) {
                    return true;
                }
            }
            return false;
        }

        private void arrive(Job j) {
            InferenceRequest r = new InferenceRequest(j.model, true, j.cap, null, "x".repeat(4 * j.promptTokens),
                    0, 0, "", false, 0);
            PendingRequest[] self = new PendingRequest[1];
            DispatchTarget target = new DispatchTarget() {
                @Override
                public void dispatch(Backend backend) {
                    started(j, self[0], backend);
                }

                @Override
                public void reject(int status, String message, long retryAfterSeconds) {
                    throw new IllegalStateException("rejected " + status + " " + message);
                }
            };
            PendingRequest p = new PendingRequest(j.id, r, j.model, j.priority, now, target);
            self[0] = p;
            scheduling.estimate(p, BodyShape.GENERATE);
            scheduling.scheduler().submit(p);
        }

        private void started(Job j, PendingRequest p, Backend b) {
            VirtualBackend v = virtual.get(b.name());
            boolean cold = !loaded.get(b.name()).contains(j.model);
            double wait = (now - p.arrivalNanos()) / 1e9;
            (j.priority > Priority.NORMAL ? highWaits : lowWaits).add(wait);
            per.merge(b.name(), 1, Integer::sum);
            double load = cold ? LOAD_SECONDS : 0;
            if (cold) {
                loaded.get(b.name()).add(j.model);
                push(now + (long) (load * 1e9), () -> b.updateLoaded(loaded.get(b.name())));
            }
            double prefill = j.promptTokens / (PREFILL_TPS * v.speed);
            double decode = j.output() / (DECODE_TPS * v.speed);
            double service = load + prefill + decode + OVERHEAD_SECONDS;
            TimingSample sample = new TimingSample(j.promptTokens + 10, (long) (prefill * 1e9), j.output(),
                    (long) (decode * 1e9), (long) (load * 1e9) + 2_000_000L, (long) (service * 1e9));
            push(now + (long) (service * 1e9), () -> {
                latency[j.id] = (now - p.arrivalNanos()) / 1e9;
                done++;
                scheduling.scheduler().complete(p, b, sample);
            });
        }

        private void push(long at, Runnable action) {
            events.add(new Event(at, seq++, action));
        }
    }

    private static double[] toArray(List<Double> values) {
        double[] a = new double[values.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = values.get(i);
        }
        return a;
    }

    private record Event(long at, long seq, Runnable action) implements Comparable<Event> {
        @Override
        public int compareTo(Event o) {
            int c = Long.compare(at, o.at);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }
}

package io.ollamabalancer.replay;

import java.util.ArrayList;
import java.util.List;

/**
 * A replayable workload: requests in send order, generated from {@code seed} at arrival rate {@code rate} (requests
 * per second). The same trace drives the discrete-event simulation and the real-socket replay. Immutable.
 *
 * @param name     a label (fleet and load, for example)
 * @param seed     the generator's seed
 * @param rate     mean arrivals per second (of the measured part)
 * @param warmup   how many leading requests only warm up (JIT, learned speeds) and are left out of the figures
 * @param requests in non-decreasing {@link TraceRequest#at()} order; request {@code i} has id {@code i}
 */
public record Trace(String name, long seed, double rate, int warmup, List<TraceRequest> requests) {

    public Trace {
        requests = List.copyOf(requests);
        if (!(rate > 0)) {
            throw new IllegalArgumentException("rate must be > 0");
        }
        if (warmup < 0 || warmup > requests.size()) {
            throw new IllegalArgumentException("warmup must be between 0 and the number of requests");
        }
        for (int i = 0; i < requests.size(); i++) {
            if (requests.get(i).id() != i) {
                throw new IllegalArgumentException("request " + i + " has id " + requests.get(i).id());
            }
        }
    }

    /** A trace without warm-up. */
    public Trace(String name, long seed, double rate, List<TraceRequest> requests) {
        this(name, seed, rate, 0, requests);
    }

    /**
     * {@code warm}'s requests, then this trace's, {@code gap} seconds after the last warm-up send; the warm-up
     * requests come first in id order and are left out of {@link #measured}.
     */
    public Trace afterWarmup(Trace warm, double gap) {
        List<TraceRequest> all = new ArrayList<>(warm.size() + size());
        for (TraceRequest r : warm.requests()) {
            all.add(r.renumbered(all.size(), r.at()));
        }
        double shift = warm.span() + gap;
        for (TraceRequest r : requests) {
            all.add(r.renumbered(all.size(), r.at() + shift));
        }
        return new Trace(name, seed, rate, warm.size(), all);
    }

    /** The outcomes of the measured requests (ids from {@link #warmup()} on). */
    public List<Outcome> measured(List<Outcome> outcomes) {
        return outcomes.stream().filter(o -> o.id() >= warmup).toList();
    }

    /** The same requests with send times stretched so that the arrival rate becomes {@code newRate}. */
    public Trace atRate(String newName, double newRate) {
        double f = rate / newRate;
        List<TraceRequest> out = new ArrayList<>(requests.size());
        for (TraceRequest r : requests) {
            out.add(r.at(r.at() * f));
        }
        return new Trace(newName, seed, newRate, warmup, out);
    }

    /** The first {@code n} requests (all of them when there are fewer). */
    public Trace first(int n) {
        int k = Math.min(n, requests.size());
        return new Trace(name, seed, rate, Math.min(warmup, k), requests.subList(0, k));
    }

    /** Send time of the last request, seconds. */
    public double span() {
        return requests.isEmpty() ? 0 : requests.get(requests.size() - 1).at();
    }

    public int size() {
        return requests.size();
    }
}

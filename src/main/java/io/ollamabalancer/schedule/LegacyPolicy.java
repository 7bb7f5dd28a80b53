package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.estimate.TimingSample;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The old project's rule, kept so benchmarks compare honestly: bind each request at arrival to the backend that
 * minimises {@code (queuedTokens × queueWeight + promptTokens) × timePerToken}, where {@code queuedTokens} are the
 * prompt tokens of the requests bound to that backend and not yet finished, and {@code timePerToken} is an EWMA
 * (weight {@code alpha}) of each response's {@code total_duration / (prompt_eval_count + eval_count)}. Backends
 * start equal; a backend without a response yet is assumed to be the fleet's average. Thread-safe: atomic counters and per-backend EWMA cells updated under their own lock.
 */
public final class LegacyPolicy extends EarlyBindingPolicy {
    private final double queueWeight;
    private final double alpha;
    private final Map<String, AtomicLong> queuedTokens = new ConcurrentHashMap<>();
    private final Map<String, double[]> timePerToken = new ConcurrentHashMap<>();

    public LegacyPolicy(double queueWeight, double alpha) {
        this.queueWeight = queueWeight;
        this.alpha = alpha;
    }

    @Override
    Backend assign(PendingRequest request, List<Backend> candidates) {
        int prompt = request.estimate().promptTokens();
        Backend best = null;
        double bestCost = Double.MAX_VALUE;
        for (Backend b : candidates) {
            double c = (queued(b).get() * queueWeight + prompt) * timePerToken(b);
            if (c < bestCost) {
                bestCost = c;
                best = b;
            }
        }
        return best;
    }

    @Override
    void bound(PendingRequest request, Backend backend) {
        queued(backend).addAndGet(request.estimate().promptTokens());
    }

    @Override
    void unbound(PendingRequest request, Backend backend) {
        queued(backend).addAndGet(-request.estimate().promptTokens());
    }

    @Override
    public void onCompleted(PendingRequest request, Backend backend, TimingSample sample) {
        super.onCompleted(request, backend, sample);
        long tokens = sample.promptEvalCount() + sample.evalCount();
        if (tokens > 0 && sample.totalDurationNs() > 0) {
            double tpt = sample.totalDurationNs() / 1e6 / tokens;
            double[] cell = timePerToken.computeIfAbsent(backend.name(), k -> new double[] {Double.NaN});
            synchronized (cell) {
                cell[0] = Double.isNaN(cell[0]) ? tpt : alpha * tpt + (1 - alpha) * cell[0];
            }
        }
    }

    private AtomicLong queued(Backend b) {
        return queuedTokens.computeIfAbsent(b.name(), k -> new AtomicLong());
    }

    private double timePerToken(Backend b) {
        double own = read(timePerToken.get(b.name()));
        if (!Double.isNaN(own)) {
            return own;
        }
        double sum = 0;
        int n = 0;
        for (double[] cell : timePerToken.values()) {
            double v = read(cell);
            if (!Double.isNaN(v)) {
                sum += v;
                n++;
            }
        }
        return n == 0 ? 1.0 : sum / n;
    }

    private static double read(double[] cell) {
        if (cell == null) {
            return Double.NaN;
        }
        synchronized (cell) {
            return cell[0];
        }
    }

    @Override
    public String name() {
        return "legacy";
    }
}

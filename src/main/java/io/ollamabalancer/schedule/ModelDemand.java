package io.ollamabalancer.schedule;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToIntFunction;

/**
 * Recent demand per model: the arrival rate (requests per second, exponentially decayed with time constant
 * {@code tau}) and the mean work of one request (nanoseconds on the fleet's typical backend, alone and warm), and
 * how many of its requests wait in the queue right now. The placement plan reads the work rate (rate × work) and
 * eviction costs read the rate and the queue.
 *
 * <p>Thread-safe: each model's figures are one immutable value replaced by CAS-free {@code compute} on a concurrent
 * map; readers never lock.
 */
public final class ModelDemand {
    private final long tauNanos;
    private final Map<String, Figures> models = new ConcurrentHashMap<>();
    private volatile ToIntFunction<String> queued = m -> 0;
    private volatile long firstNanos = Long.MIN_VALUE;

    /** One model's decayed arrival count and mean work, as of {@code at}. */
    private record Figures(double count, double work, long at) {
    }

    /** @param tauNanos how far back demand is remembered (the decay's time constant) */
    public ModelDemand(long tauNanos) {
        this.tauNanos = tauNanos;
    }

    /** How waiting requests are counted per model (the scheduler's queues). */
    void queueDepths(ToIntFunction<String> depth) {
        queued = depth;
    }

    /** A request for {@code model} arrived at {@code now}; {@code workNanos} is its expected work. */
    public void arrived(String model, long workNanos, long now) {
        if (firstNanos == Long.MIN_VALUE) {
            firstNanos = now;
        }
        models.compute(model, (k, f) -> {
            if (f == null) {
                return new Figures(1, workNanos, now);
            }
            double count = decayed(f, now);
            // Mean work weighted like the count, so it follows the same window.
            double work = (f.work * count + workNanos) / (count + 1);
            return new Figures(count + 1, work, Math.max(now, f.at));
        });
    }

    private double decayed(Figures f, long now) {
        long dt = now - f.at;
        return dt <= 0 ? f.count : f.count * Math.exp(-(double) dt / tauNanos);
    }

    /**
     * Requests per second for {@code model} lately. Before a full window has passed the count is divided by the time
     * seen so far (at least a tenth of the window), so early rates are neither zero nor wild.
     */
    public double rate(String model, long now) {
        Figures f = models.get(model);
        if (f == null) {
            return 0;
        }
        double window = tauNanos;
        if (firstNanos != Long.MIN_VALUE && now - firstNanos < tauNanos) {
            window = Math.max(tauNanos / 10.0, now - firstNanos);
        }
        return decayed(f, now) / (window / 1e9);
    }

    /** Mean expected work of one request of {@code model}, nanoseconds (0 when none seen). */
    public double workNanos(String model) {
        Figures f = models.get(model);
        return f == null ? 0 : f.work;
    }

    /** Work arriving per second for {@code model}: seconds of typical-backend time per second. */
    public double load(String model, long now) {
        return rate(model, now) * workNanos(model) / 1e9;
    }

    /** Requests of {@code model} waiting in the queue now. */
    public int queued(String model) {
        return queued.applyAsInt(model);
    }

    /** Every model seen. */
    public Iterable<String> models() {
        return models.keySet();
    }
}

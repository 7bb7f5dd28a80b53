package io.ollamabalancer.schedule;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToIntFunction;

/**
 * Recent demand per model: the arrival rate (requests per second, exponentially decayed with time constant
 * {@code tau}), what one request brings on average (prompt tokens, and the share of the model's expected output it
 * may use: 1 uncapped, less under a small {@code num_predict}, 0 for an embedding), and how many of its requests wait
 * in the queue right now. The placement plan reads the work rate (rate × work) and eviction costs read the rate and
 * the queue.
 *
 * <p>Why sizes and not times: a request's work in nanoseconds depends on speeds and answer lengths that are still
 * being learned when demand first arrives (before any answer, the hints say 30 tokens/s). Remembering times would
 * keep those first guesses for a whole window and make the models seen first look several times heavier than
 * they are; remembering sizes lets {@link #workNanos} price them with what is known when the plan is made
 * ({@link Price}).
 *
 * <p>Thread-safe: each model's figures are one immutable value replaced by compare-and-set on a concurrent map;
 * nobody locks.
 */
public final class ModelDemand {
    private final long tauNanos;
    private final Price price;
    /** Per model, its figures; the map only grows, each value is swapped by compare-and-set. */
    private final Map<String, AtomicReference<Figures>> models = new ConcurrentHashMap<>();
    private volatile ToIntFunction<String> queued = m -> 0;
    private volatile long firstNanos = Long.MIN_VALUE;

    /** What a request of a model of the given mean size costs on the fleet's typical backend, alone and warm. */
    @FunctionalInterface
    public interface Price {
        /** Nanoseconds of work of a request of {@code model} with these prompt tokens and output share. */
        double nanos(String model, double promptTokens, double outputShare);
    }

    /** One model's decayed arrival count and mean request size, as of {@code at}. */
    private record Figures(double count, double prompt, double output, long at) {
    }

    /**
     * @param tauNanos how far back demand is remembered (the decay's time constant)
     * @param price    how a mean request size becomes work, asked each time work is read
     */
    public ModelDemand(long tauNanos, Price price) {
        this.tauNanos = tauNanos;
        this.price = price;
    }

    /** How waiting requests are counted per model (the scheduler's queues). */
    void queueDepths(ToIntFunction<String> depth) {
        queued = depth;
    }

    /**
     * A request for {@code model} arrived at {@code now} with {@code promptTokens} of prompt, allowed
     * {@code outputShare} of the model's expected answer (1 when uncapped, 0 for an embedding).
     */
    public void arrived(String model, int promptTokens, double outputShare, long now) {
        if (firstNanos == Long.MIN_VALUE) {
            firstNanos = now;
        }
        // A compare-and-set on the model's own reference rather than the map's compute(): no lambda per arrival and
        // no lock on the map bin that every event loop takes for the same model.
        AtomicReference<Figures> ref = models.get(model);
        if (ref == null) {
            ref = models.computeIfAbsent(model, k -> new AtomicReference<>());
        }
        for (;;) {
            Figures f = ref.get();
            Figures next;
            if (f == null) {
                next = new Figures(1, promptTokens, outputShare, now);
            } else {
                double count = decayed(f, now);
                // Means weighted like the count, so they follow the same window.
                double prompt = (f.prompt * count + promptTokens) / (count + 1);
                double output = (f.output * count + outputShare) / (count + 1);
                next = new Figures(count + 1, prompt, output, Math.max(now, f.at));
            }
            if (ref.compareAndSet(f, next)) {
                return;
            }
        }
    }

    /** {@code model}'s figures, or {@code null} before its first arrival. */
    private Figures figures(String model) {
        AtomicReference<Figures> ref = models.get(model);
        return ref == null ? null : ref.get();
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
        Figures f = figures(model);
        if (f == null) {
            return 0;
        }
        double window = tauNanos;
        if (firstNanos != Long.MIN_VALUE && now - firstNanos < tauNanos) {
            window = Math.max(tauNanos / 10.0, now - firstNanos);
        }
        return decayed(f, now) / (window / 1e9);
    }

    /**
     * How many arrivals {@link #rate} rests on now (the decayed count): how sure it is, a Poisson count's relative
     * error being one over its square root.
     */
    public double arrivals(String model, long now) {
        Figures f = figures(model);
        return f == null ? 0 : decayed(f, now);
    }

    /** Mean expected work of one request of {@code model}, nanoseconds, priced now (0 when none seen). */
    public double workNanos(String model) {
        Figures f = figures(model);
        return f == null ? 0 : price.nanos(model, f.prompt, f.output);
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

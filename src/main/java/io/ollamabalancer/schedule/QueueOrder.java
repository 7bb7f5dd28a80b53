package io.ollamabalancer.schedule;

import java.util.Locale;

/**
 * How requests of equal priority are ordered in their model's queue. Stateless.
 *
 * <p>{@link #SJF} orders by {@code enqueued + aging × expectedService} (both in nanoseconds; the service time is
 * the request's expected time on the fleet's typical backend). A short job may overtake a long one only if it
 * arrived less than {@code aging × (long − short)} later, so every job's wait behind later arrivals is bounded by
 * {@code aging ×} its own expected service time: shortest-expected-job-first with aging, as one static key that
 * a skip list (or a Redis sorted set) can hold. {@link #FIFO} is the same with {@code aging = 0}.
 */
public enum QueueOrder {
    FIFO,
    SJF;

    /** The ordering value of a request enqueued at {@code enqueuedNanos} (smaller leaves first). */
    public long key(long enqueuedNanos, long expectedServiceNanos, double aging) {
        if (this == FIFO || aging <= 0) {
            return enqueuedNanos;
        }
        long bounded = Math.max(0, Math.min(expectedServiceNanos, 86_400_000_000_000L));
        double extra = aging * bounded;
        long add = extra >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) extra;
        long sum = enqueuedNanos + add;
        // saturate rather than wrap: a huge aging factor means "never overtaken by age", not "first"
        return ((enqueuedNanos ^ sum) & (add ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }

    /** {@code fifo} or {@code sjf}, case-insensitive. */
    public static QueueOrder parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("unknown queue order '" + name + "'; expected fifo or sjf");
        }
    }
}

package io.ollamabalancer.cluster;

/**
 * Encodes a queue position — priority (higher first), then order (earlier first) — as one Redis sorted-set score
 * where <em>smaller is better</em>, so {@code ZRANGE} and {@code ZCOUNT} see the same order as the local
 * {@code ModelQueue.QueueKey} (whose third field, the arrival sequence, is local and replaced across replicas by
 * the member name). Stateless.
 *
 * <p>The score is an integer below 2<sup>53</sup>, so a double holds it exactly: 10 bits of priority (clamped to
 * [-512, 511]; the balancer uses [-100, 100]) above 43 bits of milliseconds since 2024-01-01 UTC (enough until the
 * year 2302). Orders are wall-clock milliseconds so that replicas can compare them; replicas' clocks should agree
 * to within a few milliseconds (NTP), or requests of equal priority are ranked by the skewed clocks.
 */
public final class QueueScore {
    /** Orders are counted from 2024-01-01T00:00:00Z. */
    static final long ORDER_BASE_MILLIS = 1_704_067_200_000L;
    static final int MIN_PRIORITY = -512;
    static final int MAX_PRIORITY = 511;
    private static final int ORDER_BITS = 43;
    private static final long ORDER_MASK = (1L << ORDER_BITS) - 1;

    /** The score of "nothing waiting": worse than every real entry. */
    public static final long NONE = Long.MAX_VALUE;

    private QueueScore() {
    }

    /**
     * @param priority         larger runs first
     * @param orderEpochMillis smaller runs first within a priority (enqueue time, or a deadline), epoch millis
     */
    public static long of(int priority, long orderEpochMillis) {
        int p = Math.max(MIN_PRIORITY, Math.min(MAX_PRIORITY, priority));
        long o = Math.max(0, Math.min(ORDER_MASK, orderEpochMillis - ORDER_BASE_MILLIS));
        return ((long) (MAX_PRIORITY - p) << ORDER_BITS) | o;
    }

    public static int priority(long score) {
        return MAX_PRIORITY - (int) (score >>> ORDER_BITS);
    }

    public static long orderEpochMillis(long score) {
        return (score & ORDER_MASK) + ORDER_BASE_MILLIS;
    }

    /** The score as Redis arguments want it ("inf" for {@link #NONE}). */
    static String arg(long score) {
        return score == NONE ? "inf" : Long.toString(score);
    }
}

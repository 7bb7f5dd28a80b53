package io.ollamabalancer.schedule;

import java.util.Arrays;

/**
 * When a backend's slots are expected to be free, as one decision of the {@code eft} plan sees them
 * ({@link Predictor#slotForecast}): {@code times} in nanoseconds from now, ascending (0: free now; the plan
 * reserves slots in it as it places requests), and {@code unlisted} more busy slots left out of {@code times}, each
 * free no sooner than its last entry, {@link Long#MAX_VALUE}: they only count as streams running.
 *
 * <p>A forecast may be partial: it lists only as many idle slots as were asked for, and then the busy ones only as
 * a count. It holds while the plan takes idle slots from it; once its listed idle slots are all reserved
 * ({@link #exhausted()}), the plan asks for a fuller one and {@link #replaceWith takes it}, its reservations
 * replayed. So a decision predicts the end of each running job on a backend only when it may place a request
 * behind them: on a backend with hundreds of slots, not for every decision.
 *
 * <p>Mutable (through {@link #reserve} and {@link #replaceWith}); one forecast belongs to one decision on one thread.
 */
final class SlotForecast {
    private long[] times;
    private int unlisted;
    private boolean partial;
    /** The finishes reserved so far, in order, replayed on a fuller forecast; null until the first. */
    private long[] reserved;
    private int reservations;

    /**
     * @param partial whether idle slots beyond those listed may exist (the listing stopped at the number asked for)
     */
    SlotForecast(long[] times, int unlisted, boolean partial) {
        this.times = times;
        this.unlisted = unlisted;
        this.partial = partial;
    }

    /** The listed slots' times, ascending. */
    long[] times() {
        return times;
    }

    /** Busy slots not in {@link #times()}. */
    int unlisted() {
        return unlisted;
    }

    /** Slots this decision has reserved on this backend. */
    int reservations() {
        return reservations;
    }

    /**
     * Whether the listed idle slots are all reserved while the backend may have more, or busy slots that end before
     * the earliest listed time: the plan must not read {@code times()[0]} before a fuller forecast replaced this one.
     */
    boolean exhausted() {
        return partial && times.length > 0 && times[0] != 0;
    }

    /**
     * The earliest slot ({@code times()[0]}) is taken until {@code finish}: moved to its place among the later ones.
     * The array stays ascending when it was, and its leading zeros stay in front when only those were listed.
     */
    void reserve(long finish) {
        if (reserved == null) {
            reserved = new long[4];
        } else if (reservations == reserved.length) {
            reserved = Arrays.copyOf(reserved, reservations * 2);
        }
        reserved[reservations++] = finish;
        place(times, finish);
    }

    private static void place(long[] free, long finish) {
        long v = Math.max(free[0], finish);
        int j = 0;
        while (j + 1 < free.length && free[j + 1] < v) {
            free[j] = free[j + 1];
            j++;
        }
        free[j] = v;
    }

    /**
     * Takes {@code fuller}'s figures (a fuller forecast of the same backend at the same instant), with this one's
     * reservations made again on them, so every holder of this one sees them.
     */
    void replaceWith(SlotForecast fuller) {
        times = fuller.times;
        unlisted = fuller.unlisted;
        partial = fuller.partial;
        for (int i = 0; i < reservations; i++) {
            place(times, reserved[i]);
        }
    }

    /** Streams running at {@code start} (slots still busy then, unlisted ones included) plus the new one. */
    int streamsAt(long start) {
        int busy = unlisted;
        for (long t : times) {
            if (t > start) {
                busy++;
            }
        }
        return busy + 1;
    }

    /** Whether some busy slots were only counted, not predicted (the times end with {@link Long#MAX_VALUE}). */
    boolean countedOnly() {
        return times.length > 0 && times[times.length - 1] == Long.MAX_VALUE;
    }
}

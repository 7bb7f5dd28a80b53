package io.ollamabalancer.schedule;

/**
 * When a backend's slots are expected to be free, as one decision of the {@code eft} plan sees them
 * ({@link Predictor#slotForecast}): {@code times} in nanoseconds from now, ascending (0: free now; the plan
 * reserves slots in it as it places requests), and {@code unlisted} more busy slots left out of {@code times}, each
 * free no sooner than its last entry, {@link Long#MAX_VALUE}: they only count as streams running.
 *
 * <p>Mutable (through {@code times}, and {@link #replaceWith}); one forecast belongs to one decision on one thread.
 */
final class SlotForecast {
    private long[] times;
    private int unlisted;

    SlotForecast(long[] times, int unlisted) {
        this.times = times;
        this.unlisted = unlisted;
    }

    /** The listed slots' times, ascending; the plan's to change. */
    long[] times() {
        return times;
    }

    /** Busy slots not in {@link #times()}. */
    int unlisted() {
        return unlisted;
    }

    /** Takes {@code other}'s figures (a fuller forecast of the same backend), so every holder of this one sees them. */
    void replaceWith(SlotForecast other) {
        times = other.times;
        unlisted = other.unlisted;
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

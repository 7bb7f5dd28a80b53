package io.ollamabalancer.schedule;

import io.ollamabalancer.estimate.DecodeShare;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The streams this balancer runs on one backend over time, as running integrals: for each β of
 * {@link DecodeShare}'s grid, ∫ 1 / (1 + β (k − 1)) dt, and ∫ (k − 1) dt, where k is the number of streams
 * running. Two {@link Mark}s taken at a response's start and end give what its decode shared with the others, however
 * often streams came and went meanwhile ({@link #between}).
 *
 * <p>Thread-safe and lock-free: the state is one immutable {@link Mark} replaced by compare-and-set on every start
 * and finish, which come from any event loop; readers take it as published.
 */
final class StreamTime {
    private final AtomicReference<Mark> state = new AtomicReference<>(Mark.ZERO);

    /**
     * The integrals up to {@code nanos}, with the {@code level} streams running from then on.
     *
     * @param integral ∫ 1 / (1 + β (k − 1)) dt in seconds for each β of the grid; owned by the mark, never changed
     * @param extra    ∫ (k − 1) dt in seconds
     */
    record Mark(long nanos, int level, double[] integral, double extra) {
        static final Mark ZERO = new Mark(Long.MIN_VALUE, 0, new double[DecodeShare.GRID], 0);

        /** The integrals carried on to {@code now} at this level, and the level {@code next} from there. */
        Mark advance(long now, int next) {
            double seconds = nanos == Long.MIN_VALUE ? 0 : Math.max(0, now - nanos) / 1e9;
            double[] i = integral;
            double e = extra;
            if (level > 0 && seconds > 0) {
                i = integral.clone();
                for (int g = 0; g < DecodeShare.GRID; g++) {
                    i[g] += seconds * DecodeShare.at(g, level);
                }
                e += seconds * (level - 1);
            }
            return new Mark(Math.max(now, nanos), next, i, e);
        }
    }

    /** The streams running now by this ledger. */
    int streams() {
        return state.get().level();
    }

    /** A stream starts at {@code now}; returns the mark just after it (its level counts the new stream). */
    Mark start(long now) {
        for (;;) {
            Mark m = state.get();
            Mark next = m.advance(now, m.level + 1);
            if (state.compareAndSet(m, next)) {
                return next;
            }
        }
    }

    /** A stream ends at {@code now}; returns the mark just after it (its integrals run to now). */
    Mark finish(long now) {
        for (;;) {
            Mark m = state.get();
            Mark next = m.advance(now, Math.max(0, m.level - 1));
            if (state.compareAndSet(m, next)) {
                return next;
            }
        }
    }

    /**
     * What a response that started at {@code from} and ended at {@code to}, decoding for its last {@code decodeNanos},
     * shared with the others; null when that cannot be told. The time before its decode (the prefill, the trip) is
     * taken at the level it started at, which is close when that time is short. When it is longer than the decode
     * (a model load, or a wait for one), streams that came or went meanwhile would be counted in the decode or
     * taken out of it, and the share could come out anywhere: null. A decode too short to measure counts as run at
     * the starting level throughout.
     */
    static DecodeShare between(Mark from, Mark to, long decodeNanos) {
        long life = to.nanos - from.nanos;
        double seconds = Math.min(life, decodeNanos) / 1e9;
        if (seconds < 1e-3) {
            return DecodeShare.constant(from.level);
        }
        double before = Math.max(0, life / 1e9 - seconds);
        if (before > seconds) {
            return null;
        }
        // The time before the decode is taken at the starting level; when streams arrived in a burst meanwhile, that
        // takes out far more than those seconds held, and what is left of the decode's part can come out near zero
        // (a burst of 5,000 streams made shares of 1e-6 and single-stream speeds of millions). Bounds that hold
        // whatever happened: the other streams during the decode cannot exceed all of those over the response's
        // life, so their time-mean is at most that total over the decode's seconds; and the mean of 1 / (1 + β (k −
        // 1)) is at least its value at the mean k (Jensen), so at least its value at that bound.
        double extraBound = (to.extra - from.extra) / seconds;
        double[] share = new double[DecodeShare.GRID];
        for (int g = 0; g < DecodeShare.GRID; g++) {
            double during = to.integral[g] - from.integral[g] - before * DecodeShare.at(g, from.level);
            share[g] = Math.max(during / seconds, DecodeShare.at(g, 1 + extraBound));
        }
        double extra = Math.min(extraBound, (to.extra - from.extra - before * (from.level - 1)) / seconds);
        return DecodeShare.of(share, extra);
    }
}

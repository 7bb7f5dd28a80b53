package io.ollamabalancer.schedule;

import java.util.concurrent.atomic.AtomicReference;

/**
 * A time before which no job this scheduler runs on one backend is predicted to end ({@code System.nanoTime()}
 * scale), so a decision can tell that a full backend cannot win without predicting each of its jobs
 * ({@link Predictor#busyFinishBound}).
 *
 * <p>Why a floor taken once stays a floor: a job's predicted end, now plus its predicted remaining time, never moves
 * earlier as time passes. Its expected remaining output, given what it has generated, falls by at most one token per
 * token generated; the generic prediction is memoryless; and whatever weight the plan gives each, the end is no
 * earlier than the sooner of the two ({@link Predictor#endFloorNanos}). Jobs that end only raise the true earliest
 * end; a job that starts lowers the floor to its own. (Learning moves predictions a little either way; a floor
 * that is then a little late costs at most a near tie, decided for a backend with a free slot.)
 *
 * <p>Thread-safe and lock-free: one immutable {@link Mark} replaced by compare-and-set, at every start too. A full
 * forecast raises the floor only if no start came since it read the mark it replaces (the job that started may be
 * missing from what it predicted).
 */
final class EndFloor {
    /** The floor; {@link Long#MIN_VALUE} while nothing is known. Identity is the version. */
    record Mark(long nanos) {
    }

    private final AtomicReference<Mark> state = new AtomicReference<>(new Mark(Long.MIN_VALUE));

    /** The mark now: read it before predicting the jobs, to hand it to {@link #refreshed}. */
    Mark current() {
        return state.get();
    }

    /**
     * A job started that ends no sooner than {@code endNanos}: a known floor falls to it if it is later. The mark is
     * replaced even when the floor stays, so that a forecast that read the mark before this job was running cannot
     * raise the floor past it ({@link #refreshed}).
     */
    void started(long endNanos) {
        for (;;) {
            Mark m = state.get();
            // Unknown stays unknown: the jobs already running have no floor yet.
            Mark next = new Mark(m.nanos() == Long.MIN_VALUE ? Long.MIN_VALUE : Math.min(m.nanos(), endNanos));
            if (state.compareAndSet(m, next)) {
                return;
            }
        }
    }

    /**
     * Every job running was just predicted, the earliest ending no sooner than {@code nanos}: the floor becomes that,
     * unless a job started since {@code seen} was read (it may be missing from the prediction).
     */
    void refreshed(Mark seen, long nanos) {
        state.compareAndSet(seen, new Mark(nanos));
    }
}

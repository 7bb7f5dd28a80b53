package io.ollamabalancer.metrics;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A histogram recorder for values recorded on the hot path by a few long-lived threads (the event loops relaying
 * streamed chunks): each recording thread gets its own {@link SingleWriterRecorder} and sum, so a recording touches
 * no memory another thread writes — no contended atomic, no cache line bouncing between event loops. The reader
 * merges them.
 *
 * <p>Why not one shared {@code Recorder}: every token of every stream is recorded, into three series (overall,
 * model, backend); with a shared recorder each recording is a handful of atomic read-modify-writes on lines all
 * event loops write (the phaser's epochs, the total count, the sum's adder), which showed in the per-chunk CPU
 * profile (issue #11).
 *
 * <p>Memory: one histogram of the given range and precision per thread that ever recorded into this series, until
 * that thread ends (a dead thread's recorder is dropped at the next {@link #drainInto} after its last values are
 * taken; a few bytes for its sum stay). The balancer's event loops are few (one per core) and live as long as the process.
 *
 * <p>Threading: {@link #record} from any thread (wait-free; a thread's first recording registers it). {@link
 * #drainInto} and {@link #sum} from any thread, {@link #drainInto} by one reader at a time (the owner's roll lock).
 * Holds no buffers.
 */
final class PerThreadRecorder {
    private final long highest;
    private final int digits;
    private final CopyOnWriteArrayList<Writer> writers = new CopyOnWriteArrayList<>();
    private final ThreadLocal<Writer> mine = ThreadLocal.withInitial(this::register);

    /** Values from 1 to {@code highest} at {@code digits} significant digits; larger ones must be clamped. */
    PerThreadRecorder(long highest, int digits) {
        this.highest = highest;
        this.digits = digits;
    }

    /**
     * One thread's recorder and the sum of what it recorded (written only by that thread). Once the thread has
     * ended and its last values were drained, the reader drops the thread and the recorder; the sum stays.
     */
    private static final class Writer {
        Thread owner;
        SingleWriterRecorder recorder;
        final AtomicLong sum = new AtomicLong();
        /** The reader's spare interval histogram, handed back to the recorder next time. */
        Histogram recycle;

        Writer(Thread owner, long highest, int digits) {
            this.owner = owner;
            this.recorder = new SingleWriterRecorder(1, highest, digits);
        }
    }

    private Writer register() {
        Writer w = new Writer(Thread.currentThread(), highest, digits);
        writers.add(w);
        return w;
    }

    /** Records one value (1 to the range's highest) on the calling thread's recorder. */
    void record(long value) {
        Writer w = mine.get();
        w.recorder.recordValue(value);
        // Single writer: an ordered store of its own running total, no read-modify-write race to guard against.
        w.sum.lazySet(w.sum.get() + value);
    }

    /** Adds what every thread recorded since the last call to each of {@code targets}; one reader at a time. */
    void drainInto(Histogram... targets) {
        for (Writer w : writers) {
            if (w.recorder == null) {
                continue;
            }
            boolean ended = !w.owner.isAlive();
            Histogram interval = w.recorder.getIntervalHistogram(w.recycle);
            if (interval.getTotalCount() > 0) {
                for (Histogram t : targets) {
                    t.add(interval);
                }
            }
            w.recycle = interval;
            if (ended) {
                // Nothing more can come from it (its values were just taken): free the histograms, keep the sum.
                w.owner = null;
                w.recorder = null;
                w.recycle = null;
            }
        }
    }

    /** The exact sum of the recorded values, whether drained yet or not. */
    long sum() {
        long s = 0;
        for (Writer w : writers) {
            s += w.sum.get();
        }
        return s;
    }
}

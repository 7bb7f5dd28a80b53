package io.ollamabalancer.schedule;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The waiting requests of one model, best first: higher priority, then the smaller ordering value (the enqueue
 * time for FIFO), then arrival sequence.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Backed by {@link ConcurrentSkipListMap}: {@link #offer}, {@link #peek} and {@link #remove} are lock-free
 *       and linearizable, callable from any number of threads at once.</li>
 *   <li>{@link #remove} returns {@code true} to exactly one caller per offered request, so among racing dispatchers
 *       exactly one wins a request; the others must give back whatever they reserved for it.</li>
 *   <li>The ordering key is a plain {@code (priority, order, seq)} triple so it can be mirrored elsewhere.</li>
 *   <li>{@link #size} and {@link #pendingWorkNanos} are exact once concurrent calls finish, approximate while they
 *       run.</li>
 * </ul>
 */
public final class ModelQueue {
    private static final AtomicLong SEQ = new AtomicLong();

    private final String modelKey;
    private final ConcurrentSkipListMap<QueueKey, PendingRequest> entries = new ConcurrentSkipListMap<>();
    private final AtomicInteger size = new AtomicInteger();
    private final AtomicLong pendingWork = new AtomicLong();

    public ModelQueue(String modelKey) {
        this.modelKey = modelKey;
    }

    public String modelKey() {
        return modelKey;
    }

    /**
     * Adds a request under the given ordering value (smaller is served first within a priority), which is also its
     * {@linkplain PendingRequest#mirrorOrderNanos() mirror order} (no fair-share tag without a scheduler).
     */
    public QueueKey offer(PendingRequest request, long order) {
        QueueKey key = keyFor(request, order);
        request.mirrorOrderNanos(order);
        offer(key, request);
        return key;
    }

    /** A fresh key for {@code request}; arrival sequence breaks ties, so keys are unique. */
    public QueueKey keyFor(PendingRequest request, long order) {
        return new QueueKey(request.priority(), order, SEQ.incrementAndGet());
    }

    /** Adds a request under a key from {@link #keyFor} (lets the caller record the key before others see it). */
    public void offer(QueueKey key, PendingRequest request) {
        entries.put(key, request);
        size.incrementAndGet();
        pendingWork.addAndGet(request.referenceWorkNanos());
    }

    /** The best entry, or {@code null} when empty. */
    public Map.Entry<QueueKey, PendingRequest> peek() {
        return entries.firstEntry();
    }

    /** Removes the entry; true for exactly one caller. */
    public boolean remove(QueueKey key, PendingRequest request) {
        boolean removed = entries.remove(key, request);
        if (removed) {
            size.decrementAndGet();
            pendingWork.addAndGet(-request.referenceWorkNanos());
        }
        return removed;
    }

    public int size() {
        return Math.max(0, size.get());
    }

    /** Sum of the waiting requests' expected service on the fleet's typical backend (for drain estimates). */
    public long pendingWorkNanos() {
        return Math.max(0, pendingWork.get());
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** A weakly consistent view, oldest key first, for sweeps and status. */
    public Iterable<Map.Entry<QueueKey, PendingRequest>> entries() {
        return entries.entrySet();
    }

    /**
     * The ordering key: a higher {@code priority} first, then a smaller {@code order}, then a smaller {@code seq}.
     */
    public record QueueKey(int priority, long order, long seq) implements Comparable<QueueKey> {
        @Override
        public int compareTo(QueueKey o) {
            int c = Integer.compare(o.priority, priority);
            if (c != 0) {
                return c;
            }
            c = Long.compare(order, o.order);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }
}

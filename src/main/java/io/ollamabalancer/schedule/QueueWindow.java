package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The first waiting requests of one model's queue, best first, with the backends each could run on, as a policy
 * sees them during one decision. Filled lazily: a policy that only looks at the head pays for the head only.
 * Cancelled requests and requests nobody can serve are dropped by the scheduler while the window fills.
 *
 * <p>Not thread-safe: one window belongs to one decision on one thread.
 */
public final class QueueWindow {
    private final Iterator<Map.Entry<ModelQueue.QueueKey, PendingRequest>> source;
    private final Function<Map.Entry<ModelQueue.QueueKey, PendingRequest>, List<Backend>> admit;
    private final int limit;
    private final List<Map.Entry<ModelQueue.QueueKey, PendingRequest>> entries = new ArrayList<>(4);
    private final List<List<Backend>> candidates = new ArrayList<>(4);

    /**
     * @param admit gives an entry's candidate backends, or {@code null} to leave it out of the window
     */
    QueueWindow(Iterator<Map.Entry<ModelQueue.QueueKey, PendingRequest>> source, int limit,
                Function<Map.Entry<ModelQueue.QueueKey, PendingRequest>, List<Backend>> admit) {
        this.source = source;
        this.limit = limit;
        this.admit = admit;
    }

    /** A window holding one request (for deciding about a single request outside any queue). */
    public static QueueWindow of(PendingRequest request, List<Backend> candidates) {
        Map.Entry<ModelQueue.QueueKey, PendingRequest> e =
                new AbstractMap.SimpleImmutableEntry<>(new ModelQueue.QueueKey(request.priority(), 0, 0), request);
        return new QueueWindow(List.of(e).iterator(), 1, x -> candidates);
    }

    /** Whether the window has an {@code i}-th request (filling it up to there). */
    public boolean has(int i) {
        while (entries.size() <= i && entries.size() < limit && source.hasNext()) {
            Map.Entry<ModelQueue.QueueKey, PendingRequest> e = source.next();
            List<Backend> c = admit.apply(e);
            if (c != null && !c.isEmpty()) {
                entries.add(e);
                candidates.add(c);
            }
        }
        return i < entries.size();
    }

    public PendingRequest request(int i) {
        return entries.get(i).getValue();
    }

    /** Available backends that have the request's model and are not excluded for it; never empty. */
    public List<Backend> candidates(int i) {
        return candidates.get(i);
    }

    Map.Entry<ModelQueue.QueueKey, PendingRequest> entry(int i) {
        return entries.get(i);
    }
}

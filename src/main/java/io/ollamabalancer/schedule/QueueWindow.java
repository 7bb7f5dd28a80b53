package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.PriorityQueue;
import java.util.function.Function;

/**
 * The first waiting requests across every model's queue, best first by their {@link ModelQueue.QueueKey} (priority,
 * then ordering value, then arrival), with the backends each could run on, as a policy sees them during one
 * decision. Planning across models matters: two models' requests compete for the same backends' slots. Filled
 * lazily by a k-way merge of the queues, so a policy that only looks at the head pays for the head only.
 * Cancelled requests and requests nobody can serve are dropped by the scheduler while the window fills.
 *
 * <p>Past its limit, a window over several queues takes the head of each model's queue that has none in the window
 * yet: otherwise, with more waiting requests of other models ahead of it than the limit, a model's requests were not
 * looked at while a backend that holds only that model sat idle (DES, swap fleet at 80 %: the fast backend idle with
 * a hundred of its model's requests waiting behind the slow backends' queues).
 *
 * <p>Not thread-safe: one window belongs to one decision on one thread.
 */
public final class QueueWindow {
    private final Iterator<Map.Entry<ModelQueue.QueueKey, PendingRequest>> source;
    private final Function<Map.Entry<ModelQueue.QueueKey, PendingRequest>, List<Backend>> admit;
    private final int limit;
    private final List<Map.Entry<ModelQueue.QueueKey, PendingRequest>> entries = new ArrayList<>(4);
    private final List<List<Backend>> candidates = new ArrayList<>(4);
    /** The queues of a merged window (null for one queue): past the limit, their heads are offered. */
    private final Collection<ModelQueue> queues;
    /** Those heads, read when the limit is first reached (a decision that stops earlier never reads them). */
    private List<Map.Entry<ModelQueue.QueueKey, PendingRequest>> heads;
    private int headAt;

    /**
     * @param admit gives an entry's candidate backends, or {@code null} to leave it out of the window
     */
    QueueWindow(Iterator<Map.Entry<ModelQueue.QueueKey, PendingRequest>> source, int limit,
                Function<Map.Entry<ModelQueue.QueueKey, PendingRequest>, List<Backend>> admit) {
        this(source, limit, admit, null);
    }

    private QueueWindow(Iterator<Map.Entry<ModelQueue.QueueKey, PendingRequest>> source, int limit,
                        Function<Map.Entry<ModelQueue.QueueKey, PendingRequest>, List<Backend>> admit,
                        Collection<ModelQueue> queues) {
        this.source = source;
        this.limit = limit;
        this.admit = admit;
        this.queues = queues;
    }

    /** A window over several queues, merged in key order (no merge when only one has entries). */
    static QueueWindow merged(Collection<ModelQueue> queues, int limit,
                              Function<Map.Entry<ModelQueue.QueueKey, PendingRequest>, List<Backend>> admit) {
        ModelQueue only = null;
        for (ModelQueue q : queues) {
            if (!q.isEmpty()) {
                if (only != null) {
                    return new QueueWindow(new Merge(queues), limit, admit, queues);
                }
                only = q;
            }
        }
        Iterator<Map.Entry<ModelQueue.QueueKey, PendingRequest>> source =
                only == null ? Collections.emptyIterator() : only.entries().iterator();
        return new QueueWindow(source, limit, admit);
    }

    /** A window holding one request (for deciding about a single request outside any queue). */
    public static QueueWindow of(PendingRequest request, List<Backend> candidates) {
        Map.Entry<ModelQueue.QueueKey, PendingRequest> e =
                new AbstractMap.SimpleImmutableEntry<>(new ModelQueue.QueueKey(request.priority(), 0, 0), request);
        return new QueueWindow(List.of(e).iterator(), 1, x -> candidates);
    }

    /** Whether the window has an {@code i}-th request (filling it up to there). */
    public boolean has(int i) {
        while (entries.size() <= i) {
            if (entries.size() < limit && source.hasNext()) {
                take(source.next());
            } else if (!takeNextHead()) {
                break;
            }
        }
        return i < entries.size();
    }

    /**
     * Past the limit of a merged window, offers the next queue head whose model has nothing in the window yet;
     * false when there is none (or the window is not past its limit, or holds one queue).
     */
    private boolean takeNextHead() {
        if (queues == null || entries.size() < limit) {
            return false;
        }
        if (heads == null) {
            heads = new ArrayList<>();
            for (ModelQueue q : queues) {
                Iterator<Map.Entry<ModelQueue.QueueKey, PendingRequest>> it = q.entries().iterator();
                if (it.hasNext()) {
                    heads.add(it.next());
                }
            }
        }
        while (headAt < heads.size()) {
            Map.Entry<ModelQueue.QueueKey, PendingRequest> h = heads.get(headAt++);
            if (!holdsModel(h.getValue().modelKey())) {
                take(h);
                return true;
            }
        }
        return false;
    }

    private void take(Map.Entry<ModelQueue.QueueKey, PendingRequest> e) {
        List<Backend> c = admit.apply(e);
        if (c != null && !c.isEmpty()) {
            entries.add(e);
            candidates.add(c);
        }
    }

    private boolean holdsModel(String modelKey) {
        for (int j = 0, n = entries.size(); j < n; j++) {
            if (entries.get(j).getValue().modelKey().equals(modelKey)) {
                return true;
            }
        }
        return false;
    }

    public PendingRequest request(int i) {
        return entries.get(i).getValue();
    }

    /** Available backends that have the request's model and are not excluded for it; never empty. Requests of one model that failed nowhere may share one list within a decision: read it, never change it. */
    public List<Backend> candidates(int i) {
        return candidates.get(i);
    }

    Map.Entry<ModelQueue.QueueKey, PendingRequest> entry(int i) {
        return entries.get(i);
    }

    /** K-way merge of the queues' weakly consistent iterators by key. */
    private static final class Merge implements Iterator<Map.Entry<ModelQueue.QueueKey, PendingRequest>> {
        private final PriorityQueue<Head> heads = new PriorityQueue<>();

        Merge(Collection<ModelQueue> queues) {
            for (ModelQueue q : queues) {
                if (!q.isEmpty()) {
                    Iterator<Map.Entry<ModelQueue.QueueKey, PendingRequest>> it = q.entries().iterator();
                    if (it.hasNext()) {
                        heads.add(new Head(it.next(), it));
                    }
                }
            }
        }

        @Override
        public boolean hasNext() {
            return !heads.isEmpty();
        }

        @Override
        public Map.Entry<ModelQueue.QueueKey, PendingRequest> next() {
            Head h = heads.poll();
            if (h == null) {
                throw new NoSuchElementException();
            }
            if (h.rest.hasNext()) {
                heads.add(new Head(h.rest.next(), h.rest));
            }
            return h.entry;
        }

        private record Head(Map.Entry<ModelQueue.QueueKey, PendingRequest> entry,
                            Iterator<Map.Entry<ModelQueue.QueueKey, PendingRequest>> rest)
                implements Comparable<Head> {
            @Override
            public int compareTo(Head o) {
                return entry.getKey().compareTo(o.entry.getKey());
            }
        }
    }
}

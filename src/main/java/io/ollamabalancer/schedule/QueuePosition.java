package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;

import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Where one waiting request stands in its model's queue, and when the scheduler expects it to start and finish: a
 * read-only answer made only when someone asks ({@code GET /balancer/requests/{id}}), never on the dispatch path.
 * Immutable.
 *
 * <p>The estimate replays the queue ahead of the request on the candidates' slots with the scheduler's own figures:
 * each slot is free when {@link Predictor#slotFreeTimes} says, and each request ahead takes the earliest free slot
 * for its reference service time ({@link Predictor#size}); the request starts on the next free slot
 * and runs for its own. Requests of other models competing for the same backends are not counted, nor are a
 * policy's choices to wait for a faster backend, so it is an estimate, not a promise.
 *
 * @param modelKey          the queue (normalised model)
 * @param priority          the request's priority
 * @param position          1 for the next to leave the queue
 * @param ahead             waiting requests ahead of it in its queue ({@code position - 1})
 * @param depth             waiting requests in its queue, itself included
 * @param waitedNanos       how long it has waited so far
 * @param startInNanos      expected time from now until it is dispatched
 * @param finishInNanos     expected time from now until its answer ends
 */
public record QueuePosition(String modelKey, int priority, int position, int ahead, int depth, long waitedNanos,
                            long startInNanos, long finishInNanos) {

    /**
     * The position of {@code request} in {@code queue}, or {@code null} when it is not waiting there (dispatched,
     * cancelled, or not yet offered). Walks the queue once (weakly consistent); costs O(depth + ahead × log slots).
     */
    static QueuePosition of(ModelQueue queue, PendingRequest request, Predictor predictor, List<Backend> candidates) {
        ModelQueue.QueueKey key = request.queueKey();
        if (key == null || request.state() != PendingRequest.State.QUEUED) {
            return null;
        }
        int ahead = 0;
        int depth = 0;
        boolean found = false;
        long[] work = new long[8];
        for (Map.Entry<ModelQueue.QueueKey, PendingRequest> e : queue.entries()) {
            PendingRequest r = e.getValue();
            if (r.isCancelled()) {
                continue;
            }
            depth++;
            if (r == request) {
                found = true;
            } else if (!found) {
                if (ahead == work.length) {
                    work = java.util.Arrays.copyOf(work, ahead * 2);
                }
                work[ahead++] = r.referenceWorkNanos();
            }
        }
        if (!found) {
            return null;
        }
        long now = predictor.now();
        long own = Math.max(1, request.referenceWorkNanos());
        long start = replay(work, ahead, predictor, candidates, now, own);
        return new QueuePosition(queue.modelKey(), request.priority(), ahead + 1, ahead, depth,
                Math.max(0, now - request.enqueuedNanos()), start, saturatedAdd(start, own));
    }

    /** When the request after {@code n} requests of the given work starts, from now, on the candidates' slots. */
    private static long replay(long[] work, int n, Predictor predictor, List<Backend> candidates, long now,
                               long unknownNanos) {
        PriorityQueue<Long> free = new PriorityQueue<>();
        double w = predictor.confidence();
        for (Backend b : candidates) {
            // Only n + 1 idle slots can ever be used by this replay; busy ones are predicted from running work.
            for (long t : predictor.slotFreeTimes(b, now, w, unknownNanos, n + 1)) {
                free.add(t);
            }
        }
        if (free.isEmpty()) {
            return Long.MAX_VALUE;
        }
        for (int i = 0; i < n; i++) {
            long t = free.poll();
            free.add(saturatedAdd(t, Math.max(1, work[i])));
        }
        return free.peek();
    }

    private static long saturatedAdd(long a, long b) {
        long s = a + b;
        return ((a ^ s) & (b ^ s)) < 0 ? Long.MAX_VALUE : s;
    }
}

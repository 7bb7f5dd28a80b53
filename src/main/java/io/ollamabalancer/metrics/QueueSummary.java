package io.ollamabalancer.metrics;

import io.ollamabalancer.schedule.ModelQueue;
import io.ollamabalancer.schedule.PendingRequest;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one model's queue holds now, as the status document and the dashboard show it. Read through the queue's
 * weakly consistent iterator, so it is a near-instant view, not an atomic one. Immutable once made.
 *
 * @param depth        entries in the queue, cancelled ones not yet swept included
 * @param waiting      entries still waiting (not cancelled)
 * @param oldestWaitMs how long the oldest waiting entry has waited, milliseconds (0 when none waits)
 * @param byPriority   waiting entries per priority, highest priority first
 */
public record QueueSummary(int depth, int waiting, long oldestWaitMs, Map<Integer, Integer> byPriority) {

    /** Summarises {@code q} at {@code nowNanos} (the scheduler's clock). */
    public static QueueSummary of(ModelQueue q, long nowNanos) {
        long oldestEnqueued = Long.MAX_VALUE;
        int counted = 0;
        Map<Integer, Integer> byPriority = new TreeMap<>(Collections.reverseOrder());
        for (Map.Entry<ModelQueue.QueueKey, PendingRequest> e : q.entries()) {
            PendingRequest r = e.getValue();
            if (r.isCancelled()) {
                continue;
            }
            counted++;
            byPriority.merge(e.getKey().priority(), 1, Integer::sum);
            oldestEnqueued = Math.min(oldestEnqueued, r.enqueuedNanos());
        }
        long oldest = counted == 0 ? 0 : Math.max(0, nowNanos - oldestEnqueued) / 1_000_000L;
        return new QueueSummary(q.size(), counted, oldest, Collections.unmodifiableMap(byPriority));
    }
}

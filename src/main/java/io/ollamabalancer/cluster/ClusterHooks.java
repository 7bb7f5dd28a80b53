package io.ollamabalancer.cluster;

/**
 * What the scheduler tells the cluster as requests move. Every method is O(1), lock-free and never touches the
 * network: it records the change and, at most, wakes the cluster thread. Safe to call from any thread, event
 * loops included. {@link #NONE} is the single-replica no-op.
 */
public interface ClusterHooks {
    ClusterHooks NONE = new ClusterHooks() {
        @Override
        public void queued(String model, long requestId, int priority, long orderNanos, int promptTokens,
                           int outputTokens) {
        }

        @Override
        public void left(long requestId) {
        }

        @Override
        public void slotFreed(String backend) {
        }
    };

    /**
     * A request was put in its model's queue.
     *
     * @param model        the queue key
     * @param requestId    unique on this replica (PendingRequest.id)
     * @param priority     as in the local queue key
     * @param orderNanos   the local queue key's order, a {@link System#nanoTime()} instant (the enqueue time)
     * @param promptTokens estimate, informational
     * @param outputTokens estimate, informational
     */
    void queued(String model, long requestId, int priority, long orderNanos, int promptTokens, int outputTokens);

    /** The request left its queue (dispatched, cancelled, expired or rejected). Unknown ids are ignored. */
    void left(long requestId);

    /**
     * A slot of {@code backend} was released locally. Call it <em>after</em> the release and <em>before</em>
     * draining the queues: if another replica's waiting request ranks above all of ours, the grant shrinks here
     * by one so that the drain cannot reuse the slot, and the slot goes back to Redis for that request.
     */
    void slotFreed(String backend);
}

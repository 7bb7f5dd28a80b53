package io.ollamabalancer.schedule;

/**
 * Hears what the scheduler's queues and slots do, for replicas that share a fleet (cluster mode mirrors queue
 * heads and hands freed slots to the globally next request). Called on whichever thread made the change, on the
 * dispatch path: implementations must not block or do I/O there.
 */
public interface QueueListener {

    /** Nobody listens: a single balancer. */
    QueueListener NONE = new QueueListener() {
        @Override
        public void queued(String model, long requestId, int priority, long orderNanos, int promptTokens,
                           int outputTokens) {
        }

        @Override
        public void left(long requestId) {
        }

        @Override
        public boolean slotFreeing(String backend) {
            return false;
        }

        @Override
        public void slotFreed(String backend, boolean yielded) {
        }
    };

    /** A request joined its model's queue under the ordering value {@code orderNanos} (same clock as the queue's). */
    void queued(String model, long requestId, int priority, long orderNanos, int promptTokens, int outputTokens);

    /** The request left its queue (dispatched, cancelled, expired or refused); called once per queued request. */
    void left(long requestId);

    /**
     * A slot on {@code backend} is about to be released. Returns whether it goes to a better request elsewhere: the
     * grant has then already shrunk by one, so no dispatcher on another thread can take the slot in the moment
     * between its release and {@link #slotFreed}. Two completions at once on two event loops could otherwise each
     * see the other's slot free before its yield and start a local request that ranks below one waiting elsewhere.
     */
    boolean slotFreeing(String backend);

    /**
     * The slot announced by {@link #slotFreeing} was released, before waiting work is drained; {@code yielded} is
     * what {@link #slotFreeing} returned.
     */
    void slotFreed(String backend, boolean yielded);
}

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
        public void slotFreed(String backend) {
        }
    };

    /** A request joined its model's queue under the ordering value {@code orderNanos} (same clock as the queue's). */
    void queued(String model, long requestId, int priority, long orderNanos, int promptTokens, int outputTokens);

    /** The request left its queue (dispatched, cancelled, expired or refused); called once per queued request. */
    void left(long requestId);

    /** A slot on {@code backend} was released, before waiting work is drained. */
    void slotFreed(String backend);
}

package io.ollamabalancer.cluster;

import io.ollamabalancer.schedule.QueueListener;

/**
 * What the scheduler tells the cluster as requests move ({@link QueueListener}). In cluster mode every method is
 * O(1), lock-free and never touches the network: it records the change and, at most, wakes the cluster thread. Safe
 * to call from any thread, event loops included.
 *
 * <ul>
 *   <li>{@code queued}: {@code orderNanos} is the local queue key's order, a {@link System#nanoTime()} instant; the
 *       cluster converts it to wall-clock time so replicas compare;</li>
 *   <li>{@code left}: unknown ids are ignored;</li>
 *   <li>{@code slotFreeing}: called <em>before</em> the release: if another replica's waiting request ranks above
 *       all of ours, the grant shrinks here by one so that no dispatcher, on this thread or another, can reuse the
 *       slot, and the slot goes back to Redis for that request;</li>
 *   <li>{@code slotFreed}: called after the release and before draining the queues.</li>
 * </ul>
 */
public interface ClusterHooks extends QueueListener {
}

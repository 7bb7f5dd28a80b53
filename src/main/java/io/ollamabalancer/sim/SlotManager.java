package io.ollamabalancer.sim;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;

/**
 * The server's generation slots ({@code OLLAMA_NUM_PARALLEL}) with a FIFO wait list bounded by
 * {@link SimulatorConfig#maxQueue()}. Slots are per server, not per model (a simplification of Ollama's per-runner
 * slots). Confined to the simulator's event loop.
 */
final class SlotManager {
    /** Someone who wants a slot. */
    interface Waiter {
        /** Runs on the event loop, in a task of its own, once the slot is the waiter's. */
        void onSlotGranted();
    }

    enum Admission { GRANTED, QUEUED, REJECTED }

    private final int slots;
    private final int maxQueue;
    private final SimCounters counters;
    private final Executor loop;
    private final ArrayDeque<Waiter> queue = new ArrayDeque<>();
    private int active;

    SlotManager(int slots, int maxQueue, SimCounters counters, Executor loop) {
        this.slots = slots;
        this.maxQueue = maxQueue;
        this.counters = counters;
        this.loop = loop;
    }

    /**
     * GRANTED: the caller holds a slot now ({@link Waiter#onSlotGranted} is not called). QUEUED: it will be called
     * later. REJECTED: the wait list is full; answer 503.
     */
    Admission acquire(Waiter w) {
        if (active < slots && queue.isEmpty()) {
            take();
            return Admission.GRANTED;
        }
        if (queue.size() >= maxQueue) {
            return Admission.REJECTED;
        }
        queue.addLast(w);
        counters.onWaitingChanged(1);
        return Admission.QUEUED;
    }

    /** Removes a waiter that gave up; false if it was not waiting (it may already have been granted). */
    boolean abandon(Waiter w) {
        if (queue.remove(w)) {
            counters.onWaitingChanged(-1);
            return true;
        }
        return false;
    }

    /** Frees a slot and hands it to the longest waiter. */
    void release() {
        active--;
        counters.onSlotFreed();
        while (active < slots && !queue.isEmpty()) {
            Waiter next = queue.pollFirst();
            counters.onWaitingChanged(-1);
            take();
            // A task of its own so that a release never re-enters the releasing session.
            loop.execute(next::onSlotGranted);
        }
    }

    int active() {
        return active;
    }

    int waiting() {
        return queue.size();
    }

    private void take() {
        active++;
        counters.onSlotTaken();
    }
}

package io.ollamabalancer.sim;

/**
 * What a request holds while it does model work: first a slot (FIFO, possibly waiting), then a reference on the
 * model (loading it if cold). Ready reports the load time measured from the slot grant, so slot waiting is not part of
 * {@code load_duration} (as in Ollama). {@link #release} is idempotent and safe in every state, including while the
 * slot grant or the load is still in flight. Confined to the event loop.
 */
final class ModelLease implements SlotManager.Waiter {
    /** Hears when the model is ready to use. */
    @FunctionalInterface
    interface Listener {
        void ready(long loadNanos);
    }

    private enum State { NEW, WAITING_SLOT, LOADING, READY, RELEASED }

    private final SimContext sim;
    private final ModelRuntime model;
    private final Listener listener;
    private State state = State.NEW;
    private boolean holdsSlot;
    private ModelRuntime.Claim claim;
    private long slotAt;

    ModelLease(SimContext sim, ModelRuntime model, Listener listener) {
        this.sim = sim;
        this.model = model;
        this.listener = listener;
    }

    /** Asks for a slot; false if the wait list is full (answer 503). May call the listener before returning. */
    boolean start() {
        switch (sim.slots().acquire(this)) {
            case GRANTED:
                onSlotGranted();
                return true;
            case QUEUED:
                state = State.WAITING_SLOT;
                return true;
            default:
                state = State.RELEASED;
                return false;
        }
    }

    @Override
    public void onSlotGranted() {
        if (state == State.RELEASED) {
            // Given up while the grant was on its way: hand the slot straight back.
            sim.slots().release();
            return;
        }
        holdsSlot = true;
        slotAt = sim.nanoTime();
        state = State.LOADING;
        claim = new ModelRuntime.Claim(cold -> {
            if (state == State.LOADING) {
                state = State.READY;
                listener.ready(sim.nanoTime() - slotAt);
            }
        });
        model.acquire(claim);
    }

    /** Lets go of everything held; {@code keepAlive} is the request's keep_alive in ns, or null. */
    void release(Long keepAlive) {
        if (state == State.RELEASED) {
            return;
        }
        if (state == State.WAITING_SLOT) {
            sim.slots().abandon(this);
        }
        state = State.RELEASED;
        if (claim != null) {
            model.release(claim, keepAlive);
            claim = null;
        }
        if (holdsSlot) {
            holdsSlot = false;
            sim.slots().release();
        }
    }
}

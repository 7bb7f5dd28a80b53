package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.estimate.RequestEstimate;
import io.ollamabalancer.request.InferenceRequest;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One inference request between arrival and the end of its upstream exchange, as the scheduler sees it: what it
 * is, its priority and estimate, and a one-way state machine ({@code NEW → QUEUED → DISPATCHED}, or
 * {@code → CANCELLED}) whose transitions are CAS so a cancel and a dispatch can race safely. Holds no buffers.
 */
public final class PendingRequest {
    /** Lifecycle states; transitions only move forward. */
    public enum State { NEW, QUEUED, DISPATCHED, CANCELLED }

    private static final State[] STATES = State.values();

    private final long id;
    private final InferenceRequest request;
    private final String modelKey;
    private final int priority;
    private final long arrivalNanos;
    private final DispatchTarget target;
    private final Set<Backend> excluded = ConcurrentHashMap.newKeySet();
    private final AtomicInteger state = new AtomicInteger(State.NEW.ordinal());
    private volatile RequestEstimate estimate = RequestEstimate.UNKNOWN;
    private volatile long enqueuedNanos;
    private volatile long dispatchedNanos;

    /**
     * @param modelKey the normalised model (plus runner options when they force a distinct instance)
     * @param priority larger runs first; {@code 0} is normal
     */
    public PendingRequest(long id, InferenceRequest request, String modelKey, int priority, long arrivalNanos,
                          DispatchTarget target) {
        this.id = id;
        this.request = request;
        this.modelKey = modelKey;
        this.priority = priority;
        this.arrivalNanos = arrivalNanos;
        this.target = target;
    }

    public long id() {
        return id;
    }

    public InferenceRequest request() {
        return request;
    }

    public String modelKey() {
        return modelKey;
    }

    public int priority() {
        return priority;
    }

    public long arrivalNanos() {
        return arrivalNanos;
    }

    public DispatchTarget target() {
        return target;
    }

    /** Backends this request must not go to again (a connection to them failed before anything was sent). */
    public Set<Backend> excluded() {
        return excluded;
    }

    public RequestEstimate estimate() {
        return estimate;
    }

    public void estimate(RequestEstimate e) {
        estimate = e;
    }

    public long enqueuedNanos() {
        return enqueuedNanos;
    }

    public void enqueuedNanos(long n) {
        enqueuedNanos = n;
    }

    public long dispatchedNanos() {
        return dispatchedNanos;
    }

    public void dispatchedNanos(long n) {
        dispatchedNanos = n;
    }

    public State state() {
        return STATES[state.get()];
    }

    /** Moves {@code from → to}; false if another thread moved it first. */
    public boolean transition(State from, State to) {
        return state.compareAndSet(from.ordinal(), to.ordinal());
    }

    /** Cancels unless already dispatched; returns whether this call cancelled it. */
    public boolean cancel() {
        for (;;) {
            int s = state.get();
            if (s == State.DISPATCHED.ordinal() || s == State.CANCELLED.ordinal()) {
                return false;
            }
            if (state.compareAndSet(s, State.CANCELLED.ordinal())) {
                return true;
            }
        }
    }

    public boolean isCancelled() {
        return state.get() == State.CANCELLED.ordinal();
    }

    @Override
    public String toString() {
        return "PendingRequest[" + id + " " + modelKey + " p=" + priority + " " + state() + "]";
    }
}

package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.estimate.RequestEstimate;
import io.ollamabalancer.request.InferenceRequest;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One inference request between arrival and the end of its upstream exchange, as the scheduler sees it: what it
 * is, its priority and estimate, and a one-way state machine ({@code NEW → QUEUED → DISPATCHED}, or
 * {@code → CANCELLED}) whose transitions are CAS so a cancel and a dispatch can race safely. Holds no buffers.
 */
public final class PendingRequest {
    /** Lifecycle states; transitions only move forward. */
    public enum State { NEW, QUEUED, DISPATCHED, CANCELLED }

    private static final State[] STATES = State.values();
    /** Creation order across the process: ids may repeat (tests, replays), identity hash codes vary by run. */
    private static final AtomicLong CREATED = new AtomicLong();

    private final long sequence = CREATED.incrementAndGet();

    private final long id;
    private final InferenceRequest request;
    private final String modelKey;
    private final int priority;
    private final long arrivalNanos;
    private final DispatchTarget target;
    private final Exclusions excluded = new Exclusions();
    private final AtomicInteger state = new AtomicInteger(State.NEW.ordinal());
    private volatile RequestEstimate estimate = RequestEstimate.UNKNOWN;
    private final AtomicReference<Backend> pinned = new AtomicReference<>();
    private volatile long enqueuedNanos;
    private volatile long dispatchedNanos;
    private volatile long referenceWorkNanos;
    private volatile Prediction prediction;
    private volatile ModelQueue.QueueKey queueKey;
    private volatile ShareFlow shareFlow = ShareFlow.DEFAULT;
    /** Its fair-share start tag once {@link #fairTagged} ({@link FairQueuing}). */
    private volatile long fairStart;
    private volatile boolean fairTagged;
    private volatile long mirrorOrderNanos;

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

    /**
     * Its place in creation order, unique in the process: what orders collections of requests that must iterate
     * the same way on every run (a discrete-event replay has to repeat itself), where an identity hash would not.
     */
    long sequence() {
        return sequence;
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

    /** Backends this request failed on before anything was processed, with why (to avoid, or never go back to). */
    public Exclusions excluded() {
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

    /** Time spent waiting for a slot, arrival to dispatch (0 until dispatched). */
    public long queuedNanos() {
        long d = dispatchedNanos;
        return d == 0 ? 0 : Math.max(0, d - arrivalNanos);
    }

    /** What the scheduler predicted when it dispatched this request, or {@code null} before that. */
    public Prediction prediction() {
        return prediction;
    }

    void prediction(Prediction p) {
        prediction = p;
    }

    /** Expected service on the fleet's typical backend, counted in its queue's pending work while it waits. */
    long referenceWorkNanos() {
        return referenceWorkNanos;
    }

    void referenceWorkNanos(long n) {
        referenceWorkNanos = n;
    }

    /** Its key in its model's queue while it waits there (the last one it had, afterwards). */
    ModelQueue.QueueKey queueKey() {
        return queueKey;
    }

    void queueKey(ModelQueue.QueueKey k) {
        queueKey = k;
    }

    /** The fair-share flow (API key) its work is charged to; {@link ShareFlow#DEFAULT} unless set. */
    public ShareFlow shareFlow() {
        return shareFlow;
    }

    /** Charges its work to {@code flow} (its API key); set before it is submitted. */
    public void shareFlow(ShareFlow flow) {
        shareFlow = flow == null ? ShareFlow.DEFAULT : flow;
    }

    long fairStart() {
        return fairStart;
    }

    void fairStart(long tag) {
        fairStart = tag;
        fairTagged = true;
    }

    boolean fairTagged() {
        return fairTagged;
    }

    /**
     * Its ordering value on the scheduler's clock as it would be without fair share (enqueue time plus the SJF aging
     * term): comparable across replicas once turned into wall-clock time, unlike fair-share tags, so the cluster
     * mirror ranks queues by it.
     */
    public long mirrorOrderNanos() {
        return mirrorOrderNanos;
    }

    void mirrorOrderNanos(long n) {
        mirrorOrderNanos = n;
    }

    /** The backend an early-binding policy assigned at arrival, or {@code null}. */
    Backend pinned() {
        return pinned.get();
    }

    /** Pins to {@code next} if still pinned to {@code expected}; false if another thread changed it first. */
    boolean pin(Backend expected, Backend next) {
        return pinned.compareAndSet(expected, next);
    }

    /** Clears the pin and returns what it was; exactly one caller gets a given pin back. */
    Backend unpin() {
        return pinned.getAndSet(null);
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

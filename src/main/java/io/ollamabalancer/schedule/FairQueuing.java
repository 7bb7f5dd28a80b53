package io.ollamabalancer.schedule;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Weighted fair queuing on estimated cost: the start tags that order the requests of one priority when fair share
 * is on, so that backlogged {@link ShareFlow}s (API keys) are served in proportion to their weights, counted in
 * expected work rather than in requests.
 *
 * <h2>Tags</h2>
 * A request of flow {@code f} with expected cost {@code c} (its service time on the fleet's typical backend) gets
 * {@code start = max(V, finish_f)} and moves the flow on: {@code finish_f = start + c × (W / w_f) / n}, where
 * {@code w_f} is the flow's weight, {@code W} the summed weight of the flows with requests waiting, and {@code n}
 * the slots that could run it. The queue serves the smallest start first (start-time fair queuing), with the
 * scheduler's SJF aging term added on top ({@link QueueOrder#key}). Two backlogged flows' tags therefore advance in
 * the ratio of cost over weight, and each advances about as fast as the wall clock while it gets its share.
 *
 * <p>{@code V}, the virtual time, is the scheduler's clock or the largest start tag dispatched so far, whichever is
 * later. A flow that was idle starts at {@code V}, never earlier, so idleness earns no credit; a flow that floods
 * runs its own tags ahead and waits behind itself, while another flow's next request starts at {@code V}, next to
 * the head of the queue. With a single flow and no backlog a tag is the enqueue time, so the order is what it is
 * without fair share; with a backlog, a later request also waits for the flow's queued work (spread over the
 * slots), which is about the time it would have waited anyway.
 *
 * <p>No starvation: every flow's tags grow by at least one nanosecond per request and with the clock, and a waiting
 * request's order is fixed, so only finitely many later requests can ever be ordered before it (the flows are the
 * keys file's and the default one).
 *
 * <p>Tags are scheduler-clock nanoseconds but may run ahead of the clock (a flooding key's); the cluster mirror keeps
 * the plain orders ({@link PendingRequest#mirrorOrderNanos()}). {@code W} is kept as requests enter and leave the
 * queue; it is approximate while a reload changes a waiting flow's weight, which only skews the spacing of tags.
 * Tags are fixed when a request joins: a backlog queued while its flow was alone keeps its closer spacing when
 * another flow arrives (the newcomer still starts next to the head, and gets its full share once that backlog is
 * served).
 *
 * <p>Threading: lock-free. Tagging is one CAS loop on the flow's finish; counting a flow in or out is atomic
 * arithmetic; dispatch raises {@code V} by CAS. One instance per scheduler; flows are kept by name (bounded by the
 * keys file).
 */
final class FairQueuing {
    /** Weights are fixed-point with this many units per 1.0 for the atomic sum. */
    private static final double WEIGHT_UNITS = 1e6;
    private static final double MIN_WEIGHT = 1e-6;

    private final LongSupplier clock;
    private final AtomicLong dispatchedStart = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong activeWeightUnits = new AtomicLong();
    private final ConcurrentHashMap<String, Flow> flows = new ConcurrentHashMap<>();

    /** One flow's state: where its tags are, and how many of its requests wait. */
    private static final class Flow {
        final AtomicLong finish = new AtomicLong(Long.MIN_VALUE);
        final AtomicInteger waiting = new AtomicInteger();
        /** The weight units added to the active sum when it last became active (what to take off again). */
        volatile long counted;
    }

    /** @param clock the scheduler's clock (nanoseconds) */
    FairQueuing(LongSupplier clock) {
        this.clock = clock;
    }

    private Flow flow(ShareFlow f) {
        Flow flow = flows.get(f.name());
        return flow != null ? flow : flows.computeIfAbsent(f.name(), n -> new Flow());
    }

    /** The request is about to join a queue: its flow counts as active while any of its requests wait. */
    void entering(PendingRequest request) {
        Flow f = flow(request.shareFlow());
        if (f.waiting.getAndIncrement() == 0) {
            long units = units(request.shareFlow().weight());
            f.counted = units;
            activeWeightUnits.addAndGet(units);
        }
    }

    /** The request left its queue (dispatched, cancelled, expired). */
    void left(PendingRequest request) {
        Flow f = flow(request.shareFlow());
        if (f.waiting.decrementAndGet() == 0) {
            activeWeightUnits.addAndGet(-f.counted);
        }
    }

    /**
     * The request's start tag, charging its flow the first time; a request put back (a retry elsewhere) keeps the
     * tag it had, and is not charged twice.
     *
     * @param parallelSlots the slots of the backends that could run it (its cost is spread over them)
     */
    long startTag(PendingRequest request, int parallelSlots) {
        if (request.fairTagged()) {
            return request.fairStart();
        }
        ShareFlow share = request.shareFlow();
        double w = Math.max(MIN_WEIGHT, share.weight());
        double active = Math.max(w, activeWeightUnits.get() / WEIGHT_UNITS);
        double inc = Math.max(0, request.referenceWorkNanos()) * (active / w) / Math.max(1, parallelSlots);
        long increment = inc >= Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(1, Math.round(inc));
        long v = Math.max(dispatchedStart.get(), clock.getAsLong());
        AtomicLong finish = flow(share).finish;
        for (;;) {
            long last = finish.get();
            long start = Math.max(v, last);
            if (finish.compareAndSet(last, saturatingAdd(start, increment))) {
                request.fairStart(start);
                return start;
            }
        }
    }

    /** A request left its queue for a backend: the virtual time reaches at least its start tag. */
    void dispatched(PendingRequest request) {
        if (!request.fairTagged()) {
            return;
        }
        long start = request.fairStart();
        for (;;) {
            long v = dispatchedStart.get();
            if (start <= v || dispatchedStart.compareAndSet(v, start)) {
                return;
            }
        }
    }

    /** The virtual time now: the clock, or the largest start tag dispatched if that is later. */
    long virtualTime() {
        return Math.max(dispatchedStart.get(), clock.getAsLong());
    }

    /** The summed weight of the flows with requests waiting. */
    double activeWeight() {
        return activeWeightUnits.get() / WEIGHT_UNITS;
    }

    private static long units(double weight) {
        return Math.max(1, Math.round(Math.min(weight, 1e9) * WEIGHT_UNITS));
    }

    private static long saturatingAdd(long a, long b) {
        long s = a + b;
        return ((a ^ s) & (b ^ s)) < 0 ? Long.MAX_VALUE : s;
    }
}

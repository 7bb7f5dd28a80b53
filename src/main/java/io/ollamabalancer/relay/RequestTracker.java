package io.ollamabalancer.relay;

import io.ollamabalancer.schedule.PendingRequest;

import java.time.Duration;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * The inference requests {@code GET /balancer/requests/{id}} can answer for: every one from arrival to the end of
 * its exchange, then for the retention period (or until {@link #MAX_DONE} newer ones ended), by the balancer's id
 * and by the {@code X-Request-Id} the client sent, if any. Bounded: live entries are the requests in flight (which
 * the queue limits and the connection cap bound), ended ones at most {@link #MAX_DONE}.
 *
 * <p>Cost on the request path: one small object and one or two map updates at arrival and at the end; nothing per
 * chunk. Expired entries are dropped by whoever ends a request or asks, oldest first, a constant amount of work each.
 *
 * <p>Thread-safe and lock-free (concurrent maps and queue); called from every event loop.
 */
public final class RequestTracker {
    /** Ended requests kept at most, whatever the retention: 10,000 small entries. */
    static final int MAX_DONE = 10_000;

    private final long retentionNanos;
    private final LongSupplier nanoTime;
    private final Map<Long, TrackedRequest> byId = new ConcurrentHashMap<>();
    private final Map<String, TrackedRequest> byClientId = new ConcurrentHashMap<>();
    private final Queue<TrackedRequest> ended = new ConcurrentLinkedQueue<>();
    private final AtomicInteger endedCount = new AtomicInteger();

    /** @param retention how long an ended request stays visible ({@link Duration#ZERO}: not at all) */
    public RequestTracker(Duration retention, LongSupplier nanoTime) {
        this.retentionNanos = retention.toNanos();
        this.nanoTime = nanoTime;
    }

    /**
     * Starts tracking an inference request. A client id already in use points at the newer request afterwards.
     *
     * @param clientId the client's {@code X-Request-Id}, or {@code null}
     */
    public TrackedRequest track(long id, String clientId, PendingRequest pending) {
        String cid = clientId == null || clientId.isEmpty() ? null : clientId;
        TrackedRequest t = new TrackedRequest(id, cid, pending);
        byId.put(id, t);
        if (cid != null) {
            byClientId.put(cid, t);
        }
        return t;
    }

    /** The request's exchange ended with {@code status} ({@code outcome}: how, as the metrics name it). */
    public void ended(TrackedRequest t, int status, String outcome) {
        long now = nanoTime.getAsLong();
        t.done(status, outcome, now);
        if (retentionNanos <= 0) {
            forget(t);
        } else {
            ended.add(t);
            endedCount.incrementAndGet();
        }
        expire(now);
    }

    /**
     * The request known by {@code id}: the client's {@code X-Request-Id} if one is tracked under it, else the
     * balancer's numeric id; {@code null} when neither is (never seen, not inference, or expired).
     */
    public TrackedRequest find(String id) {
        expire(nanoTime.getAsLong());
        TrackedRequest t = byClientId.get(id);
        if (t != null) {
            return t;
        }
        long n = numericId(id);
        return n < 0 ? null : byId.get(n);
    }

    /** Requests tracked now, ended ones still kept included. */
    public int size() {
        return byId.size();
    }

    /** Drops ended entries past the retention or beyond {@link #MAX_DONE}, oldest first. */
    private void expire(long now) {
        for (;;) {
            TrackedRequest head = ended.peek();
            if (head == null || now - head.doneNanos() < retentionNanos && endedCount.get() <= MAX_DONE) {
                return;
            }
            if (ended.remove(head)) {
                endedCount.decrementAndGet();
                forget(head);
            }
        }
    }

    private void forget(TrackedRequest t) {
        byId.remove(t.id(), t);
        if (t.clientId() != null) {
            byClientId.remove(t.clientId(), t);
        }
    }

    /** {@code s} as the balancer writes its ids (plain decimal, no sign or leading zero), else -1. */
    private static long numericId(String s) {
        if (s.isEmpty() || s.length() > 18 || s.charAt(0) == '0' && s.length() > 1) {
            return -1;
        }
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }
}

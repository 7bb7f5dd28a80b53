package io.ollamabalancer.relay;

import io.ollamabalancer.schedule.PendingRequest;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.LongSupplier;

/**
 * The inference requests {@code GET /balancer/requests/{id}} can answer for: every one from arrival to the end of
 * its exchange, then for the retention period (or until {@link #MAX_DONE} newer ones ended), by the balancer's id
 * and by the {@code X-Request-Id} the client sent, if any. Bounded: live entries are the requests in flight (which
 * the queue limits and the connection cap bound), ended ones at most {@link #MAX_DONE}.
 *
 * <p>Cost on the request path: one small object, a map insert at arrival, and at the end a map removal and one
 * store into a ring of the last {@link #MAX_DONE} ended requests; nothing per chunk. The maps hold only the
 * requests in flight, so they stay small and the entry removed at the end is the one just used: keeping ended
 * requests in those maps until they expired made every request's end remove an entry last touched
 * {@link #MAX_DONE} requests earlier (two cache-cold removals, a map and a queue, which a profile of the small
 * request path put at 7 % of the event loops' samples). An ended request is found by a walk over the ring instead:
 * that costs the occasional status lookup a few microseconds, not every request.
 *
 * <p>Thread-safe and lock-free (concurrent maps, an atomic ring); called from every event loop.
 */
public final class RequestTracker {
    /** Ended requests kept at most, whatever the retention: 10,000 small entries. */
    static final int MAX_DONE = 10_000;

    private final long retentionNanos;
    private final LongSupplier nanoTime;
    /** Requests in flight. */
    private final Map<Long, TrackedRequest> byId = new ConcurrentHashMap<>();
    private final Map<String, TrackedRequest> byClientId = new ConcurrentHashMap<>();
    /** The last {@link #MAX_DONE} ended requests, the n-th to end at {@code n % MAX_DONE}; null with no retention. */
    private final AtomicReferenceArray<TrackedRequest> done;
    private final AtomicLong endedCount = new AtomicLong();

    /** @param retention how long an ended request stays visible ({@link Duration#ZERO}: not at all) */
    public RequestTracker(Duration retention, LongSupplier nanoTime) {
        this.retentionNanos = retention.toNanos();
        this.nanoTime = nanoTime;
        this.done = retentionNanos > 0 ? new AtomicReferenceArray<>(MAX_DONE) : null;
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
        t.done(status, outcome, nanoTime.getAsLong());
        if (done != null) {
            // Visible in the ring before it leaves the maps: a lookup in between finds it in one or the other.
            done.lazySet((int) (endedCount.getAndIncrement() % MAX_DONE), t);
        }
        byId.remove(t.id(), t);
        if (t.clientId() != null) {
            byClientId.remove(t.clientId(), t);
        }
    }

    /**
     * The request known by {@code id}: the client's {@code X-Request-Id} if one is tracked under it, else the
     * balancer's numeric id; {@code null} when neither is (never seen, not inference, or expired). Among ended
     * requests with the same client id, the newest (the highest balancer id) answers.
     */
    public TrackedRequest find(String id) {
        TrackedRequest t = byClientId.get(id);
        if (t != null) {
            return t;
        }
        long n = numericId(id);
        TrackedRequest[] ended = findEnded(id, n);
        if (ended[0] != null) {
            return ended[0];
        }
        t = n < 0 ? null : byId.get(n);
        return t != null ? t : ended[1];
    }

    /**
     * Among the retained ended requests: the newest with client id {@code clientId}, and the one with balancer id
     * {@code n} (either null).
     */
    private TrackedRequest[] findEnded(String clientId, long n) {
        TrackedRequest[] found = new TrackedRequest[2];
        if (done == null) {
            return found;
        }
        long now = nanoTime.getAsLong();
        for (int i = 0; i < MAX_DONE; i++) {
            TrackedRequest t = done.get(i);
            if (t == null || !retained(t, now)) {
                continue;
            }
            if (clientId.equals(t.clientId()) && (found[0] == null || t.id() > found[0].id())) {
                found[0] = t;
            }
            if (t.id() == n) {
                found[1] = t;
            }
        }
        return found;
    }

    private boolean retained(TrackedRequest t, long now) {
        return now - t.doneNanos() < retentionNanos;
    }

    /** Requests tracked now, ended ones still kept included (a walk over the ring: not for the request path). */
    public int size() {
        int n = byId.size();
        if (done != null) {
            long now = nanoTime.getAsLong();
            for (int i = 0; i < MAX_DONE; i++) {
                TrackedRequest t = done.get(i);
                if (t != null && retained(t, now)) {
                    n++;
                }
            }
        }
        return n;
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

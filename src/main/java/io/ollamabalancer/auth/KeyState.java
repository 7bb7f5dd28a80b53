package io.ollamabalancer.auth;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * One key's limits as they stand in this replica: its requests and tokens buckets (absent for limits it does not
 * have) and its requests in progress. Replaced by a fresh one when a reload changes the key's entry; a request keeps
 * the state it was admitted under until it ends. In cluster mode the buckets are leases of buckets shared through
 * Redis ({@link LeasedBucket}); the concurrency count stays per replica. Thread-safe (buckets synchronise per key;
 * the count is atomic).
 */
public final class KeyState {
    private final ApiKey key;
    private final Bucket requests;
    private final Bucket tokens;
    private final AtomicInteger inFlight = new AtomicInteger();

    /** @param shared where the buckets are shared between replicas, or {@code null} for buckets of this replica */
    KeyState(ApiKey key, LongSupplier clock, BucketLeases shared) {
        this.key = key;
        this.requests = bucket(key.name() + ":rpm", key.requestsPerMinute(), clock, shared);
        this.tokens = bucket(key.name() + ":tpm", key.tokensPerMinute(), clock, shared);
    }

    private static Bucket bucket(String name, long perMinute, LongSupplier clock, BucketLeases shared) {
        if (perMinute <= 0) {
            return null;
        }
        return shared == null ? new TokenBucket(perMinute, clock) : new LeasedBucket(name, perMinute, shared, clock);
    }

    /** The key left the set in force (a reload): leases go back to the shared buckets. */
    void close() {
        if (requests != null) {
            requests.close();
        }
        if (tokens != null) {
            tokens.close();
        }
    }

    public ApiKey key() {
        return key;
    }

    public String name() {
        return key.name();
    }

    /** Requests of this key in progress now. */
    public int inFlight() {
        return inFlight.get();
    }

    Bucket requests() {
        return requests;
    }

    Bucket tokens() {
        return tokens;
    }

    /** Counts one more request in progress if under {@code maxConcurrent}; false (nothing counted) otherwise. */
    boolean enter() {
        int max = key.maxConcurrent();
        for (;;) {
            int n = inFlight.get();
            if (max > 0 && n >= max) {
                return false;
            }
            if (inFlight.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void leave() {
        inFlight.decrementAndGet();
    }
}

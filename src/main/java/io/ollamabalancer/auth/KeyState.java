package io.ollamabalancer.auth;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * One key's limits as they stand in this replica: its requests and tokens buckets (absent for limits it does not
 * have) and its requests in progress. Replaced by a fresh one when a reload changes the key's entry; a request keeps
 * the state it was admitted under until it ends. Thread-safe (buckets synchronise per key; the count is atomic).
 */
public final class KeyState {
    private final ApiKey key;
    private final TokenBucket requests;
    private final TokenBucket tokens;
    private final AtomicInteger inFlight = new AtomicInteger();

    KeyState(ApiKey key, LongSupplier clock) {
        this.key = key;
        this.requests = key.requestsPerMinute() > 0 ? new TokenBucket(key.requestsPerMinute(), clock) : null;
        this.tokens = key.tokensPerMinute() > 0 ? new TokenBucket(key.tokensPerMinute(), clock) : null;
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

    TokenBucket requests() {
        return requests;
    }

    TokenBucket tokens() {
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

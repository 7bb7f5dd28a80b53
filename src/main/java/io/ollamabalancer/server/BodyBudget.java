package io.ollamabalancer.server;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The process-wide budget of request-body bytes held in memory ({@code --max-inflight-body-bytes}): bodies being
 * collected, collected ones waiting their turn on a pipelined connection, and those of requests in flight. A body
 * that would take the total past the limit is refused (503 with {@code Retry-After}) instead of growing the heap
 * towards an {@link OutOfMemoryError}. Updated once per body when its length is declared, and at each doubling of
 * the collecting buffer when it comes chunked, so never per chunk. Thread-safe (one shared counter); holds no
 * buffers.
 */
final class BodyBudget {
    private final long limit;
    private final AtomicLong held = new AtomicLong();
    private final LongAdder refused = new LongAdder();

    BodyBudget(long limit) {
        this.limit = limit;
    }

    /** Takes {@code bytes} from the budget, or counts a refusal and returns false when they do not fit. */
    boolean tryReserve(long bytes) {
        long now;
        do {
            now = held.get();
            if (now + bytes > limit) {
                refused.increment();
                return false;
            }
        } while (!held.compareAndSet(now, now + bytes));
        return true;
    }

    /** Gives back what {@link #tryReserve} took. */
    void release(long bytes) {
        held.addAndGet(-bytes);
    }

    /** Bytes reserved now. */
    long held() {
        return held.get();
    }

    long limit() {
        return limit;
    }

    /** Bodies refused for want of budget since start. */
    long refused() {
        return refused.sum();
    }
}

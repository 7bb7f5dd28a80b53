package io.ollamabalancer.metrics;

import io.ollamabalancer.estimate.TimingSample;

import java.util.concurrent.TimeUnit;

/** Builds {@link CompletedRequest}s for tests. */
public final class Traffic {
    private Traffic() {
    }

    static long ms(double millis) {
        return Math.round(millis * 1_000_000.0);
    }

    /** A finished request with the given stage times in milliseconds ({@code -1} for a stage that never happened). */
    static CompletedRequest request(long id, String endpoint, String model, String backend, int status,
                                    double queueMs, double overheadMs, double ttftMs, double totalMs,
                                    long promptTokens, long generatedTokens, Outcome outcome) {
        return new CompletedRequest(id, endpoint, model, backend, status,
                queueMs < 0 ? -1 : ms(queueMs), overheadMs < 0 ? -1 : ms(overheadMs),
                ttftMs < 0 ? -1 : ms(ttftMs), totalMs < 0 ? -1 : ms(totalMs),
                new TimingSample(promptTokens, TimeUnit.MILLISECONDS.toNanos(10), generatedTokens,
                        TimeUnit.MILLISECONDS.toNanos(100), 0, TimeUnit.MILLISECONDS.toNanos(110)),
                0, 0, outcome);
    }

    /** An ok chat request whose every stage takes {@code ttftMs} (queue and overhead a tenth, total twice). */
    public static CompletedRequest ok(long id, String model, String backend, double ttftMs) {
        return request(id, "chat", model, backend, 200, ttftMs / 10, ttftMs / 10, ttftMs, ttftMs * 2, 5, 7, Outcome.OK);
    }
}

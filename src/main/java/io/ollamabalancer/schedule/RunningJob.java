package io.ollamabalancer.schedule;

/**
 * A request running on a backend, with what was predicted for it at dispatch: enough to estimate its remaining
 * time later without looking anything up again. Immutable; plain values only, so a cluster ledger can hold it.
 *
 * @param request      the request
 * @param backend      backend name
 * @param modelKey     normalised model
 * @param runnerOptions the runner options it loaded the model with ({@code ""}: defaults)
 * @param startNanos   dispatch time
 * @param upfrontNanos predicted load (if cold) plus prefill: no token arrives before this
 * @param decodeTps    predicted per-stream decode speed
 * @param outputCap    {@code num_predict}, or -1
 * @param embedding    no decode phase
 * @param serviceNanos predicted time to the end from the request's own estimate
 * @param genericNanos predicted time to the end for the model's average output length (the fallback predictor)
 * @param streams      the backend's stream integrals right after it started ({@link StreamTime}), itself included
 */
public record RunningJob(
        PendingRequest request,
        String backend,
        String modelKey,
        String runnerOptions,
        long startNanos,
        long upfrontNanos,
        double decodeTps,
        int outputCap,
        boolean embedding,
        long serviceNanos,
        long genericNanos,
        StreamTime.Mark streams) {
}

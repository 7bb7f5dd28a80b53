package io.ollamabalancer.replay;

/**
 * What happened to one request of a replay, simulated or real. Times are seconds; a count the run could not see is
 * -1. Immutable.
 *
 * @param id                    the trace request's id
 * @param priority              {@code high}, {@code normal} or {@code low}
 * @param backend               where it ran ({@code X-Balancer-Backend}), or {@code null}
 * @param e2e                   send to last byte
 * @param ttft                  send to the first streamed chunk
 * @param queue                 time waiting for a slot ({@code X-Balancer-Queue-Ms}, or the simulated wait)
 * @param error                 why it failed, or {@code null}
 * @param estimatedPromptTokens the balancer's pre-dispatch prompt estimate ({@code X-Balancer-Estimated-Prompt-Tokens})
 * @param promptEvalCount       {@code prompt_eval_count} of the final chunk
 * @param evalCount             {@code eval_count} of the final chunk
 * @param sendLag               how late the request was sent against its trace time (a busy client machine), 0 in
 *                              simulations
 */
public record Outcome(int id, String priority, String backend, double e2e, double ttft, double queue, String error,
                      int estimatedPromptTokens, int promptEvalCount, int evalCount, double sendLag) {

    /** An outcome sent on time. */
    public Outcome(int id, String priority, String backend, double e2e, double ttft, double queue, String error,
                   int estimatedPromptTokens, int promptEvalCount, int evalCount) {
        this(id, priority, backend, e2e, ttft, queue, error, estimatedPromptTokens, promptEvalCount, evalCount, 0);
    }

    public boolean ok() {
        return error == null;
    }

    /** The same outcome sent {@code seconds} late. */
    Outcome withSendLag(double seconds) {
        return new Outcome(id, priority, backend, e2e, ttft, queue, error, estimatedPromptTokens, promptEvalCount,
                evalCount, seconds);
    }

    /** A request that did not complete. */
    static Outcome failed(int id, String priority, double e2e, String error) {
        return new Outcome(id, priority, null, e2e, -1, -1, error, -1, -1, -1);
    }
}

package io.ollamabalancer.replay;

/**
 * What happened to one request of a replay, simulated or real. Times are seconds; a count or time the run could
 * not see is -1. Immutable.
 *
 * <p>The shorter constructors predate the memory fields: they leave {@code loadSeconds} and {@code loadsStarted}
 * at -1 (unknown), never 0, so that a run which does not report model loads is shown as "not measured" rather than
 * as a run without loads.
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
 * @param loadSeconds           the request's {@code load_duration} in seconds (the final chunk's, or the simulated
 *                              wait for its model: a few ms when warm, up to a full load when cold), -1 unknown
 * @param loadsStarted          model loads this request started: 0 or 1 in simulations, -1 unknown (real-socket
 *                              runs, whose loads are counted by the simulators instead). A request that waits for a
 *                              load another request started has a long {@code loadSeconds} and 0 here
 */
public record Outcome(int id, String priority, String backend, double e2e, double ttft, double queue, String error,
                      int estimatedPromptTokens, int promptEvalCount, int evalCount, double sendLag,
                      double loadSeconds, int loadsStarted) {

    /** An outcome without model-load figures ({@code loadSeconds} and {@code loadsStarted} -1: unknown). */
    public Outcome(int id, String priority, String backend, double e2e, double ttft, double queue, String error,
                   int estimatedPromptTokens, int promptEvalCount, int evalCount, double sendLag) {
        this(id, priority, backend, e2e, ttft, queue, error, estimatedPromptTokens, promptEvalCount, evalCount,
                sendLag, -1, -1);
    }

    /** An outcome sent on time, without model-load figures (both -1: unknown). */
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
                evalCount, seconds, loadSeconds, loadsStarted);
    }

    /** The same outcome with model-load figures. */
    public Outcome withLoad(double seconds, int started) {
        return new Outcome(id, priority, backend, e2e, ttft, queue, error, estimatedPromptTokens, promptEvalCount,
                evalCount, sendLag, seconds, started);
    }

    /** A request that did not complete (model-load figures unknown). */
    static Outcome failed(int id, String priority, double e2e, String error) {
        return new Outcome(id, priority, null, e2e, -1, -1, error, -1, -1, -1);
    }
}

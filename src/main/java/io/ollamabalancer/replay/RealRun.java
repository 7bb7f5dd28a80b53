package io.ollamabalancer.replay;

import java.util.List;

/**
 * One real-socket replay set against the discrete-event replay of the same trace on the same (accelerated) fleet:
 * both summaries, how many answers differed from the trace's predicted lengths, and the prompt-estimate accuracy.
 * Immutable.
 *
 * @param policy           the balancer's {@code --policy}, then {@code #} and the round when a policy ran more
 *                         than once (e.g. {@code eft#2})
 * @param real             measured over real sockets
 * @param des              the discrete-event replay of the same trace and fleet
 * @param lengthMismatches completed requests whose {@code eval_count} or {@code prompt_eval_count} differed from
 *                         the trace (0 means the simulation's ground truth is what the fleet really did)
 * @param estimate         prompt-estimate accuracy after warm-up
 */
public record RealRun(String policy, Summary real, Summary des, int lengthMismatches, EstimateAccuracy estimate) {
    /** Requests skipped before judging the prompt estimate when a trace has no warm-up of its own. */
    public static final int WARMUP = 50;

    /** Compares the measured part of {@code trace} (after its warm-up) with its simulation. */
    public static RealRun of(String policy, SimFleet fleet, Trace trace, List<Outcome> outcomes) {
        List<Outcome> measured = trace.measured(outcomes);
        int mismatches = 0;
        for (Outcome o : measured) {
            if (o.ok() && o.id() >= 0 && o.id() < trace.size()) {
                TraceRequest r = trace.requests().get(o.id());
                if (r.outputTokens() != o.evalCount() || r.promptTokens() != o.promptEvalCount()) {
                    mismatches++;
                }
            }
        }
        String name = policy.contains("#") ? policy.substring(0, policy.indexOf('#')) : policy;
        Summary des = Summary.of(policy, trace.measured(VirtualReplay.run(fleet, trace, name)));
        return new RealRun(policy, Summary.of(policy, measured), des, mismatches,
                EstimateAccuracy.of(measured, trace.warmup() > 0 ? 0 : WARMUP));
    }
}

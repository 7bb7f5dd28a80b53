package io.ollamabalancer.estimate;

import java.util.concurrent.atomic.AtomicReference;

/**
 * What one backend × model pair has taught so far, from Ollama's own timing fields (never wall clock): prefill
 * rate from {@code prompt_eval_count / prompt_eval_duration}, the single-stream decode rate and its slowdown under
 * concurrency from {@code eval_count / eval_duration} ({@link DecodeFit}), and cold-load time from {@code load_duration} when it shows a real load.
 * Prefill and load are each a {@link RobustEwma} in log space.
 *
 * <p>Thread-safe and lock-free: the figures are one immutable {@link View}, replaced by compare-and-set, so event
 * loops finishing requests of the same pair at once never wait for each other (one may recompute its update).
 */
final class SpeedStats {
    private static final int MIN_PREFILL_TOKENS = 16;
    private static final int MIN_DECODE_TOKENS = 4;

    private final AtomicReference<View> view =
            new AtomicReference<>(new View(RobustEwma.EMPTY, DecodeFit.EMPTY, RobustEwma.EMPTY, 0));

    /**
     * Learns from one response.
     *
     * @param share how much of the single-stream decode speed the concurrency left it ({@link DecodeShare}); null
     *              when unknown (the decode is not learned from)
     * @return whether anything was learned
     */
    boolean record(TimingSample s, DecodeShare share, long coldLoadThresholdNs) {
        double prefill = s.hasPrefill() && s.promptEvalCount() >= MIN_PREFILL_TOKENS
                ? Math.log(s.promptEvalCount() * 1e9 / s.promptEvalDurationNs()) : Double.NaN;
        double decode = share != null && s.hasDecode() && s.evalCount() >= MIN_DECODE_TOKENS
                ? Math.log(s.evalCount() * 1e9 / s.evalDurationNs()) : Double.NaN;
        double load = s.loadDurationNs() > coldLoadThresholdNs ? Math.log(s.loadDurationNs()) : Double.NaN;
        if (Double.isNaN(prefill) && Double.isNaN(decode) && Double.isNaN(load)) {
            return false;
        }
        for (;;) {
            View current = view.get();
            if (view.compareAndSet(current, current.plus(prefill, decode, share, load))) {
                return true;
            }
        }
    }

    View view() {
        return view.get();
    }

    /** An immutable copy of the learned figures. */
    static final class View {
        final RobustEwma prefill;
        final DecodeFit decode;
        final RobustEwma load;
        final long samples;

        View(RobustEwma prefill, DecodeFit decode, RobustEwma load, long samples) {
            this.prefill = prefill;
            this.decode = decode;
            this.load = load;
            this.samples = samples;
        }

        /** β fitted with the single-stream rate ({@link DecodeFit}), or NaN while the responses cannot tell it. */
        double slowdown() {
            return decode.slowdown();
        }

        /** This view with one more response: NaN figures were not measured. */
        View plus(double prefillSample, double decodeSample, DecodeShare share, double loadSample) {
            return new View(Double.isNaN(prefillSample) ? prefill : prefill.update(prefillSample),
                    Double.isNaN(decodeSample) ? decode : decode.plus(decodeSample, share),
                    Double.isNaN(loadSample) ? load : load.update(loadSample), samples + 1);
        }

        long decodeSamples() {
            return decode.count();
        }

        /** log of the single-stream decode rate if the slowdown is {@code beta}. */
        double logDecode1(double beta) {
            return decode.logDecode1(beta);
        }
    }
}

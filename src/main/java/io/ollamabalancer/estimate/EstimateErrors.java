package io.ollamabalancer.estimate;

/**
 * How far estimates were from what happened, over the last {@value #WINDOW} finished requests of each kind: the
 * prompt-token estimate as a ratio actual / estimated, the output length in tokens, and the predicted service time
 * (dispatch to end) as a relative error. Writers are the scheduler's completion path; readers (metrics, status) take
 * a {@link Snapshot}. Thread-safe without locks (each {@link SampleWindow} is); holds no buffers.
 */
public final class EstimateErrors {
    static final int WINDOW = 1024;

    private final SampleWindow promptRatio = new SampleWindow(WINDOW);
    private final SampleWindow outputRatio = new SampleWindow(WINDOW);
    private final SampleWindow outputAbsError = new SampleWindow(WINDOW);
    private final SampleWindow finishRelError = new SampleWindow(WINDOW);
    private final SampleWindow finishSignedError = new SampleWindow(WINDOW);

    /** A finished request's prompt: estimated tokens against Ollama's {@code prompt_eval_count}. */
    public void recordPrompt(int estimated, long actual) {
        if (estimated > 0 && actual > 0) {
            promptRatio.add((double) actual / estimated);
        }
    }

    /** A finished generation's length: expected output tokens against Ollama's {@code eval_count}. */
    public void recordOutput(int expected, long actual) {
        if (expected > 0 && actual >= 0) {
            outputRatio.add((double) actual / expected);
            outputAbsError.add(Math.abs(actual - expected));
        }
    }

    /** A finished request's predicted time from dispatch to end against the time it took. */
    public void recordFinish(long predictedNanos, long actualNanos) {
        if (predictedNanos > 0 && actualNanos > 0) {
            double rel = (double) (actualNanos - predictedNanos) / predictedNanos;
            finishSignedError.add(rel);
            finishRelError.add(Math.abs(rel));
        }
    }

    /** The current figures; NaN where no sample exists yet. */
    public Snapshot snapshot() {
        double[] prompt = promptRatio.sorted();
        double[] outRatio = outputRatio.sorted();
        double[] outAbs = outputAbsError.sorted();
        double[] finish = finishRelError.sorted();
        double[] signed = finishSignedError.sorted();
        return new Snapshot(
                promptRatio.total(),
                SampleWindow.quantile(prompt, 0.5),
                SampleWindow.quantile(prompt, 0.1),
                SampleWindow.quantile(prompt, 0.9),
                outputRatio.total(),
                SampleWindow.quantile(outRatio, 0.5),
                SampleWindow.mean(outAbs),
                SampleWindow.quantile(outAbs, 0.5),
                finishRelError.total(),
                SampleWindow.quantile(finish, 0.5),
                SampleWindow.quantile(finish, 0.9),
                SampleWindow.quantile(signed, 0.5));
    }

    /**
     * Error figures over the recent window. Immutable.
     *
     * @param promptSamples          prompts compared so far (all time)
     * @param promptRatioMedian      median of actual / estimated prompt tokens (1.0 is perfect)
     * @param promptRatioP10         10th percentile of that ratio
     * @param promptRatioP90         90th percentile of that ratio
     * @param outputSamples          generations compared so far (all time)
     * @param outputRatioMedian      median of actual / expected output tokens
     * @param outputAbsErrorMean     mean |actual − expected| output tokens
     * @param outputAbsErrorMedian   median |actual − expected| output tokens
     * @param finishSamples          service-time predictions compared so far (all time)
     * @param finishRelErrorMedian   median |actual − predicted| / predicted time from dispatch to end
     * @param finishRelErrorP90      90th percentile of that relative error
     * @param finishBiasMedian       median signed relative error (positive: requests ran longer than predicted)
     */
    public record Snapshot(
            long promptSamples,
            double promptRatioMedian,
            double promptRatioP10,
            double promptRatioP90,
            long outputSamples,
            double outputRatioMedian,
            double outputAbsErrorMean,
            double outputAbsErrorMedian,
            long finishSamples,
            double finishRelErrorMedian,
            double finishRelErrorP90,
            double finishBiasMedian) {
    }
}

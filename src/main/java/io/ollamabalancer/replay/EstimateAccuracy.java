package io.ollamabalancer.replay;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How close the balancer's pre-dispatch prompt estimate ({@code X-Balancer-Estimated-Prompt-Tokens}) came to the
 * backend's {@code prompt_eval_count}, after a warm-up: relative error {@code |estimate − truth| / truth} over the
 * completed requests that report both, skipping the first {@code warmup} requests in send order (the estimator
 * learns each model's ratio from them). Immutable.
 *
 * @param requests how many requests were judged
 * @param median   median relative error
 * @param p90      90th percentile relative error
 * @param bias     median signed error {@code (estimate − truth) / truth}
 */
public record EstimateAccuracy(int requests, double median, double p90, double bias) {

    public static EstimateAccuracy of(List<Outcome> outcomes, int warmup) {
        List<Outcome> inOrder = new ArrayList<>(outcomes);
        inOrder.sort(Comparator.comparingInt(Outcome::id));
        List<Double> abs = new ArrayList<>();
        List<Double> signed = new ArrayList<>();
        for (int i = warmup; i < inOrder.size(); i++) {
            Outcome o = inOrder.get(i);
            if (o.ok() && o.estimatedPromptTokens() > 0 && o.promptEvalCount() > 0) {
                double e = (o.estimatedPromptTokens() - o.promptEvalCount()) / (double) o.promptEvalCount();
                abs.add(Math.abs(e));
                signed.add(e);
            }
        }
        double[] a = Stats.sorted(abs, Double::doubleValue);
        double[] s = Stats.sorted(signed, Double::doubleValue);
        return new EstimateAccuracy(a.length, Stats.quantile(a, 0.5), Stats.quantile(a, 0.9), Stats.quantile(s, 0.5));
    }
}

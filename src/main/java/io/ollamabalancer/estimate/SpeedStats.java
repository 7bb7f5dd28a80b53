package io.ollamabalancer.estimate;

import java.util.concurrent.atomic.AtomicReference;

/**
 * What one backend × model pair has taught so far, from Ollama's own timing fields (never wall clock): prefill
 * rate from {@code prompt_eval_count / prompt_eval_duration}, decode rate per number of concurrent streams from
 * {@code eval_count / eval_duration}, and cold-load time from {@code load_duration} when it shows a real load.
 * Each figure is a {@link RobustEwma} in log space.
 *
 * <p>Thread-safe and lock-free: the figures are one immutable {@link View}, replaced by compare-and-set, so event
 * loops finishing requests of the same pair at once never wait for each other (one may recompute its update).
 */
final class SpeedStats {
    /** Concurrency levels learned separately; more streams than this share the last bucket. */
    static final int MAX_STREAMS = 8;
    private static final int MIN_PREFILL_TOKENS = 16;
    private static final int MIN_DECODE_TOKENS = 4;

    private final AtomicReference<View> view =
            new AtomicReference<>(new View(RobustEwma.EMPTY, new RobustEwma[MAX_STREAMS], RobustEwma.EMPTY, 0));

    /**
     * Learns from one response.
     *
     * @param concurrency mean number of streams running on the backend while this one ran (itself included)
     * @return whether anything was learned
     */
    boolean record(TimingSample s, double concurrency, long coldLoadThresholdNs) {
        double prefill = s.hasPrefill() && s.promptEvalCount() >= MIN_PREFILL_TOKENS
                ? Math.log(s.promptEvalCount() * 1e9 / s.promptEvalDurationNs()) : Double.NaN;
        int bucket = -1;
        double decode = Double.NaN;
        if (s.hasDecode() && s.evalCount() >= MIN_DECODE_TOKENS) {
            bucket = (int) Math.max(1, Math.min(MAX_STREAMS, Math.round(concurrency))) - 1;
            decode = Math.log(s.evalCount() * 1e9 / s.evalDurationNs());
        }
        double load = s.loadDurationNs() > coldLoadThresholdNs ? Math.log(s.loadDurationNs()) : Double.NaN;
        if (Double.isNaN(prefill) && bucket < 0 && Double.isNaN(load)) {
            return false;
        }
        for (;;) {
            View current = view.get();
            if (view.compareAndSet(current, current.plus(prefill, bucket, decode, load))) {
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
        final RobustEwma[] decode;
        final RobustEwma load;
        final long samples;
        /** β fitted from the concurrency buckets, or NaN when fewer than two levels were seen. */
        final double slowdown;

        View(RobustEwma prefill, RobustEwma[] decode, RobustEwma load, long samples) {
            this.prefill = prefill;
            this.decode = decode;
            this.load = load;
            this.samples = samples;
            this.slowdown = fitSlowdown(decode);
        }

        /** This view with one more response: NaN figures and a negative bucket were not measured. */
        View plus(double prefillSample, int bucket, double decodeSample, double loadSample) {
            RobustEwma[] d = decode;
            if (bucket >= 0) {
                d = decode.clone();
                d[bucket] = (d[bucket] == null ? RobustEwma.EMPTY : d[bucket]).update(decodeSample);
            }
            return new View(Double.isNaN(prefillSample) ? prefill : prefill.update(prefillSample), d,
                    Double.isNaN(loadSample) ? load : load.update(loadSample), samples + 1);
        }

        long decodeSamples() {
            long n = 0;
            for (RobustEwma d : decode) {
                n += d == null ? 0 : d.count();
            }
            return n;
        }

        /** log of the single-stream decode rate, every bucket mapped back to one stream with {@code beta}. */
        double logDecode1(double beta) {
            double sum = 0;
            double weight = 0;
            for (int j = 0; j < decode.length; j++) {
                RobustEwma d = decode[j];
                if (d == null || d.isEmpty()) {
                    continue;
                }
                double w = Math.min(20, d.count());
                sum += w * (d.mean() + Math.log(1 + beta * j));
                weight += w;
            }
            return weight == 0 ? Double.NaN : sum / weight;
        }

        /**
         * Fits {@code r(k) = r1 / (1 + β (k − 1))} from the lowest populated level against each higher one:
         * with {@code q = r(a) / r(b)}, {@code β = (q − 1) / ((b − 1) − q (a − 1))}.
         */
        private static double fitSlowdown(RobustEwma[] decode) {
            int low = -1;
            for (int j = 0; j < decode.length; j++) {
                if (decode[j] != null && decode[j].count() >= 2) {
                    low = j;
                    break;
                }
            }
            if (low < 0) {
                return Double.NaN;
            }
            double sum = 0;
            double weight = 0;
            for (int j = low + 1; j < decode.length; j++) {
                RobustEwma d = decode[j];
                if (d == null || d.count() < 2) {
                    continue;
                }
                double q = Math.exp(decode[low].mean() - d.mean());
                double denominator = j - q * low;
                if (denominator <= 0) {
                    continue;
                }
                double beta = Math.max(0, Math.min(2, (q - 1) / denominator));
                double w = Math.min(decode[low].count(), d.count());
                sum += w * beta;
                weight += w;
            }
            return weight == 0 ? Double.NaN : sum / weight;
        }
    }
}

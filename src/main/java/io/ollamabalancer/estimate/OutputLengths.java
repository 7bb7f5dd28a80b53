package io.ollamabalancer.estimate;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One model's distribution of generated lengths, learned from {@code eval_count}: a histogram over log-spaced
 * buckets (four per doubling) whose weights decay so recent traffic dominates, on top of a log-normal prior — wide
 * and worth a few samples by default, or, in cluster mode, what the other replicas learned ({@link #prior}).
 * Generations cut off by their cap are censored observations: their weight is spread over the buckets at or above
 * the cap in proportion to what is already there, so capped traffic does not drag the learned lengths down.
 *
 * <p>The own samples and the prior are kept apart, so the prior can be replaced and the own samples exported
 * ({@link #own()}) without the prior in them.
 *
 * <p>Thread-safe: writers synchronise; readers use an immutable {@link View} (plus a memo of its own results) or
 * {@link Moments} published through volatile fields. The view is rebuilt once the samples since the last one
 * exceed 1/{@value #STALE_SHARE_DENOMINATOR} of the distribution's weight (at once while it is young, about every
 * 11th sample at the default half-life; its mean then lags by a few percent at most, even across a sudden
 * eightfold change of lengths): every request reads it, but a single sample hardly moves it, and a rebuild
 * allocates and fills four arrays of {@value #BUCKETS}.
 */
final class OutputLengths {
    static final int BUCKETS = 84;
    static final int STALE_SHARE_DENOMINATOR = 128;
    private static final double PER_OCTAVE = 4;
    private static final double DEFAULT_LOG_SD = 1.0;

    private final double decay;
    private final double defaultLogMedian;
    private final double defaultWeight;
    /** This replica's own samples (decayed). */
    private final double[] weight = new double[BUCKETS];
    private final double[] sum = new double[BUCKETS];
    /** The prior, at full weight; it decays with the samples through {@link #priorScale}. */
    private final double[] priorWeight = new double[BUCKETS];
    private final double[] priorSum = new double[BUCKETS];
    private double priorScale = 1;
    /** Decayed weight of the own samples, and the prior's full weight: the distribution's weight. */
    private double ownTotal;
    private double priorTotal;
    /** Sample weight added since the view was last built, and how much of the total may wait (0: none). */
    private double unpublished;
    private final double staleShare;
    private volatile View view;

    /**
     * @param priorMedian     median of the default prior distribution, in tokens
     * @param priorWeight     how many samples the default prior is worth
     * @param halfLifeSamples after this many samples an old sample counts half
     */
    OutputLengths(double priorMedian, double priorWeight, double halfLifeSamples) {
        this(priorMedian, priorWeight, halfLifeSamples, 1.0 / STALE_SHARE_DENOMINATOR);
    }

    /** @param staleShare how much of the weight the published view may lag behind (0: rebuilt on every sample) */
    OutputLengths(double priorMedian, double priorWeight, double halfLifeSamples, double staleShare) {
        this.staleShare = staleShare;
        decay = Math.pow(0.5, 1.0 / halfLifeSamples);
        defaultLogMedian = Math.log(Math.max(1, priorMedian));
        defaultWeight = priorWeight;
        prior(defaultLogMedian, DEFAULT_LOG_SD, defaultWeight);
    }

    /**
     * Replaces the prior with a log-normal length distribution ({@code ln L ~ N(logMean, logSd²)}) worth
     * {@code weight} samples. The caller bounds the figures.
     */
    synchronized void prior(double logMean, double logSd, double weight) {
        double total = 0;
        double[] density = new double[BUCKETS];
        for (int i = 1; i < BUCKETS; i++) {
            double z = (Math.log(centre(i)) - logMean) / logSd;
            density[i] = Math.exp(-0.5 * z * z);
            total += density[i];
        }
        priorTotal = 0;
        for (int i = 1; i < BUCKETS; i++) {
            priorWeight[i] = total > 0 ? weight * density[i] / total : 0;
            priorSum[i] = priorWeight[i] * centre(i);
            priorTotal += priorWeight[i];
        }
        priorScale = 1;
        publish();
    }

    /** Back to the configured default prior (the cluster no longer offers one). */
    void defaultPrior() {
        prior(defaultLogMedian, DEFAULT_LOG_SD, defaultWeight);
    }

    /**
     * Moments of this replica's own samples, without the prior: what it shares with other replicas. Computed when
     * asked (every few seconds by the cluster), not on every sample: it takes a logarithm per bucket.
     */
    synchronized Moments own() {
        double total = 0;
        double logSum = 0;
        double logSquares = 0;
        for (int i = 0; i < BUCKETS; i++) {
            if (weight[i] > 1e-12) {
                double x = Math.log(Math.max(1, sum[i] / weight[i]));
                total += weight[i];
                logSum += weight[i] * x;
                logSquares += weight[i] * x * x;
            }
        }
        return total > 0 ? new Moments(logSum / total, logSquares / total, total) : Moments.NONE;
    }

    static int bucket(double tokens) {
        if (tokens < 1) {
            return 0;
        }
        return (int) Math.min(BUCKETS - 1, 1 + Math.floor(PER_OCTAVE * Math.log(tokens) / Math.log(2)));
    }

    /** The geometric centre of a bucket (the value it stands for until samples land in it). */
    static double centre(int i) {
        return i == 0 ? 0 : Math.pow(2, (i - 0.5) / PER_OCTAVE);
    }

    /** A generation that stopped by itself after {@code tokens}. */
    synchronized void add(long tokens) {
        age();
        int b = bucket(tokens);
        weight[b] += 1;
        sum[b] += tokens;
        added();
    }

    /** A generation cut off at its cap: its natural length was at least {@code tokens}. */
    synchronized void addCensored(long tokens) {
        age();
        int from = bucket(tokens);
        double tail = 0;
        for (int i = from; i < BUCKETS; i++) {
            tail += weight[i] + priorScale * priorWeight[i];
        }
        if (tail <= 1e-9) {
            int b = bucket(tokens * 1.5);
            weight[b] += 1;
            sum[b] += tokens * 1.5;
        } else {
            for (int i = from; i < BUCKETS; i++) {
                double w = weight[i] + priorScale * priorWeight[i];
                if (w <= 0) {
                    continue;
                }
                double share = w / tail;
                double mean = (sum[i] + priorScale * priorSum[i]) / w;
                weight[i] += share;
                sum[i] += share * Math.max(mean, tokens);
            }
        }
        added();
    }

    private void age() {
        for (int i = 0; i < BUCKETS; i++) {
            weight[i] *= decay;
            sum[i] *= decay;
        }
        priorScale *= decay;
        ownTotal *= decay;
        unpublished *= decay;
    }

    /** One sample's weight went in: rebuild the view if what it lacks is no longer a small share. */
    private void added() {
        ownTotal += 1;
        unpublished += 1;
        if (unpublished > staleShare * (ownTotal + priorScale * priorTotal)) {
            publish();
        }
    }

    /** Publishes the combined view. Called holding the lock. */
    private void publish() {
        unpublished = 0;
        double[] w = new double[BUCKETS];
        double[] s = new double[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) {
            w[i] = weight[i] + priorScale * priorWeight[i];
            s[i] = sum[i] + priorScale * priorSum[i];
        }
        view = new View(w, s);
    }

    View view() {
        return view;
    }

    /**
     * Log-length moments of a set of samples: {@code E[ln L]}, {@code E[(ln L)²]} and the (decayed) sample weight.
     * Moments of several replicas merge exactly by weight. Immutable.
     */
    record Moments(double logMean, double logSquare, double weight) {
        static final Moments NONE = new Moments(0, 0, 0);

        /** The standard deviation of {@code ln L}. */
        double logSd() {
            return Math.sqrt(Math.max(0, logSquare - logMean * logMean));
        }
    }

    /** An immutable normalised copy of the histogram: probabilities and mean value per bucket. */
    static final class View {
        private final double[] p = new double[BUCKETS];
        private final double[] v = new double[BUCKETS];
        private final double mean;
        /** {@link #expectedCapped} per cap: requests carry few distinct caps, and views are read far more than made. */
        private final Map<Integer, Double> capped = new ConcurrentHashMap<>();
        /**
         * Whether the bucket values ascend (they do: each lies in its bucket's range), so that the buckets above any
         * length form a suffix; then {@code tailP[i]} and {@code tailPv[i]}, the sums of {@code p} and {@code p·v}
         * from bucket {@code i} up, answer {@link #expectedRemaining} without a pass over the buckets.
         */
        private final boolean ascending;
        private final double[] tailP = new double[BUCKETS + 1];
        private final double[] tailPv = new double[BUCKETS + 1];

        View(double[] weight, double[] sum) {
            double total = 0;
            for (double w : weight) {
                total += w;
            }
            double m = 0;
            boolean up = true;
            for (int i = 0; i < BUCKETS; i++) {
                p[i] = total > 0 ? weight[i] / total : 0;
                v[i] = weight[i] > 1e-12 ? sum[i] / weight[i] : centre(i);
                m += p[i] * v[i];
                up &= i == 0 || v[i] >= v[i - 1];
            }
            mean = m;
            ascending = up;
            for (int i = BUCKETS - 1; i >= 0; i--) {
                tailP[i] = tailP[i + 1] + p[i];
                tailPv[i] = tailPv[i + 1] + p[i] * v[i];
            }
        }

        double mean() {
            return mean;
        }

        /** {@code E[min(L, cap)]}; the plain mean when {@code cap < 0}. */
        double expectedCapped(int cap) {
            if (cap < 0) {
                return mean;
            }
            Double known = capped.get(cap);
            if (known != null) {
                return known;
            }
            double e = 0;
            for (int i = 0; i < BUCKETS; i++) {
                e += p[i] * Math.min(v[i], cap);
            }
            if (capped.size() < 256) {
                capped.put(cap, e);
            }
            return e;
        }

        /**
         * Expected tokens still to come from a generation that has produced {@code generated} so far:
         * {@code E[min(L, cap) − g | L > g]}. Past everything ever seen, the tail is unknown, so half of what was
         * generated is assumed (a heavy-tail rule of thumb), bounded by the cap.
         */
        double expectedRemaining(double generated, int cap) {
            if (!ascending) {
                return expectedRemainingByPass(generated, cap);
            }
            if (cap >= 0 && generated >= cap) {
                return 0;
            }
            // The buckets above the generated length are a suffix; of those, the ones above the cap another.
            int k = firstAbove(generated);
            int c = cap < 0 ? BUCKETS : firstAbove(cap);
            double mass = tailP[k];
            double e = tailPv[k] - tailPv[c] + (cap < 0 ? 0 : cap * tailP[c]) - generated * mass;
            return remaining(mass, e, generated, cap);
        }

        /** {@link #expectedRemaining} bucket by bucket, whatever the order of the values (and for tests). */
        double expectedRemainingByPass(double generated, int cap) {
            if (cap >= 0 && generated >= cap) {
                return 0;
            }
            double mass = 0;
            double e = 0;
            for (int i = 0; i < BUCKETS; i++) {
                if (v[i] > generated) {
                    mass += p[i];
                    e += p[i] * ((cap < 0 ? v[i] : Math.min(v[i], cap)) - generated);
                }
            }
            return remaining(mass, e, generated, cap);
        }

        /**
         * {@code e / mass}; past everything ever seen ({@code mass} ≈ 0) the tail is unknown, so half of what was
         * generated is assumed (a heavy-tail rule of thumb), bounded by the cap.
         */
        private static double remaining(double mass, double e, double generated, int cap) {
            if (mass < 1e-6) {
                double guess = Math.max(1, generated * 0.5);
                return cap < 0 ? guess : Math.min(guess, cap - generated);
            }
            return e / mass;
        }

        /** The first bucket whose value exceeds {@code x} ({@link #BUCKETS} when none does); needs {@link #ascending}. */
        private int firstAbove(double x) {
            int lo = 0;
            int hi = BUCKETS;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (v[mid] > x) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            return lo;
        }

        boolean ascending() {
            return ascending;
        }

        /** The q-quantile of the length (bucket resolution). */
        double quantile(double q) {
            double acc = 0;
            for (int i = 0; i < BUCKETS; i++) {
                acc += p[i];
                if (acc >= q) {
                    return v[i];
                }
            }
            return v[BUCKETS - 1];
        }
    }
}

package io.ollamabalancer.estimate;

/**
 * One backend × model pair's decode speed as a single-stream rate r1 and a slowdown β, fitted together from every
 * response's measured rate and the concurrency it decoded under ({@link DecodeShare}). For each β of the grid the
 * response says {@code log r1 = log rate − log φ(β)}; the fit keeps, per grid point, the exponentially weighted
 * mean and mean square of that value, and β is where its weighted variance is least (the β under which every
 * response tells the same r1). Unlike rounding each response's concurrency to a whole level and comparing levels,
 * this has no bias when concurrency changes during a response, which it does whenever a backend is busy.
 *
 * <p>Weights decay as {@link RobustEwma}'s do (after the first responses, each moves the fit by {@value #MIN_ALPHA}
 * of the way), so a backend whose speed changes is followed as fast as before; a response far off the fit is
 * clipped as there. β is not identified (NaN) until responses were seen at concurrencies that differ by enough, in
 * streams and relative to their number ({@link #MIN_LOG_SPREAD}); once it was, the last β told is kept meanwhile.
 *
 * <p>Immutable: {@link #plus} returns the next fit; the owner publishes it and serialises its writers.
 */
final class DecodeFit {
    static final DecodeFit EMPTY = new DecodeFit(0, new double[DecodeShare.GRID], new double[DecodeShare.GRID], 0, 0,
            0, 0, DecodeFit.INITIAL_SCALE, Double.NaN);

    private static final double MIN_ALPHA = 0.1;
    private static final int WARMUP = 5;
    private static final double CLIP = 3.0;
    private static final double MIN_SCALE = 0.04;
    private static final double INITIAL_SCALE = 0.5;
    /** Variance of the mean extra streams below which the responses cannot tell β apart. */
    private static final double MIN_SPREAD = 0.01;
    /**
     * Variance of log k (k: the streams a response decoded beside, itself included) below which β is not told apart
     * either. Once β (k − 1) is well above 1, φ(β) is close to 1 / (β k): every β then explains responses at
     * concurrencies within a few percent of each other equally well (β only moves the single-stream rate), and the
     * least variance picks noise. Seen: 4 simulators, each at ~1,250 streams, were fitted at β 0.95 to 1.85 with the
     * same single-stream rate, so one looked twice as slow as the others at its concurrency, and eft kept requests
     * waiting for the others while its slots sat free (TTFT p99 ~12 s at 5,000 streams). Unidentified, β falls back
     * to the fleet's or the hint, the same for every backend, and the rate at the concurrencies seen stays right.
     */
    static final double MIN_LOG_SPREAD = 0.005;

    private final long count;
    private final double[] mean;
    private final double[] meanSquare;
    private final double meanExtra;
    private final double meanExtraSquare;
    private final double meanLogStreams;
    private final double meanLogStreamsSquare;
    private final double scale;
    /** The grid point of least variance: where the responses agree most on the single-stream rate. */
    private final int best;
    private final double slowdown;

    private DecodeFit(long count, double[] mean, double[] meanSquare, double meanExtra, double meanExtraSquare,
                      double meanLogStreams, double meanLogStreamsSquare, double scale, double held) {
        this.count = count;
        this.mean = mean;
        this.meanSquare = meanSquare;
        this.meanExtra = meanExtra;
        this.meanExtraSquare = meanExtraSquare;
        this.meanLogStreams = meanLogStreams;
        this.meanLogStreamsSquare = meanLogStreamsSquare;
        this.scale = scale;
        this.best = leastVariance();
        double fitted = fit();
        this.slowdown = Double.isNaN(fitted) ? held : fitted;
    }

    /** The fit after one more response decoding at {@code logRate} (log tokens/s) with {@code share}. */
    DecodeFit plus(double logRate, DecodeShare share) {
        if (!Double.isFinite(logRate)) {
            return this;
        }
        double alpha = Math.max(MIN_ALPHA, 1.0 / (count + 1));
        double shift = 0;
        double nextScale = scale;
        if (count >= WARMUP) {
            double residual = logRate - share.logShare(best) - mean[best];
            double bound = CLIP * scale;
            double clipped = Math.max(-bound, Math.min(bound, residual));
            shift = clipped - residual;
            nextScale = Math.max(MIN_SCALE, (1 - alpha) * scale + alpha * Math.abs(clipped));
        }
        double[] m = new double[DecodeShare.GRID];
        double[] q = new double[DecodeShare.GRID];
        for (int g = 0; g < DecodeShare.GRID; g++) {
            double z = logRate + shift - share.logShare(g);
            m[g] = (1 - alpha) * mean[g] + alpha * z;
            q[g] = (1 - alpha) * meanSquare[g] + alpha * z * z;
        }
        double x = share.extraStreams();
        double l = Math.log1p(Math.max(0, x));
        return new DecodeFit(count + 1, m, q, (1 - alpha) * meanExtra + alpha * x,
                (1 - alpha) * meanExtraSquare + alpha * x * x, (1 - alpha) * meanLogStreams + alpha * l,
                (1 - alpha) * meanLogStreamsSquare + alpha * l * l, nextScale, slowdown);
    }

    long count() {
        return count;
    }

    /**
     * β, or NaN while no responses seen could tell it. Once told, it is held through stretches at one concurrency
     * (the weights decay, and a busy backend at its full slots soon has no spread left): β is the hardware's, and
     * such a stretch says nothing new about it. Measured at 5,000 streams, a β that came and went with the spread
     * moved every backend's single-stream rate between 9 and 8,000 tokens/s from one second to the next.
     */
    double slowdown() {
        return slowdown;
    }

    /** log of the single-stream rate if the slowdown is {@code beta} (clamped to the grid); NaN when empty. */
    double logDecode1(double beta) {
        if (count == 0) {
            return Double.NaN;
        }
        double at = Math.max(0, Math.min(DecodeShare.GRID - 1, beta / DecodeShare.STEP));
        int lo = (int) Math.floor(at);
        int hi = Math.min(DecodeShare.GRID - 1, lo + 1);
        double f = at - lo;
        return mean[lo] * (1 - f) + mean[hi] * f;
    }

    private double variance(int g) {
        return meanSquare[g] - mean[g] * mean[g];
    }

    private int leastVariance() {
        int least = 0;
        for (int g = 1; g < DecodeShare.GRID; g++) {
            if (variance(g) < variance(least)) {
                least = g;
            }
        }
        return least;
    }

    private double fit() {
        if (count < 2 || meanExtraSquare - meanExtra * meanExtra < MIN_SPREAD
                || meanLogStreamsSquare - meanLogStreams * meanLogStreams < MIN_LOG_SPREAD) {
            return Double.NaN;
        }
        int g = best;
        if (g == 0 || g == DecodeShare.GRID - 1) {
            return DecodeShare.beta(g);
        }
        // The parabola through the least variance and its neighbours: β between grid points.
        double a = variance(g - 1);
        double b = variance(g);
        double c = variance(g + 1);
        double curvature = a - 2 * b + c;
        double offset = curvature > 0 ? 0.5 * (a - c) / curvature : 0;
        return DecodeShare.beta(g) + Math.max(-0.5, Math.min(0.5, offset)) * DecodeShare.STEP;
    }
}

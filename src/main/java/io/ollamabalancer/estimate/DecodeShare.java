package io.ollamabalancer.estimate;

/**
 * The share of its single-stream decode speed one response got while it decoded, for each candidate slowdown β of a
 * fixed grid: with k streams running, a stream decodes at {@code r1 / (1 + β (k − 1))}, so over a decode whose
 * concurrency changed, the measured rate is {@code r1 × φ(β)} with φ(β) the time-mean of {@code 1 / (1 + β (k − 1))}.
 * Kept for every β of the grid because the mean of the reciprocal is not the reciprocal of the mean concurrency: a
 * response that ran half its time alone and half beside another decodes at 3/4 of r1 when β = 1, not 2/3.
 *
 * <p>Immutable once built; the array passed to {@link #of} is owned by the instance.
 */
public final class DecodeShare {
    /** Spacing of the β grid: 0, 0.1, … 2 (between grid points the fit interpolates). */
    static final double STEP = 0.1;
    /** Number of β values on the grid. */
    public static final int GRID = 21;
    /** {@link #constant} for 1 to 8 streams, made once: most responses on a small backend are one of these. */
    private static final DecodeShare[] WHOLE = new DecodeShare[9];

    static {
        for (int k = 1; k < WHOLE.length; k++) {
            WHOLE[k] = make(k);
        }
    }

    private final double[] share;
    private final double extraStreams;

    private DecodeShare(double[] share, double extraStreams) {
        this.share = share;
        this.extraStreams = extraStreams;
    }

    /** The β of grid point {@code g}. */
    public static double beta(int g) {
        return g * STEP;
    }

    /**
     * The share of the single-stream speed each of {@code streams} streams (at least one) decodes at when the slowdown
     * is grid point {@code g}'s β: {@code 1 / (1 + β (k − 1))}.
     */
    public static double at(int g, double streams) {
        return 1 / (1 + beta(g) * (Math.max(1, streams) - 1));
    }

    /** A decode that ran with {@code streams} streams (itself included) the whole time. */
    public static DecodeShare constant(double streams) {
        double k = Math.max(1, streams);
        if (k == Math.rint(k) && k < WHOLE.length) {
            return WHOLE[(int) k];
        }
        return make(k);
    }

    private static DecodeShare make(double k) {
        double[] s = new double[GRID];
        for (int g = 0; g < GRID; g++) {
            s[g] = at(g, k);
        }
        return new DecodeShare(s, k - 1);
    }

    /**
     * From time-means measured over the decode.
     *
     * @param share        φ(β) for each grid point, each in (0, 1]; owned by the result from now on
     * @param extraStreams time-mean of the other streams running meanwhile (k − 1)
     */
    public static DecodeShare of(double[] share, double extraStreams) {
        if (share.length != GRID) {
            throw new IllegalArgumentException("a share per grid point expected, got " + share.length);
        }
        for (int g = 0; g < GRID; g++) {
            share[g] = Math.max(1e-6, Math.min(1, share[g]));
        }
        return new DecodeShare(share, Math.max(0, extraStreams));
    }

    /** φ(β) at grid point {@code g}. */
    public double share(int g) {
        return share[g];
    }

    /** log φ(β) at grid point {@code g}. */
    double logShare(int g) {
        return Math.log(share[g]);
    }

    /** Time-mean of the other streams that ran meanwhile. */
    double extraStreams() {
        return extraStreams;
    }
}

package io.ollamabalancer.estimate;

/**
 * How this replica's own samples and the other replicas' (imported through the cluster) are weighed against each
 * other, in log space. {@code n} own samples weigh {@code min(50, n^1.5)}. The others' {@code n} samples weigh as
 * much as own ones would, but only in the room the own samples have not taken yet, and never more than
 * {@value #MAX_SHARED_WEIGHT} (about five own samples) once the own samples fill it: {@code min(n^1.5,
 * max(10, 50 − own))}. So a cold replica trusts the others fully, and the shared figure then yields to local
 * evidence — with 8 own samples the two weigh about the same, with 14 or more the others keep a sixth of the say.
 * Shared records deserve that limit: they may be stale (they outlive the replica that wrote them) or come from a
 * corrupt Redis. Stateless.
 */
final class Blend {
    static final double MAX_OWN_WEIGHT = 50;
    static final double MAX_SHARED_WEIGHT = 10;

    private Blend() {
    }

    static double ownWeight(double n) {
        return n > 0 ? Math.min(MAX_OWN_WEIGHT, n * Math.sqrt(n)) : 0;
    }

    static double sharedWeight(double n, double ownWeight) {
        return n > 0 ? Math.min(n * Math.sqrt(n), Math.max(MAX_SHARED_WEIGHT, MAX_OWN_WEIGHT - ownWeight)) : 0;
    }

    /**
     * The weighted mean of the own figure ({@code ownN} samples) and the shared one ({@code sharedN} samples);
     * a NaN figure or a zero count leaves that side out; NaN when both are out.
     */
    static double combine(double own, double ownN, double shared, double sharedN) {
        return withPrior(own, ownN, shared, sharedN, Double.NaN, 0);
    }

    /** {@link #combine} shrunk toward {@code prior} (worth one sample): the figure a model predicts with. */
    static double withPrior(double own, double ownN, double shared, double sharedN, double prior) {
        return withPrior(own, ownN, shared, sharedN, prior, 1);
    }

    private static double withPrior(double own, double ownN, double shared, double sharedN, double prior,
                                    double priorWeight) {
        double w = Double.isNaN(own) ? 0 : ownWeight(ownN);
        double ws = Double.isNaN(shared) ? 0 : sharedWeight(sharedN, w);
        double total = w + ws + priorWeight;
        if (total == 0) {
            return Double.NaN;
        }
        return ((w > 0 ? w * own : 0) + (ws > 0 ? ws * shared : 0) + (priorWeight > 0 ? priorWeight * prior : 0))
                / total;
    }
}

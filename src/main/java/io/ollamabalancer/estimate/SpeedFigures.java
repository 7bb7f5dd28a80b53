package io.ollamabalancer.estimate;

/**
 * One backend × model pair's speed figures in natural units, each with the weight (samples) behind it: what
 * {@link CostModel} exports of its own samples, and what it takes back as the other replicas' merged prior. A
 * figure nobody measured is NaN with weight 0. Immutable.
 *
 * @param decodeTps     single-stream generated tokens per second
 * @param decodeWeight  samples behind {@code decodeTps}
 * @param slowdown      fitted β of the concurrency curve, NaN when not fitted (it needs two concurrency levels)
 * @param prefillTps    prompt tokens per second
 * @param prefillWeight samples behind {@code prefillTps}
 * @param loadNanos     a cold load of the model there
 * @param loadWeight    cold loads behind {@code loadNanos}
 */
record SpeedFigures(double decodeTps, double decodeWeight, double slowdown, double prefillTps, double prefillWeight,
                    double loadNanos, double loadWeight) {

    boolean isEmpty() {
        return !(decodeWeight > 0) && !(prefillWeight > 0) && !(loadWeight > 0);
    }

    double logDecode() {
        return decodeWeight > 0 ? Math.log(decodeTps) : Double.NaN;
    }

    double logPrefill() {
        return prefillWeight > 0 ? Math.log(prefillTps) : Double.NaN;
    }

    double logLoad() {
        return loadWeight > 0 ? Math.log(loadNanos) : Double.NaN;
    }
}

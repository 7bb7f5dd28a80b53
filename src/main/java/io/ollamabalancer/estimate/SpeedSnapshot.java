package io.ollamabalancer.estimate;

/**
 * One backend × model row of what {@link CostModel} predicts now, for the status API and metrics. Immutable.
 *
 * @param backend    backend name
 * @param model      normalised model key
 * @param prefillTps prompt tokens per second
 * @param decodeTps  single-stream generated tokens per second
 * @param slowdown   β of the concurrency curve
 * @param loadMs     a cold load, milliseconds
 * @param samples    responses learned from for this pair
 * @param source     LEARNED, FLEET or HINT
 */
public record SpeedSnapshot(String backend, String model, double prefillTps, double decodeTps, double slowdown,
                            double loadMs, long samples, Speeds.Source source) {
}

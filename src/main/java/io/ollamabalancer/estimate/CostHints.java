package io.ollamabalancer.estimate;

import static java.util.Collections.unmodifiableMap;

import java.util.Map;
import java.util.TreeMap;

/**
 * What {@link CostModel} assumes before it has learned anything: absolute speeds for a model no backend has served
 * yet, how per-stream decode slows as a backend's slots fill, and optional per-backend speed factors from the
 * configuration (a backend known to be three times the fleet's typical speed: 3.0). Immutable.
 *
 * @param prefillTps          prompt tokens per second
 * @param decodeTps           generated tokens per second for one stream alone on its backend
 * @param loadNanos           a cold model load
 * @param slowdown            β in {@code decode(k) = decode(1) / (1 + β (k − 1))}: 1 is CPU-like (throughput flat),
 *                            0.5 is GPU-like (about ×1.6 aggregate at 4 streams)
 * @param coldLoadThresholdNs a {@code load_duration} above this was a real load (warm ones take a few ms)
 * @param backendFactors      backend name → speed relative to the fleet's typical backend, used until learned
 */
public record CostHints(
        double prefillTps,
        double decodeTps,
        long loadNanos,
        double slowdown,
        long coldLoadThresholdNs,
        Map<String, Double> backendFactors) {

    public CostHints {
        backendFactors = backendFactors == null ? Map.of() : unmodifiableMap(new TreeMap<>(backendFactors));
    }

    public static CostHints defaults() {
        return new CostHints(400, 30, 3_000_000_000L, 0.5, 150_000_000L, Map.of());
    }

    public CostHints withBackendFactors(Map<String, Double> factors) {
        return new CostHints(prefillTps, decodeTps, loadNanos, slowdown, coldLoadThresholdNs, factors);
    }

    public CostHints withSpeeds(double prefill, double decode, long load) {
        return new CostHints(prefill, decode, load, slowdown, coldLoadThresholdNs, backendFactors);
    }

    double factor(String backend) {
        Double f = backendFactors.get(backend);
        return f == null || f <= 0 ? 1.0 : f;
    }

    /** Whether a factor was configured for {@code backend} (then nothing observed replaces it). */
    boolean hasFactor(String backend) {
        Double f = backendFactors.get(backend);
        return f != null && f > 0;
    }
}

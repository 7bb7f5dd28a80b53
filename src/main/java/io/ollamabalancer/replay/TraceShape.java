package io.ollamabalancer.replay;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a generated trace looks like, apart from its arrival rate. Immutable.
 *
 * @param requests     how many requests
 * @param modelMix     model name → share of requests (shares are normalised)
 * @param highShare    share of requests sent with {@code X-Priority: high}
 * @param lowShare     share sent with {@code X-Priority: low}; the rest are {@code normal}
 * @param chatShare    share sent to {@code /api/chat} (one user message); the rest to {@code /api/generate}
 * @param capShare     share carrying {@code options.num_predict}, drawn from {@link #CAPS}
 * @param promptMedian median prompt length in (simulator) tokens; prompt lengths are log-normal
 * @param promptSigma  σ of the prompt length's logarithm
 */
public record TraceShape(int requests, Map<String, Double> modelMix, double highShare, double lowShare,
                         double chatShare, double capShare, double promptMedian, double promptSigma) {
    /** The {@code num_predict} values a capped request draws from, uniformly. */
    static final int[] CAPS = {32, 64, 128, 256, 512};

    public TraceShape {
        modelMix = new LinkedHashMap<>(modelMix);
        if (requests < 1 || modelMix.isEmpty()) {
            throw new IllegalArgumentException("a trace needs at least one request and one model");
        }
        if (highShare < 0 || lowShare < 0 || highShare + lowShare > 1) {
            throw new IllegalArgumentException("priority shares must be >= 0 and add up to at most 1");
        }
    }

    /** Defaults for {@code models}: 70 % chat, 30 % capped, prompts with median 250 tokens, no priorities. */
    public static TraceShape of(int requests, Map<String, Double> modelMix) {
        return new TraceShape(requests, modelMix, 0, 0, 0.7, 0.3, 250, 0.8);
    }

    public TraceShape withPriorities(double high, double low) {
        return new TraceShape(requests, modelMix, high, low, chatShare, capShare, promptMedian, promptSigma);
    }

    /** The same shape with another model mix (a fleet's own). */
    public TraceShape withMix(Map<String, Double> mix) {
        return new TraceShape(requests, mix, highShare, lowShare, chatShare, capShare, promptMedian, promptSigma);
    }

    public TraceShape withRequests(int n) {
        return new TraceShape(n, modelMix, highShare, lowShare, chatShare, capShare, promptMedian, promptSigma);
    }
}

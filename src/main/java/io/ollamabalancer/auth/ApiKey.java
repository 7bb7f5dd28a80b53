package io.ollamabalancer.auth;

import io.ollamabalancer.schedule.ShareFlow;

import java.util.List;

/**
 * One entry of the keys file: the key's name (what metrics and the access log show), the SHA-256 digest of the key
 * (never the key itself: a plain key in the file is hashed as it is read) and its limits. Immutable; equal entries
 * mean an unchanged key, so a reload keeps its buckets.
 *
 * @param name              the name shown in metrics and the access log
 * @param digestHex         SHA-256 of the key, lower-case hex
 * @param requestsPerMinute requests a minute, 0 for no limit
 * @param tokensPerMinute   prompt plus generated tokens a minute, 0 for no limit
 * @param maxConcurrent     requests in progress at once, 0 for no limit
 * @param models            the models it may use, empty for all
 * @param maxPriority       the highest priority it may ask for, {@code null} for no limit
 * @param weight            its fair share of the queue within a priority, relative to other keys (1: as much as the
 *                          requests without a key together)
 */
public record ApiKey(String name, String digestHex, long requestsPerMinute, long tokensPerMinute, int maxConcurrent,
                     List<ModelGlob> models, Integer maxPriority, double weight) {
    public ApiKey {
        models = List.copyOf(models);
    }

    /** A key of weight 1. */
    public ApiKey(String name, String digestHex, long requestsPerMinute, long tokensPerMinute, int maxConcurrent,
                  List<ModelGlob> models, Integer maxPriority) {
        this(name, digestHex, requestsPerMinute, tokensPerMinute, maxConcurrent, models, maxPriority, 1.0);
    }

    /** The fair-share flow its requests are charged to. */
    public ShareFlow shareFlow() {
        return new ShareFlow(name, weight);
    }

    /** Whether the key may use {@code modelKey} (a normalised name); {@code null} (a route without a model) may. */
    public boolean allows(String modelKey) {
        if (models.isEmpty() || modelKey == null || modelKey.isEmpty()) {
            return true;
        }
        for (ModelGlob g : models) {
            if (g.matches(modelKey)) {
                return true;
            }
        }
        return false;
    }

    /** {@code asked} clamped to the key's highest priority. */
    public int clampPriority(int asked) {
        return maxPriority == null ? asked : Math.min(asked, maxPriority);
    }
}

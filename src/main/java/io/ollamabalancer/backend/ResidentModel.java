package io.ollamabalancer.backend;

/**
 * One model resident in a backend's memory, as its {@code /api/ps} reported it. Immutable.
 *
 * @param key            the normalised model key ({@link ModelNames#normalize})
 * @param bytes          its size in memory ({@code size}, else {@code size_vram}); 0 when unknown
 * @param expiresAtMillis when its keep-alive runs out (epoch ms), {@link Long#MAX_VALUE} for never or unknown
 */
public record ResidentModel(String key, long bytes, long expiresAtMillis) {
}

package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;

/**
 * Loads a model on a backend before requests for it arrive there (Ollama's preload: a generate with the model and no
 * prompt). The scheduler calls it when the placement plan wants a model resident where it is not and loading it
 * there now evicts nothing that the plan keeps. Implementations must not block: send, and report nothing back (the
 * backend's {@code /api/ps} shows the outcome).
 */
@FunctionalInterface
public interface Prewarmer {
    /** Does nothing: preloading off. */
    Prewarmer NONE = (backend, modelKey) -> {
    };

    /** Asks {@code backend} to load {@code modelKey} (a normalised model key) now. */
    void preload(Backend backend, String modelKey);
}

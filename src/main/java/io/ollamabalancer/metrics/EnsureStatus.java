package io.ollamabalancer.metrics;

import java.util.List;
import java.util.Map;

/**
 * The declared models ({@code ensureModels}) now, per backend and model, as {@code /balancer/status} and
 * {@code /metrics} show them. Immutable.
 *
 * @param models one row per backend and declared model, backends in fleet order
 * @param pulls  pulls finished since start, per backend and result ({@code success}, {@code failure})
 */
public record EnsureStatus(List<Model> models, Map<String, Map<String, Long>> pulls) {
    /** Nothing declared. */
    public static final EnsureStatus NONE = new EnsureStatus(List.of(), Map.of());

    public EnsureStatus {
        models = List.copyOf(models);
        pulls = Map.copyOf(pulls);
    }

    /** Where one declared model stands on one backend. */
    public enum State {
        /** The backend lists it. */
        PRESENT,
        /** A pull is running. */
        PULLING,
        /** The last pull failed; another is due at {@code nextRetryEpochMillis}. */
        FAILED,
        /** Missing, and not pulled yet: the backend is unavailable, or busy with another declared model. */
        WAITING;

        /** The name shown in the status document and metrics. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * @param backend              the backend's name
     * @param model                the declared model, as written
     * @param state                where it stands
     * @param completed            bytes downloaded so far by the running pull (0 unless pulling)
     * @param total                bytes the running pull downloads, as far as announced (0 unless pulling)
     * @param lastError            the last failed pull's error, or null
     * @param nextRetryEpochMillis when a failed pull is tried again (0 unless failed)
     * @param failures             pulls of this model on this backend that failed in a row
     * @param catchUp              not declared, but owed from a pull through the balancer that ran while this
     *                             backend was unavailable (the row goes once the backend holds the model)
     */
    public record Model(String backend, String model, State state, long completed, long total, String lastError,
                        long nextRetryEpochMillis, int failures, boolean catchUp) {
    }
}

package io.ollamabalancer.schedule;

import java.util.List;

/**
 * What starting a model that is not ready on a backend costs besides its load: the wait for the requests of the
 * models its memory must give up ({@code waitNanos}: Ollama evicts a busy model only once its requests end), and
 * the delay that eviction is expected to impose on later requests for those models ({@code penaltyNanos}: they will
 * need a load somewhere, and whatever waits or arrives for them meanwhile waits longer). The penalty enters the
 * choice of a backend, not the predicted finish. Immutable.
 *
 * @param waitNanos    from now until the models to evict are idle
 * @param penaltyNanos the expected extra delay charged to the choice
 * @param victims      the models the load is expected to evict, in the order Ollama would pick them
 */
record ColdStart(long waitNanos, double penaltyNanos, List<String> victims) {
    static final ColdStart FREE = new ColdStart(0, 0, List.of());
}

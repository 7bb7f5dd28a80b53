package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;

/**
 * Told when the scheduler starts a request on a backend that, as last seen, does not have its model loaded: the
 * backend is about to load it, and on a server with no room evict another model to make room. An eviction is only
 * learned from two {@code /api/ps} snapshots that fall on either side of it, and a load, a short answer and the
 * load back of the victim can all fit between two regular polls; a listener that looks again while the load is under
 * way sees it. Called on the thread that dispatches (often an event loop): implementations must not block.
 */
@FunctionalInterface
public interface ColdDispatchListener {
    /** Listens to nothing. */
    ColdDispatchListener NONE = (backend, modelKey) -> {
    };

    /** A request for {@code modelKey} (a normalised model key) was just sent to {@code backend}, where it is cold. */
    void coldDispatch(Backend backend, String modelKey);
}

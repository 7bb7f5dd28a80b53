package io.ollamabalancer.upstream;

import io.ollamabalancer.backend.LocalFailure;

/**
 * No upstream channel could be had because the backend's connection bound stayed reached for the whole wait. Nothing
 * was sent, so the request may safely go elsewhere, and it is the balancer's own limit: never charged to the
 * backend's health. Stackless: it is thrown on the hot path under overload.
 */
public final class PoolExhaustedException extends Exception implements LocalFailure {
    PoolExhaustedException(String backend, int max, long waitedMillis) {
        super("too many open connections to backend " + backend + " (limit " + max + "; none came free within "
                + waitedMillis + " ms)", null, false, false);
    }
}

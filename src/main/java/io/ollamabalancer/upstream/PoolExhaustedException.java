package io.ollamabalancer.upstream;

/**
 * No upstream channel could be opened because the backend's connection bound is reached. Nothing was sent, so the
 * request may safely go elsewhere. Stackless: it is thrown on the hot path under overload.
 */
public final class PoolExhaustedException extends Exception {
    PoolExhaustedException(String backend, int max) {
        super("too many open connections to backend " + backend + " (limit " + max + ")", null, false, false);
    }
}

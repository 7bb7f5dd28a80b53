package io.ollamabalancer.backend;

/** A backend's health as the balancer sees it. Stateless. */
public enum Health {
    /** Not probed yet: treated as usable so a fresh balancer serves at once. */
    UNKNOWN,
    UP,
    /** Ejected after failures; it gets no work until a probe succeeds. */
    DOWN
}

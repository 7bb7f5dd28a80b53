package io.ollamabalancer.backend;

/**
 * Marks an exception raised by the balancer's own limits (for example its per-backend connection bound), never by
 * the backend: such a failure says nothing about the backend's health and is never charged to it. Implemented by
 * exceptions of packages that the backend package cannot see.
 */
public interface LocalFailure {
}

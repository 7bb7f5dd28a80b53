package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;

/**
 * A policy's decision: start the request at {@code index} of the {@link QueueWindow} on {@code backend} now.
 * Immutable.
 */
public record Selection(int index, Backend backend) {
}

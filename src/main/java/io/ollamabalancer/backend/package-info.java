/**
 * Step 6: the fleet. {@link io.ollamabalancer.backend.Fleet} holds the {@link io.ollamabalancer.backend.Backend}s
 * (models installed and loaded, slots, draining), {@link io.ollamabalancer.backend.HealthTracker} is each one's circuit
 * breaker (ejection, backoff, half-open, slow start) and {@link io.ollamabalancer.backend.HealthProber} probes them.
 * No Netty types.
 */
package io.ollamabalancer.backend;

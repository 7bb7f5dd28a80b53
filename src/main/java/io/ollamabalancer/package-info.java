/**
 * Ollama Balancer: a layer-7 reverse proxy that makes a fleet of Ollama servers look like one.
 *
 * <p>The packages follow a request's journey:
 * <ol>
 *   <li>{@link io.ollamabalancer.server} accepts HTTP/1.1 from clients (one pipeline, assembled in one place);</li>
 *   <li>{@link io.ollamabalancer.api} knows the Ollama and OpenAI surface: which route is model-routed,
 *       aggregated over the fleet or passed through, and the error bodies Ollama uses;</li>
 *   <li>{@link io.ollamabalancer.request} reads only what routing needs from the body (jackson-core streaming);</li>
 *   <li>{@link io.ollamabalancer.estimate} turns a request into an expected cost per backend;</li>
 *   <li>{@link io.ollamabalancer.schedule} holds what cannot start now and decides who goes next, where;</li>
 *   <li>{@link io.ollamabalancer.backend} is the fleet: models, slots, health of each Ollama server;</li>
 *   <li>{@link io.ollamabalancer.upstream} keeps pooled keep-alive channels to each backend;</li>
 *   <li>{@link io.ollamabalancer.relay} streams the answer back chunk by chunk, with backpressure.</li>
 * </ol>
 * Model operations that reach several backends at once (pull, delete, copy, create from a model) live in
 * {@link io.ollamabalancer.fleetops}, which the server routes to.
 * Side systems: {@link io.ollamabalancer.cluster} (Redis, shared state between replicas),
 * {@link io.ollamabalancer.metrics} (HdrHistogram, Prometheus, status), {@link io.ollamabalancer.sim}
 * (the Ollama simulator shipped for demo, tests and benchmarks), {@link io.ollamabalancer.cli} and
 * {@link io.ollamabalancer.config}.
 */
package io.ollamabalancer;

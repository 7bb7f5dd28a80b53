/**
 * Metrics, the latency dump, Prometheus text and the status document. Side system: it observes the request path
 * ({@link io.ollamabalancer.metrics.RequestObserver}) and reads snapshots; it never blocks an event loop.
 *
 * <p>Starting points: {@link io.ollamabalancer.metrics.LatencyRecorders} (recording, windows, counters),
 * {@link io.ollamabalancer.metrics.LatencyReporter} (the periodic interval roll), and the renderers
 * {@link io.ollamabalancer.metrics.LatencyDump} ({@code /debug/latency}),
 * {@link io.ollamabalancer.metrics.PrometheusText} ({@code /metrics}) and
 * {@link io.ollamabalancer.metrics.StatusDocument} ({@code /balancer/status}), which return a
 * {@link io.ollamabalancer.metrics.Rendered} body for the HTTP handler to serve.
 */
package io.ollamabalancer.metrics;

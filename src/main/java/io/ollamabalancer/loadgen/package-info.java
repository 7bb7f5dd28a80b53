/**
 * A load generator for streaming Ollama requests, used by the benchmarks ({@code bench/run.sh}) through the
 * {@code loadgen} subcommand. Side system: nothing on the request path depends on it.
 *
 * <p>Starting points: {@link io.ollamabalancer.loadgen.LoadGenerator} (opens the connections and waits for them),
 * {@link io.ollamabalancer.loadgen.ConnectionLoop} (one keep-alive connection sending requests one after another),
 * {@link io.ollamabalancer.loadgen.StreamTracker} (what one streamed answer measures),
 * {@link io.ollamabalancer.loadgen.LoadStats} (the histograms) and {@link io.ollamabalancer.loadgen.ReportJson}
 * (the JSON summary).
 *
 * <p>The per-chunk delay is the chunk's arrival wall-clock time minus its {@code created_at}: the simulator stamps
 * {@code created_at} with nanosecond precision when it emits the token, and both processes read the same machine
 * clock, so the delay is what sits between the backend's write and the client's read.
 */
package io.ollamabalancer.loadgen;

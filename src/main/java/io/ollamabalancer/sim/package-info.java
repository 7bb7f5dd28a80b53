/**
 * A faithful fake Ollama server over real sockets, for the balancer's tests, benchmarks and {@code demo} mode.
 *
 * <p>Depends only on Netty, jackson-core (streaming API) and the JDK, so it can run in its own process. Starting
 * points: {@link io.ollamabalancer.sim.SimulatorConfig} (what to simulate), {@link io.ollamabalancer.sim.OllamaSimulator}
 * (start/stop), {@link io.ollamabalancer.sim.SimCounters} (what happened) and {@link io.ollamabalancer.sim.SimFaults}
 * (what should go wrong).
 *
 * <p>Threading: each simulator runs on exactly one Netty event loop, which accepts, parses, paces tokens and owns all
 * mutable simulation state (slots, loaded models, sessions), so that state needs no locks. Counters and fault switches
 * are the only objects touched from other threads and are thread-safe.
 *
 * <p>Inside, a request travels: {@code SimConnectionHandler} (HTTP framing, keep-alive, pipelining, disconnects) →
 * {@code SimRouter} (path and method, host check, injected latency) → an endpoint handler ({@code InfoEndpoints},
 * {@code GenerationEndpoint}, {@code EmbedEndpoint}, {@code PullEndpoint}, {@code ControlEndpoint}) → for model
 * work, a {@code ModelLease} (FIFO slot from {@code SlotManager}, then the model from {@code ModelRuntime}) → a
 * {@code GenerationSession} that paces tokens into a {@code GenerationFormat} (NDJSON or SSE) through a
 * {@code StreamWriter}.
 */
package io.ollamabalancer.sim;

/**
 * A faithful fake Ollama server over real sockets, for the balancer's tests, benchmarks and {@code demo} mode.
 *
 * <p>Depends only on Netty, jackson-core (streaming API) and the JDK, so it can run in its own process. Starting
 * points: {@link io.ollamabalancer.sim.SimulatorConfig} (what to simulate), {@link io.ollamabalancer.sim.OllamaSimulator}
 * (start/stop), {@link io.ollamabalancer.sim.SimCounters} (what happened) and {@link io.ollamabalancer.sim.SimFaults}
 * (what should go wrong).
 *
 * <p>Wire format follows Ollama 0.12-era servers as described in {@code ollama-api.md}: native NDJSON (one flushed
 * chunk per token, headers only with the first chunk), {@code /v1} SSE in the v0.32.6+ form, Go's JSON escaping, key
 * order and {@code omitempty}, gin's 404/405/redirect answers, and Ollama's error texts and statuses. Endpoints:
 * {@code GET|HEAD /}, {@code GET|HEAD /api/version}, {@code GET|HEAD /api/tags}, {@code GET /api/ps},
 * {@code POST /api/show}, {@code /api/generate}, {@code /api/chat}, {@code /api/embed}, {@code /api/embeddings},
 * {@code /api/pull}, {@code /api/create} (from uploaded blobs or an installed model), {@code HEAD|POST
 * /api/blobs/:digest} (uploads streamed and sha256-checked, never held in memory), {@code /v1/chat/completions},
 * {@code /v1/completions}, {@code /v1/embeddings}, {@code GET /v1/models} and {@code /v1/models/{model}}.
 *
 * <p>Control API (not Ollama; never counted, never delayed): {@code GET /sim/counters}, {@code POST /sim/reset}
 * (counters and faults), {@code GET /sim/faults} and {@code POST /sim/faults} with a JSON object holding any of
 * {@code refuseConnections}, {@code crashAfterTokens}, {@code errorAfterTokens}, {@code extraLatencyMillis},
 * {@code failNextWith}, {@code speedFactor}, {@code uploadBytesPerSecond}.
 *
 * <p>Simplifications: slots are per server (not per model); memory is modelled only as a count and a byte budget
 * ({@link io.ollamabalancer.sim.SimulatorConfig#maxLoadedModels()}, {@link
 * io.ollamabalancer.sim.SimulatorConfig#vramBytes()}; none by default), with Ollama's serial load queue and eviction
 * (see {@code ModelMemory}) but instant unloads; a request waiting for a slot can get 503 when {@link io.ollamabalancer.sim.SimulatorConfig#maxQueue()}
 * waiters are already queued (a simulator option; real Ollama queues slot waiters without limit); tools, thinking,
 * images, {@code format} and stop strings are accepted and ignored.
 *
 * <p>Threading: each simulator runs on exactly one Netty event loop, which accepts, parses, paces tokens and owns all
 * mutable simulation state (slots, loaded models, sessions), so that state needs no locks. Counters and fault switches
 * are the only objects touched from other threads and are thread-safe.
 *
 * <p>Inside, a request travels (blob requests are taken earlier, unaggregated, by {@code SimBlobHandler}):
 * {@code SimConnectionHandler} (HTTP framing, keep-alive, pipelining, disconnects) →
 * {@code SimRouter} (path and method, host check, injected latency) → an endpoint handler ({@code InfoEndpoints},
 * {@code GenerationEndpoint}, {@code EmbedEndpoint}, {@code PullEndpoint}, {@code CreateEndpoint},
 * {@code ControlEndpoint}) → for model
 * work, a {@code ModelLease} (FIFO slot from {@code SlotManager}, then the model from {@code ModelRuntime}, loaded when {@code ModelMemory} has room) → a
 * {@code GenerationSession} that paces tokens into a {@code GenerationFormat} (NDJSON or SSE) through a
 * {@code StreamWriter}.
 */
package io.ollamabalancer.sim;

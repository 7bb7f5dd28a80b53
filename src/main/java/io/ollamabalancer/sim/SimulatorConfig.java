package io.ollamabalancer.sim;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything one simulated Ollama server is: identity, socket, installed models and performance profile. Immutable;
 * build with {@link #builder()}.
 *
 * <p>Timing model (per request): a generation holds one of {@code slots} for its whole life. Once it has a slot it
 * waits for the model ({@code loadTimeMillis} if cold, a few ms if warm: {@code load_duration}), then prefills
 * {@code promptTokens / prefillTokensPerSecond} ({@code prompt_eval_duration}), then emits one chunk per token every
 * {@code (1 + decodeSlowdown × (k − 1)) / decodeTokensPerSecond} seconds ± {@code jitter}, where k is the number of
 * slots in use ({@code eval_duration}). Prompt tokens are estimated as ⌈chars / 4⌉, plus 15 template tokens for chat.
 * The answer length is drawn from a log-normal distribution (σ = 1, mean {@code meanOutputTokens}, capped at
 * {@code maxOutputTokens}) seeded by {@code seed} and a hash of the request body, so the same request always gets the
 * same answer; {@code num_predict} / {@code max_tokens} cap it with {@code done_reason:"length"}.
 *
 * @param name                   label for logs and {@code /sim/counters}
 * @param host                   bind address (default {@code 127.0.0.1})
 * @param port                   bind port; 0 picks an ephemeral port
 * @param models                 installed models, in {@code /api/tags} order (newest first)
 * @param prefillTokensPerSecond prompt processing speed
 * @param decodeTokensPerSecond  generation speed of one stream running alone
 * @param slots                  parallel generations (Ollama's {@code OLLAMA_NUM_PARALLEL}); per server, not per model
 * @param maxQueue               simulator option, not Ollama behaviour: requests allowed to wait for a slot; one more
 *                               gets {@code 503 server busy, please try again.  maximum pending requests exceeded}
 *                               (two spaces after the period, as Ollama's load-queue overflow). 0 rejects any wait
 * @param loadTimeMillis         cold-load time of a model
 * @param seed                   seed for output lengths, text, jitter and vectors
 * @param version                answered by {@code /api/version}
 * @param meanOutputTokens       mean of the heavy-tailed answer-length distribution
 * @param maxOutputTokens        hard cap on a drawn answer length (a request's {@code num_predict} may ask for less)
 * @param decodeSlowdown         how concurrent streams share the decoder: 1 = per-stream rate ∝ 1/k (CPU), 0 = no
 *                               slowdown, ~0.5 = GPU-like sublinear aggregate gain
 * @param jitter                 relative per-token interval jitter, e.g. 0.1 for ±10 %
 * @param keepAliveMillis        default {@code keep_alive}: idle time before a model unloads; negative = forever
 * @param checkHost              emulate Ollama's loopback Host check: 403 with an empty body for a foreign Host
 * @param gpu                    report {@code size_vram} = size in {@code /api/ps} (otherwise 0, as on CPU)
 * @param contextLength          per-slot {@code num_ctx} reported by {@code /api/ps}
 * @param maxLoadedModels        models the server holds in memory at once (Ollama's {@code OLLAMA_MAX_LOADED_MODELS});
 *                               0 = no limit. Loading one more evicts another (see {@code ModelMemory})
 * @param vramBytes              memory budget for loaded models, each taking its {@link SimModel#sizeBytes()};
 *                               0 = no limit; a model larger than the budget still loads, alone
 * @param idleTimeoutMillis      close a keep-alive connection that carried no request this long (Go's
 *                               {@code http.Server.IdleTimeout}, or a NAT/firewall in between); 0 = never, as Ollama
 * @param registry               what {@code /api/pull} can fetch that is not installed (the simulated registry, by
 *                               default {@link SimModel#defaults()}); a pulled model is installed, unloaded. A name
 *                               in neither list fails as Ollama's registry miss
 * @param tlsCert                serve HTTPS with this PEM certificate chain ({@code null}: plain HTTP)
 * @param tlsKey                 its PKCS#8 PEM private key (set with {@code tlsCert} or not at all)
 */
public record SimulatorConfig(String name, String host, int port, List<SimModel> models,
                              double prefillTokensPerSecond, double decodeTokensPerSecond, int slots, int maxQueue,
                              long loadTimeMillis, long seed, String version, int meanOutputTokens,
                              int maxOutputTokens, double decodeSlowdown, double jitter, long keepAliveMillis,
                              boolean checkHost, boolean gpu, int contextLength, int maxLoadedModels,
                              long vramBytes, long idleTimeoutMillis, List<SimModel> registry, Path tlsCert,
                              Path tlsKey) {

    /** Ollama's own default for {@code OLLAMA_MAX_QUEUE}. */
    public static final int DEFAULT_MAX_QUEUE = 512;

    public SimulatorConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(version, "version");
        models = List.copyOf(models);
        registry = List.copyOf(registry);
        require(port >= 0 && port <= 65535, "port out of range: " + port);
        require(prefillTokensPerSecond > 0 && decodeTokensPerSecond > 0, "token rates must be > 0");
        require(slots >= 1, "slots must be >= 1");
        require(maxQueue >= 0, "maxQueue must be >= 0");
        require(loadTimeMillis >= 0, "loadTimeMillis must be >= 0");
        require(meanOutputTokens >= 1 && maxOutputTokens >= 1, "output token settings must be >= 1");
        require(decodeSlowdown >= 0, "decodeSlowdown must be >= 0");
        require(jitter >= 0 && jitter < 1, "jitter must be in [0, 1)");
        require(contextLength >= 1, "contextLength must be >= 1");
        require(maxLoadedModels >= 0, "maxLoadedModels must be >= 0 (0: no limit)");
        require(vramBytes >= 0, "vramBytes must be >= 0 (0: no limit)");
        require(idleTimeoutMillis >= 0, "idleTimeoutMillis must be >= 0 (0: never)");
        require((tlsCert == null) == (tlsKey == null), "tlsCert and tlsKey go together");
        List<String> seen = new ArrayList<>();
        for (SimModel m : models) {
            String key = ModelCatalog.normalize(m.name());
            require(!seen.contains(key), "duplicate model " + m.name());
            seen.add(key);
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** A builder with CPU-laptop defaults and {@link SimModel#defaults()} models. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder pre-filled with this configuration. */
    public Builder toBuilder() {
        return new Builder().name(name).host(host).port(port).models(models)
                .prefillTokensPerSecond(prefillTokensPerSecond).decodeTokensPerSecond(decodeTokensPerSecond)
                .slots(slots).maxQueue(maxQueue).loadTimeMillis(loadTimeMillis).seed(seed).version(version)
                .meanOutputTokens(meanOutputTokens).maxOutputTokens(maxOutputTokens).decodeSlowdown(decodeSlowdown)
                .jitter(jitter).keepAliveMillis(keepAliveMillis).checkHost(checkHost).gpu(gpu)
                .contextLength(contextLength).maxLoadedModels(maxLoadedModels).vramBytes(vramBytes)
                .idleTimeoutMillis(idleTimeoutMillis).registry(registry).tls(tlsCert, tlsKey);
    }

    /** Whether the server's memory limits who may be loaded at once. */
    public boolean memoryLimited() {
        return maxLoadedModels > 0 || vramBytes > 0;
    }

    /** Mutable builder; not thread-safe. */
    public static final class Builder {
        private String name = "sim";
        private String host = "127.0.0.1";
        private int port;
        private List<SimModel> models = new ArrayList<>(SimModel.defaults());
        private boolean modelsTouched;
        private double prefillTokensPerSecond = 250;
        private double decodeTokensPerSecond = 40;
        private int slots = 1;
        private int maxQueue = DEFAULT_MAX_QUEUE;
        private long loadTimeMillis = 1000;
        private long seed = 42;
        private String version = "0.12.0";
        private int meanOutputTokens = 120;
        private int maxOutputTokens = 2048;
        private double decodeSlowdown = 1.0;
        private double jitter = 0.10;
        private long keepAliveMillis = 5 * 60 * 1000;
        private boolean checkHost;
        private boolean gpu;
        private int contextLength = 4096;
        private int maxLoadedModels;
        private long vramBytes;
        private long idleTimeoutMillis;
        private List<SimModel> registry = SimModel.defaults();
        private Path tlsCert;
        private Path tlsKey;

        private Builder() {
        }

        public Builder name(String v) { name = v; return this; }
        public Builder host(String v) { host = v; return this; }
        public Builder port(int v) { port = v; return this; }

        /** Replaces the model list. */
        public Builder models(List<SimModel> v) {
            models = new ArrayList<>(v);
            modelsTouched = true;
            return this;
        }

        /** Adds a model; the first call replaces the default catalogue. */
        public Builder model(SimModel v) {
            if (!modelsTouched) {
                models = new ArrayList<>();
                modelsTouched = true;
            }
            models.add(v);
            return this;
        }

        public Builder prefillTokensPerSecond(double v) { prefillTokensPerSecond = v; return this; }
        public Builder decodeTokensPerSecond(double v) { decodeTokensPerSecond = v; return this; }
        public Builder slots(int v) { slots = v; return this; }
        public Builder maxQueue(int v) { maxQueue = v; return this; }
        public Builder loadTimeMillis(long v) { loadTimeMillis = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder version(String v) { version = v; return this; }
        public Builder meanOutputTokens(int v) { meanOutputTokens = v; return this; }
        public Builder maxOutputTokens(int v) { maxOutputTokens = v; return this; }
        public Builder decodeSlowdown(double v) { decodeSlowdown = v; return this; }
        public Builder jitter(double v) { jitter = v; return this; }
        public Builder keepAliveMillis(long v) { keepAliveMillis = v; return this; }
        public Builder checkHost(boolean v) { checkHost = v; return this; }
        public Builder gpu(boolean v) { gpu = v; return this; }
        public Builder contextLength(int v) { contextLength = v; return this; }
        public Builder maxLoadedModels(int v) { maxLoadedModels = v; return this; }
        public Builder vramBytes(long v) { vramBytes = v; return this; }
        public Builder idleTimeoutMillis(long v) { idleTimeoutMillis = v; return this; }
        /** Replaces what {@code /api/pull} can fetch besides the installed models. */
        public Builder registry(List<SimModel> v) { registry = List.copyOf(v); return this; }

        /** Serve HTTPS with this PEM certificate chain and PKCS#8 key ({@code null}s: plain HTTP). */
        public Builder tls(Path cert, Path key) {
            tlsCert = cert;
            tlsKey = key;
            return this;
        }

        public SimulatorConfig build() {
            return new SimulatorConfig(name, host, port, models, prefillTokensPerSecond, decodeTokensPerSecond, slots,
                    maxQueue, loadTimeMillis, seed, version, meanOutputTokens, maxOutputTokens, decodeSlowdown, jitter,
                    keepAliveMillis, checkHost, gpu, contextLength, maxLoadedModels, vramBytes, idleTimeoutMillis,
                    registry, tlsCert, tlsKey);
        }
    }
}

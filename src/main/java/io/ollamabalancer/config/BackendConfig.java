package io.ollamabalancer.config;

import java.net.URI;
import java.util.List;
import java.util.Objects;

/**
 * One backend as written in {@code containers.config.json}: an immutable value, safe to share between threads.
 *
 * @param name           unique name, used in headers, metrics and admin routes
 * @param url            base URL of the Ollama server ({@code http://host:port} or {@code https://…}, optionally with a path
 *                       prefix)
 * @param maxConcurrency slots: how many generations the balancer lets run on it at once (across replicas)
 * @param models         a static model list, or {@code null} to discover it from {@code GET /api/tags}
 * @param enabled        {@code false} keeps it in the config but sends it nothing
 * @param maxLoadedModels how many models it holds in memory at once (its {@code OLLAMA_MAX_LOADED_MODELS}); 0 when
 *                        unset, so the balancer learns it from {@code /api/ps}
 * @param vramBytes      the memory its loaded models may take together, in bytes; 0 when unset (learned instead)
 */
public record BackendConfig(String name, URI url, int maxConcurrency, List<String> models, boolean enabled,
                            int maxLoadedModels, long vramBytes) {

    public BackendConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(url, "url");
        if (maxConcurrency < 1) {
            throw new IllegalArgumentException("maxConcurrency must be at least 1");
        }
        if (maxLoadedModels < 0 || vramBytes < 0) {
            throw new IllegalArgumentException("maxLoadedModels and vramBytes must not be negative (0 is unset)");
        }
        models = models == null ? null : List.copyOf(models);
    }

    /** A backend without memory limits: {@code maxLoadedModels} and {@code vramBytes} are learned. */
    public BackendConfig(String name, URI url, int maxConcurrency, List<String> models, boolean enabled) {
        this(name, url, maxConcurrency, models, enabled, 0, 0);
    }

    /** The host:port a backend expects in its {@code Host} header (Ollama answers 403 to a foreign one on loopback). */
    public String hostHeader() {
        int port = port();
        return url.getHost() + ":" + port;
    }

    /** Whether the backend is reached over TLS (an {@code https://} URL). */
    public boolean tls() {
        return "https".equalsIgnoreCase(url.getScheme());
    }

    public int port() {
        if (url.getPort() > 0) {
            return url.getPort();
        }
        return tls() ? 443 : 80;
    }

    /** The URL's path prefix without a trailing slash ("" for none), prepended to every forwarded path. */
    public String pathPrefix() {
        String p = url.getRawPath();
        if (p == null || p.isEmpty() || "/".equals(p)) {
            return "";
        }
        return p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    }
}

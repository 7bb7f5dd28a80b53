package io.ollamabalancer.sim;

import io.netty.handler.codec.http.HttpMethod;

import java.util.Set;

/**
 * The Ollama paths the simulator serves and the methods each accepts (Ollama's gin route table, §2 of the API notes).
 * Immutable.
 */
enum Route {
    ROOT("/", HttpMethod.GET, HttpMethod.HEAD),
    VERSION("/api/version", HttpMethod.GET, HttpMethod.HEAD),
    TAGS("/api/tags", HttpMethod.GET, HttpMethod.HEAD),
    PS("/api/ps", HttpMethod.GET),
    SHOW("/api/show", HttpMethod.POST),
    GENERATE("/api/generate", HttpMethod.POST),
    CHAT("/api/chat", HttpMethod.POST),
    EMBED("/api/embed", HttpMethod.POST),
    EMBEDDINGS("/api/embeddings", HttpMethod.POST),
    PULL("/api/pull", HttpMethod.POST),
    CREATE("/api/create", HttpMethod.POST),
    COPY("/api/copy", HttpMethod.POST),
    DELETE("/api/delete", HttpMethod.DELETE),
    V1_CHAT("/v1/chat/completions", HttpMethod.POST),
    V1_COMPLETIONS("/v1/completions", HttpMethod.POST),
    V1_EMBEDDINGS("/v1/embeddings", HttpMethod.POST),
    V1_MODELS("/v1/models", HttpMethod.GET),
    /** {@code /v1/models/:model}; the parameter cannot contain a slash. */
    V1_MODEL("/v1/models/", HttpMethod.GET);

    private final String path;
    private final Set<HttpMethod> methods;

    Route(String path, HttpMethod... methods) {
        this.path = path;
        this.methods = Set.of(methods);
    }

    boolean allows(HttpMethod m) {
        return methods.contains(m);
    }

    /** Whether the route answers model-specific work that {@link SimFaults#failNextWith} may hit. */
    boolean inference() {
        switch (this) {
            case GENERATE: case CHAT: case EMBED: case EMBEDDINGS: case V1_CHAT: case V1_COMPLETIONS:
            case V1_EMBEDDINGS:
                return true;
            default:
                return false;
        }
    }

    boolean openAi() {
        return path.startsWith("/v1/");
    }

    /** The route for an exact path, or null. */
    static Route match(String path) {
        if (path.startsWith(V1_MODEL.path)) {
            String param = path.substring(V1_MODEL.path.length());
            return !param.isEmpty() && param.indexOf('/') < 0 ? V1_MODEL : null;
        }
        for (Route r : values()) {
            if (r != V1_MODEL && r.path.equals(path)) {
                return r;
            }
        }
        return null;
    }

    /** The {@code :model} parameter of {@link #V1_MODEL}. */
    static String modelParam(String path) {
        return path.substring(V1_MODEL.path.length());
    }
}

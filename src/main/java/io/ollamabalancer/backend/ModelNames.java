package io.ollamabalancer.backend;

import java.util.Locale;

/**
 * Normalises model names for lookup only ({@code LLama3.2} → {@code llama3.2:latest}); bodies and echoed names are
 * never rewritten. Stateless.
 */
public final class ModelNames {
    private static final String DEFAULT_REGISTRY = "registry.ollama.ai/";
    private static final String LIBRARY = "library/";

    private ModelNames() {
    }

    /** The lookup key of a model name: lower-cased, registry and {@code library/} namespace stripped, tag implied. */
    public static String normalize(String name) {
        if (name == null) {
            return "";
        }
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (n.startsWith("http://") || n.startsWith("https://")) {
            n = n.substring(n.indexOf("://") + 3);
        }
        if (n.startsWith(DEFAULT_REGISTRY)) {
            n = n.substring(DEFAULT_REGISTRY.length());
        }
        if (n.startsWith(LIBRARY)) {
            n = n.substring(LIBRARY.length());
        }
        int slash = n.lastIndexOf('/');
        int colon = n.lastIndexOf(':');
        if (colon <= slash) {
            n = n + ":latest";
        }
        return n;
    }
}

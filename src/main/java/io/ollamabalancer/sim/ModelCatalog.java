package io.ollamabalancer.sim;

import io.netty.channel.EventLoop;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The installed models and their runtime state, looked up as Ollama does: case-insensitive, {@code :latest} implied,
 * {@code registry.ollama.ai/library/} optional. Starts with the configured models; {@code /api/create}, {@code /api/pull} and
 * {@code /api/copy} add more, {@code /api/delete} removes them.
 * Confined to the simulator's event loop after construction.
 */
final class ModelCatalog {
    private static final String DEFAULT_REGISTRY = "registry.ollama.ai/";
    private static final String LIBRARY = "library/";

    private final SimulatorConfig config;
    private final EventLoop loop;
    private final ModelMemory memory;
    private Map<String, ModelRuntime> byKey = new LinkedHashMap<>();

    ModelCatalog(SimulatorConfig config, EventLoop loop, ModelMemory memory, Instant started) {
        this.config = config;
        this.loop = loop;
        this.memory = memory;
        int i = 0;
        for (SimModel m : config.models()) {
            // Newest first, as /api/tags sorts: each later model was "pulled" an hour earlier.
            Instant modified = started.minusSeconds(3600L * (++i)).minusNanos(i * 137_911_211L);
            byKey.put(normalize(m.name()), new ModelRuntime(m, displayName(m.name()), modified, config, loop,
                    memory));
        }
    }

    /** The lookup key: lower-case, default registry and namespace stripped, tag implied. */
    static String normalize(String name) {
        if (name == null) {
            return "";
        }
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (n.startsWith(DEFAULT_REGISTRY)) {
            n = n.substring(DEFAULT_REGISTRY.length());
        }
        if (n.startsWith(LIBRARY)) {
            n = n.substring(LIBRARY.length());
        }
        int slash = n.lastIndexOf('/');
        int colon = n.lastIndexOf(':');
        if (!n.isEmpty() && colon <= slash) {
            n = n + ":latest";
        }
        return n;
    }

    /** The short name Ollama lists: the configured spelling with {@code :latest} added when untagged. */
    static String displayName(String name) {
        int slash = name.lastIndexOf('/');
        int colon = name.lastIndexOf(':');
        return colon <= slash ? name + ":latest" : name;
    }

    /** The model for a requested name, or null if it is not installed. */
    ModelRuntime find(String requested) {
        return byKey.get(normalize(requested));
    }

    /**
     * Installs {@code model}, replacing one of the same name (as {@code /api/create} overwrites), and lists it first
     * as the newest. A replaced runner unloads once idle, so its memory is not held by a model nobody can reach.
     */
    void add(SimModel model, Instant modified) {
        String key = normalize(model.name());
        ModelRuntime old = byKey.get(key);
        if (old != null) {
            old.expireNow();
        }
        Map<String, ModelRuntime> next = new LinkedHashMap<>();
        next.put(key, new ModelRuntime(model, displayName(model.name()), modified, config, loop, memory));
        byKey.forEach(next::putIfAbsent);
        byKey = next;
    }

    /** Uninstalls a model (a loaded runner unloads once idle); false when none of that name is installed. */
    boolean remove(String name) {
        ModelRuntime old = byKey.remove(normalize(name));
        if (old == null) {
            return false;
        }
        old.expireNow();
        return true;
    }

    /** A model the simulated registry offers under this name (installed or not), or null. */
    SimModel inRegistry(String requested) {
        String key = normalize(requested);
        for (SimModel m : config.registry()) {
            if (normalize(m.name()).equals(key)) {
                return m;
            }
        }
        return null;
    }

    /** All models, newest first (configuration order for the configured ones). */
    List<ModelRuntime> all() {
        return Collections.unmodifiableList(new ArrayList<>(byKey.values()));
    }
}

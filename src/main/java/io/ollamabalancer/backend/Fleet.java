package io.ollamabalancer.backend;

import io.ollamabalancer.config.BackendConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The set of backends the balancer fronts. The list is replaced whole (on config reload) and read lock-free;
 * each {@link Backend} carries its own thread-safe state.
 */
public final class Fleet {
    private volatile List<Backend> backends;

    public Fleet(List<BackendConfig> configs) {
        List<Backend> list = new ArrayList<>();
        for (BackendConfig c : configs) {
            list.add(new Backend(c));
        }
        backends = List.copyOf(list);
    }

    public List<Backend> all() {
        return backends;
    }

    /** Replaces the list (config reload); backends kept by name keep their state. */
    public void replace(List<Backend> next) {
        backends = List.copyOf(next);
    }

    public Backend byName(String name) {
        for (Backend b : backends) {
            if (b.name().equals(name)) {
                return b;
            }
        }
        return null;
    }

    /** Backends that may take new work for this model key, in config order. */
    public List<Backend> candidates(String modelKey, Set<Backend> excluded) {
        List<Backend> out = new ArrayList<>(backends.size());
        for (Backend b : backends) {
            if (b.isAvailable() && b.hasModel(modelKey) && (excluded == null || !excluded.contains(b))) {
                out.add(b);
            }
        }
        return out;
    }

    /** Whether any configured backend (available or not) lists the model. */
    public boolean anyHas(String modelKey) {
        for (Backend b : backends) {
            if (b.hasModel(modelKey)) {
                return true;
            }
        }
        return false;
    }

    /** Available backends, in config order. */
    public List<Backend> available() {
        List<Backend> out = new ArrayList<>(backends.size());
        for (Backend b : backends) {
            if (b.isAvailable()) {
                out.add(b);
            }
        }
        return out;
    }
}

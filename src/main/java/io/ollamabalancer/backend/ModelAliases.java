package io.ollamabalancer.backend;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The model aliases in force ({@code "aliases"} of the backends file): alias → target model, looked up by
 * {@link ModelNames#normalize normalised} name. Replaced whole when the file is reloaded.
 *
 * <p>Thread-safe: the map is an immutable snapshot behind a volatile reference, read on client event loops and
 * replaced by the config watcher's thread.
 */
public final class ModelAliases {
    private volatile Map<String, String> byKey = Map.of();
    private volatile Map<String, String> asWritten = Map.of();

    /** Replaces the aliases with {@code aliases} (alias → target, as written in the file). */
    public void replace(Map<String, String> aliases) {
        Map<String, String> keys = new LinkedHashMap<>();
        aliases.forEach((alias, target) -> keys.put(ModelNames.normalize(alias), target));
        asWritten = Collections.unmodifiableMap(new LinkedHashMap<>(aliases));
        byKey = Collections.unmodifiableMap(keys);
    }

    /** The target model (as written) of {@code model} when it is an alias, else {@code null}. */
    public String target(String model) {
        Map<String, String> m = byKey;
        return m.isEmpty() || model == null ? null : m.get(ModelNames.normalize(model));
    }

    /** Every alias → target, as written in the file. */
    public Map<String, String> all() {
        return asWritten;
    }
}

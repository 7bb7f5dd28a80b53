package io.ollamabalancer.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the object form of the backends file declares about models beyond the backends themselves: the models every
 * backend must hold ({@code "ensureModels"}), those one backend must hold (its own {@code "ensureModels"}), and
 * model aliases ({@code "aliases": {"chat": "llama3.2:3b"}}). An immutable value, safe to share between threads.
 *
 * @param ensureModels fleet-wide declared models, in file order, without duplicates
 * @param perBackend   backend name → its own declared models (absent when it declares none)
 * @param aliases      alias → target model, as written
 */
public record FleetDeclarations(List<String> ensureModels, Map<String, List<String>> perBackend,
                                Map<String, String> aliases) {

    /** Nothing declared (the array form of the file, or a file without these fields). */
    public static final FleetDeclarations NONE = new FleetDeclarations(List.of(), Map.of(), Map.of());

    public FleetDeclarations {
        ensureModels = List.copyOf(ensureModels);
        perBackend = Map.copyOf(perBackend);
        aliases = Map.copyOf(aliases);
    }

    /** The models {@code backend} must hold: the fleet-wide ones, then its own. */
    public List<String> ensuredOn(String backend) {
        Set<String> out = new LinkedHashSet<>(ensureModels);
        out.addAll(perBackend.getOrDefault(backend, List.of()));
        return List.copyOf(out);
    }

    /** These declarations with {@code extra} fleet-wide models added (the {@code ENSURE_MODELS} setting). */
    public FleetDeclarations withFleetModels(List<String> extra) {
        if (extra.isEmpty()) {
            return this;
        }
        Set<String> all = new LinkedHashSet<>(ensureModels);
        all.addAll(extra);
        return new FleetDeclarations(new ArrayList<>(all), perBackend, new LinkedHashMap<>(aliases));
    }
}

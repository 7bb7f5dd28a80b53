package io.ollamabalancer.cli;

import io.ollamabalancer.sim.SimModel;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns a model name typed on the command line or in a fleet file into a {@link SimModel}: a small catalogue of
 * well-known models with realistic sizes (the simulator's defaults plus a few larger ones), and for any other
 * name a plausible stand-in, an embedding model if the name says "embed" or "minilm", a completion model otherwise.
 * Stateless and thread-safe.
 */
public final class SimModels {
    private static final List<SimModel> CATALOGUE = catalogue();

    private SimModels() {
    }

    private static List<SimModel> catalogue() {
        List<SimModel> out = new ArrayList<>(SimModel.defaults());
        out.add(SimModel.completion("llama3.1:8b", 4_920_753_328L, "llama", "8.0B", "Q4_K_M", false));
        out.add(SimModel.completion("qwen2.5:7b", 4_683_087_332L, "qwen2", "7.6B", "Q4_K_M", false));
        out.add(SimModel.completion("mistral:7b", 4_113_301_824L, "llama", "7.2B", "Q4_K_M", false));
        out.add(SimModel.completion("gemma3:1b", 815_319_791L, "gemma3", "999.89M", "Q4_K_M", false));
        out.add(SimModel.embedding("nomic-embed-text", 274_302_450L, "nomic-bert", "137M", "F16", 768, false));
        return List.copyOf(out);
    }

    /** The catalogue entry for {@code name} ({@code :latest} implied, case-insensitive), or a stand-in. */
    public static SimModel named(String name) {
        String wanted = key(name);
        for (SimModel m : CATALOGUE) {
            if (key(m.name()).equals(wanted)) {
                return m;
            }
        }
        String n = name.strip();
        String lower = n.toLowerCase(Locale.ROOT);
        String base = lower.contains(":") ? lower.substring(0, lower.indexOf(':')) : lower;
        String family = base.replaceAll("[^a-z].*$", "");
        if (lower.contains("embed") || lower.contains("minilm")) {
            return SimModel.embedding(n, 300_000_000L, "bert", "137M", "F16", lower.contains("minilm") ? 384 : 768,
                    false);
        }
        return SimModel.completion(n, 1_000_000_000L, family.isEmpty() ? "llama" : family, "1.0B", "Q4_K_M", false);
    }

    /** The models of a comma-separated list, e.g. {@code llama3.2:1b,all-minilm}. */
    public static List<SimModel> list(List<String> names) {
        List<SimModel> out = new ArrayList<>();
        for (String n : names) {
            if (!n.isBlank()) {
                out.add(named(n));
            }
        }
        return out;
    }

    private static String key(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        int slash = n.lastIndexOf('/');
        return n.indexOf(':', Math.max(slash, 0)) >= 0 ? n : n + ":latest";
    }
}

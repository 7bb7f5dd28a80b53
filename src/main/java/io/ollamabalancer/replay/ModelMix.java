package io.ollamabalancer.replay;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A fleet's own demand mix, as {@code replay bench --fleet-mix} and {@code --mix} take it: either a list of
 * {@code MODEL:WEIGHT} (or {@code MODEL=WEIGHT}) separated by commas, e.g. {@code llama3.2:1b:50,qwen2.5:0.5b:30}
 * (the weight is what follows the last {@code :} or {@code =}, and must be a number &gt; 0), or {@code zipf} /
 * {@code zipf:S}: Zipf demand with exponent S (default 1) over the fleet's models in {@link SimFleet#modelOrder()},
 * the first the most asked (weight 1/1^S, then 1/2^S, …). Weights are kept as given; traces normalise them. A
 * listed model must be on some simulator of the fleet.
 * Stateless.
 */
public final class ModelMix {
    private ModelMix() {
    }

    /**
     * @throws IllegalArgumentException on a bad weight, an empty list, or Zipf over a fleet without models
     */
    public static Map<String, Double> parse(String text, SimFleet fleet) {
        String t = text.strip();
        String lower = t.toLowerCase(Locale.ROOT);
        if (lower.equals("zipf") || lower.startsWith("zipf:")) {
            double s = 1;
            if (lower.startsWith("zipf:")) {
                s = number(t.substring(5), t);
            }
            return zipf(fleet.modelOrder(), s);
        }
        Map<String, Double> mix = new LinkedHashMap<>();
        for (String part : t.split(",")) {
            String p = part.strip();
            if (p.isEmpty()) {
                continue;
            }
            int at = Math.max(p.lastIndexOf('='), p.lastIndexOf(':'));
            if (at <= 0) {
                throw new IllegalArgumentException("'" + p + "': expected MODEL:WEIGHT (e.g. llama3.2:1b:50)");
            }
            String model = p.substring(0, at).strip();
            double weight = number(p.substring(at + 1), p);
            if (fleet.sims().stream().noneMatch(sim -> SimFleet.has(sim, model))) {
                throw new IllegalArgumentException("'" + model + "' is on no simulator of " + fleet.name());
            }
            if (mix.put(model, weight) != null) {
                throw new IllegalArgumentException("'" + model + "' is given twice");
            }
        }
        if (mix.isEmpty()) {
            throw new IllegalArgumentException("no model given");
        }
        return mix;
    }

    /** Zipf weights {@code 1 / rank^s} over {@code models}, the first at rank 1. */
    public static Map<String, Double> zipf(List<String> models, double s) {
        if (models.isEmpty()) {
            throw new IllegalArgumentException("zipf: the fleet has no generation model");
        }
        if (!(s >= 0) || Double.isInfinite(s)) {
            throw new IllegalArgumentException("zipf: the exponent must be a number >= 0, found " + s);
        }
        Map<String, Double> mix = new LinkedHashMap<>();
        for (int i = 0; i < models.size(); i++) {
            mix.put(models.get(i), 1 / Math.pow(i + 1, s));
        }
        return mix;
    }

    /** {@code mix} with shares summing to 1, in the same order. */
    public static Map<String, Double> normalised(Map<String, Double> mix) {
        double total = mix.values().stream().mapToDouble(Double::doubleValue).sum();
        Map<String, Double> out = new LinkedHashMap<>();
        mix.forEach((k, v) -> out.put(k, v / total));
        return out;
    }

    private static double number(String text, String part) {
        try {
            double v = Double.parseDouble(text.strip());
            if (v > 0 && !Double.isInfinite(v)) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("'" + part + "': the weight must be a number > 0");
    }
}

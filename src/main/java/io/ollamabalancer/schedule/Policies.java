package io.ollamabalancer.schedule;

import java.util.List;
import java.util.Locale;

/**
 * Builds a {@link DispatchPolicy} by its configured name. Stateless.
 *
 * <ul>
 *   <li>{@code eft} (default): earliest estimated finish time, late binding ({@link EftPolicy})</li>
 *   <li>{@code least-connections}: fewest slots in use relative to size, late binding
 *       ({@link LeastConnectionsPolicy})</li>
 *   <li>{@code round-robin}: next backend in turn, bound at arrival ({@link RoundRobinPolicy})</li>
 *   <li>{@code legacy}: the old project's token-cost rule, bound at arrival ({@link LegacyPolicy})</li>
 * </ul>
 */
public final class Policies {
    /** Every accepted name, default first. */
    public static final List<String> NAMES = List.of("eft", "least-connections", "round-robin", "legacy");

    private static final double LEGACY_QUEUE_WEIGHT = 1.0;
    private static final double LEGACY_ALPHA = 0.2;

    private Policies() {
    }

    /**
     * @throws IllegalArgumentException for a name not in {@link #NAMES} (case and surrounding blanks ignored)
     */
    public static DispatchPolicy create(String name, Predictor predictor, SchedulerSettings settings) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case "eft":
                return new EftPolicy(predictor, settings.affinityMargin(), settings.lookahead());
            case "least-connections":
                return new LeastConnectionsPolicy();
            case "round-robin":
                return new RoundRobinPolicy();
            case "legacy":
                return new LegacyPolicy(LEGACY_QUEUE_WEIGHT, LEGACY_ALPHA);
            default:
                throw new IllegalArgumentException("unknown dispatch policy '" + name + "'; expected one of "
                        + String.join(", ", NAMES));
        }
    }
}

package io.ollamabalancer.schedule;

import java.util.List;
import java.util.Locale;

/**
 * Builds a {@link DispatchPolicy} by its configured name. Stateless.
 *
 * <p><em>Early binding</em> means a request is given a backend the moment it arrives and waits for that backend
 * (as behind a conventional proxy, in Ollama's own FIFO); <em>late binding</em> means it waits in the balancer,
 * unbound, and the backend is chosen when a slot can be had.
 * <ul>
 *   <li>{@code eft} (default): earliest estimated finish time, late binding ({@link EftPolicy})</li>
 *   <li>{@code least-connections}: fewest active (waiting + running) requests relative to slots, bound at
 *       arrival, as nginx {@code least_conn} and HAProxy {@code leastconn} ({@link LeastConnectionsPolicy})</li>
 *   <li>{@code least-connections-late}: fewest slots in use, late binding: whichever backend frees a slot first
 *       ({@link LateLeastConnectionsPolicy})</li>
 *   <li>{@code round-robin}: next backend in turn, bound at arrival ({@link RoundRobinPolicy})</li>
 *   <li>{@code legacy}: the old project's token-cost rule, bound at arrival ({@link LegacyPolicy})</li>
 * </ul>
 */
public final class Policies {
    /** Every accepted name, default first. */
    public static final List<String> NAMES = List.of("eft", "least-connections", "least-connections-late",
            "round-robin", "legacy");

    private static final String EXPECTED = "eft (earliest estimated finish, late binding), least-connections"
            + " (fewest active requests, bound at arrival), least-connections-late (fewest slots in use, late"
            + " binding), round-robin (bound at arrival), legacy (old token-cost rule, bound at arrival)";
    private static final double LEGACY_QUEUE_WEIGHT = 1.0;
    private static final double LEGACY_ALPHA = 0.2;

    private Policies() {
    }

    /**
     * @throws IllegalArgumentException for a name not in {@link #NAMES} (case and surrounding blanks ignored); the
     *                                  message lists every name and whether it binds early or late
     */
    public static DispatchPolicy create(String name, Predictor predictor, SchedulerSettings settings) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case "eft":
                return new EftPolicy(predictor, settings.affinityMargin(), settings.lookahead());
            case "least-connections":
                return new LeastConnectionsPolicy();
            case "least-connections-late":
                return new LateLeastConnectionsPolicy();
            case "round-robin":
                return new RoundRobinPolicy();
            case "legacy":
                return new LegacyPolicy(LEGACY_QUEUE_WEIGHT, LEGACY_ALPHA);
            default:
                throw new IllegalArgumentException("unknown dispatch policy '" + name + "'; expected one of "
                        + EXPECTED);
        }
    }
}

package io.ollamabalancer.cluster;

import java.time.Duration;

/**
 * Told when another replica ejected or recovered a backend, so every replica sees the same health. Called on the
 * cluster thread; implementations only flip local state (and must not block).
 */
public interface HealthListener {
    HealthListener NONE = new HealthListener() {
        @Override
        public void ejectedElsewhere(String backend, Duration remaining, String byReplica, String reason) {
        }

        @Override
        public void recoveredElsewhere(String backend) {
        }
    };

    /**
     * Another replica ejected {@code backend}: treat it as down for {@code remaining} (then let local probes decide
     * again), without publishing the ejection back.
     */
    void ejectedElsewhere(String backend, Duration remaining, String byReplica, String reason);

    /** Another replica saw {@code backend} recover before its ejection ran out. */
    void recoveredElsewhere(String backend);
}

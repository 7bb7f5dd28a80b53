package io.ollamabalancer.backend;

import java.time.Duration;
import java.util.Objects;

/**
 * The numbers of the health policy: when a backend is ejected, for how long, how it is probed and how fast it
 * ramps back up. Immutable; safe to share between threads. {@link #defaults()} gives the values below.
 *
 * @param passiveFailureThreshold consecutive failed requests that eject a backend (default 3; the kinds that
 *                                count are {@link FailureKind}'s); a refused connection ejects at once regardless
 * @param activeFailureThreshold  consecutive failed probes that eject it (default 2: under CPU starvation one
 *                                probe can time out while the backend streams fine; a refused connection on the
 *                                request path still ejects at once)
 * @param baseEjection            first ejection time (default 1 s); doubled on every ejection that follows a
 *                                short healthy period
 * @param maxEjection             cap of the doubling (default 60 s)
 * @param backoffResetAfter       how long a backend must stay up for its next ejection to start again from
 *                                {@code baseEjection} (default 60 s)
 * @param slowStart               ramp after a recovery: its concurrency limit grows linearly from 1 to its
 *                                {@code maxConcurrency} over this time (default 20 s; zero disables)
 * @param probeInterval           time between two probes of a healthy backend (default 5 s)
 * @param probeTimeout            a probe not answered within this time counts as failed (default 5 s)
 * @param trialTimeout            a half-open trial that reported nothing within this time (say its client went
 *                                away) no longer blocks the next trial (default 30 s, longer than a model load's
 *                                wait for response headers usually is)
 * @param probePath               what a probe GETs (default {@code /api/version}: tiny, touches no model)
 */
public record HealthPolicy(
        int passiveFailureThreshold,
        int activeFailureThreshold,
        Duration baseEjection,
        Duration maxEjection,
        Duration backoffResetAfter,
        Duration slowStart,
        Duration probeInterval,
        Duration probeTimeout,
        Duration trialTimeout,
        String probePath) {

    public HealthPolicy {
        if (passiveFailureThreshold < 1 || activeFailureThreshold < 1) {
            throw new IllegalArgumentException("failure thresholds must be at least 1");
        }
        positive(baseEjection, "baseEjection");
        positive(maxEjection, "maxEjection");
        if (maxEjection.compareTo(baseEjection) < 0) {
            throw new IllegalArgumentException("maxEjection must not be shorter than baseEjection");
        }
        Objects.requireNonNull(backoffResetAfter, "backoffResetAfter");
        Objects.requireNonNull(slowStart, "slowStart");
        if (slowStart.isNegative() || backoffResetAfter.isNegative()) {
            throw new IllegalArgumentException("durations must not be negative");
        }
        positive(probeInterval, "probeInterval");
        positive(probeTimeout, "probeTimeout");
        positive(trialTimeout, "trialTimeout");
        Objects.requireNonNull(probePath, "probePath");
    }

    public static HealthPolicy defaults() {
        return new HealthPolicy(3, 2, Duration.ofSeconds(1), Duration.ofSeconds(60), Duration.ofSeconds(60),
                Duration.ofSeconds(20), Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(30),
                "/api/version");
    }

    /** A copy with another slow-start ramp. */
    public HealthPolicy withSlowStart(Duration ramp) {
        return new HealthPolicy(passiveFailureThreshold, activeFailureThreshold, baseEjection, maxEjection,
                backoffResetAfter, ramp, probeInterval, probeTimeout, trialTimeout, probePath);
    }

    /** A copy that ejects after {@code n} failed probes in a row. */
    public HealthPolicy withActiveFailureThreshold(int n) {
        return new HealthPolicy(passiveFailureThreshold, n, baseEjection, maxEjection, backoffResetAfter, slowStart,
                probeInterval, probeTimeout, trialTimeout, probePath);
    }

    /** A copy with other probe timings. */
    public HealthPolicy withProbing(Duration interval, Duration timeout) {
        return new HealthPolicy(passiveFailureThreshold, activeFailureThreshold, baseEjection, maxEjection,
                backoffResetAfter, slowStart, interval, timeout, trialTimeout, probePath);
    }

    private static void positive(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive");
        }
    }
}

package io.ollamabalancer.cli;

import io.netty.util.ResourceLeakDetector;

/**
 * Netty's buffer leak detector in a running balancer: off unless the operator asks for it with Netty's own system
 * property ({@code -Dio.netty.leakDetection.level=simple|advanced|paranoid}, or its older spelling). Netty's default
 * (simple) tracks one buffer in 128 with a stack trace and makes every channel pipeline touch each message it passes
 * on: 3 % of the event loops' samples at 1,000 streams (JFR, {@code bench/run.sh streams}). Leaks are what the test
 * suite is for: it runs every test at paranoid and fails on a report. Called once, first thing in {@link Main}, before
 * any pipeline reads the level.
 */
final class LeakDetectionDefault {
    static final String PROPERTY = "io.netty.leakDetection.level";
    static final String LEGACY_PROPERTY = "io.netty.leakDetectionLevel";

    private LeakDetectionDefault() {
    }

    /** Turns the detector off unless one of Netty's properties chose a level. */
    static void apply() {
        if (System.getProperty(PROPERTY) == null && System.getProperty(LEGACY_PROPERTY) == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
    }
}

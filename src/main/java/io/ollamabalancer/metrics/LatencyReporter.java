package io.ollamabalancer.metrics;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Ends a latency interval every period by calling {@link LatencyRecorders#rollInterval()} on its own single daemon
 * thread ({@code latency-reporter}), off the event loops. {@link #close()} stops it and rolls once more so the last
 * partial interval reaches the hlog buffer. Thread-safe.
 */
public final class LatencyReporter implements AutoCloseable {
    public static final Duration DEFAULT_PERIOD = Duration.ofSeconds(10);
    private static final Logger LOG = LoggerFactory.getLogger(LatencyReporter.class);

    private final LatencyRecorders recorders;
    private final long periodMillis;
    private ScheduledExecutorService executor; // guarded by this

    public LatencyReporter(LatencyRecorders recorders) {
        this(recorders, DEFAULT_PERIOD);
    }

    public LatencyReporter(LatencyRecorders recorders, Duration period) {
        if (period.isZero() || period.isNegative()) {
            throw new IllegalArgumentException("period must be positive");
        }
        this.recorders = recorders;
        this.periodMillis = period.toMillis();
    }

    /** Starts the periodic roll (once; later calls do nothing). */
    public synchronized LatencyReporter start() {
        if (executor == null) {
            ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "latency-reporter");
                t.setDaemon(true);
                return t;
            });
            ex.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            ex.scheduleAtFixedRate(this::tick, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
            executor = ex;
        }
        return this;
    }

    private void tick() {
        // A throw would cancel every later run of a scheduled task, so nothing escapes.
        try {
            recorders.rollInterval();
        } catch (RuntimeException e) {
            LOG.warn("latency interval roll failed", e);
        }
    }

    @Override
    public synchronized void close() {
        if (executor != null) {
            executor.shutdownNow();
            executor = null;
            tick();
        }
    }
}

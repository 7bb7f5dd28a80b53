package io.ollamabalancer.dashboard;

import io.ollamabalancer.metrics.LatencyKind;
import io.ollamabalancer.metrics.LatencyRecorders;
import io.ollamabalancer.metrics.RecentLatency;
import io.ollamabalancer.schedule.ModelQueue;
import io.ollamabalancer.schedule.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Takes one chart sample a second into a ring, so the dashboard shows the last minutes as soon as it opens. The
 * request path does nothing for it: a tick reads what the recorders already keep (three overall latency series
 * flushed under their roll lock, the generated-token counters) and the queues' sizes, so it costs
 * O(models + counter series) once a second whether or not anyone watches.
 *
 * <p>Threading: {@link #tick()} runs on this sampler's own daemon thread (started by {@link #start()}) or, in tests,
 * on the caller's; {@link #after} may be called from any thread.
 */
public final class ChartSampler implements AutoCloseable {
    /** Fifteen minutes of one-second samples. */
    public static final int DEFAULT_KEPT_SECONDS = 900;
    private static final Logger LOG = LoggerFactory.getLogger(ChartSampler.class);

    private final LatencyRecorders recorders;
    private final Scheduler scheduler;
    private final LongSupplier wallMillis;
    private final LongSupplier nanoTime;
    private final SampleRing ring;
    private ScheduledThreadPoolExecutor timer; // guarded by this
    // Touched only by the ticking thread:
    private long lastTickNanos;
    private long lastTokens;

    /** Production wiring: wall and monotonic system clocks, {@value #DEFAULT_KEPT_SECONDS} seconds kept. */
    public ChartSampler(LatencyRecorders recorders, Scheduler scheduler) {
        this(recorders, scheduler, System::currentTimeMillis, System::nanoTime, DEFAULT_KEPT_SECONDS);
    }

    public ChartSampler(LatencyRecorders recorders, Scheduler scheduler, LongSupplier wallMillis,
                        LongSupplier nanoTime, int keptSeconds) {
        this.recorders = recorders;
        this.scheduler = scheduler;
        this.wallMillis = wallMillis;
        this.nanoTime = nanoTime;
        this.ring = new SampleRing(keptSeconds);
        // The first tick only starts the windows: what came before it is not one second's worth.
        this.lastTickNanos = nanoTime.getAsLong();
        this.lastTokens = recorders.counters().generatedTokens().total();
        recorders.recent(LatencyKind.TTFT);
        recorders.recent(LatencyKind.QUEUE_WAIT);
        recorders.recent(LatencyKind.TOTAL);
    }

    /** Starts ticking once a second on a daemon thread of its own. */
    public synchronized ChartSampler start() {
        if (timer == null) {
            timer = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "dashboard-sampler");
                t.setDaemon(true);
                return t;
            });
            timer.scheduleAtFixedRate(this::tickSafely, 1, 1, TimeUnit.SECONDS);
        }
        return this;
    }

    private void tickSafely() {
        try {
            tick();
        } catch (RuntimeException e) {
            LOG.warn("dashboard sample failed", e); // a missed second, not a stopped chart
        }
    }

    /** Closes the current window into one sample. */
    public void tick() {
        long now = nanoTime.getAsLong();
        double seconds = Math.max(1e-3, (now - lastTickNanos) / 1e9);
        lastTickNanos = now;
        long tokens = recorders.counters().generatedTokens().total();
        long newTokens = Math.max(0, tokens - lastTokens);
        lastTokens = tokens;
        RecentLatency ttft = recorders.recent(LatencyKind.TTFT);
        RecentLatency wait = recorders.recent(LatencyKind.QUEUE_WAIT);
        RecentLatency total = recorders.recent(LatencyKind.TOTAL);
        int queued = 0;
        for (ModelQueue q : scheduler.queues().values()) {
            queued += q.size();
        }
        ring.add(new ChartSample(wallMillis.getAsLong() / 1000, total.count() / seconds, newTokens / seconds,
                ttft.p50Micros() / 1000.0, ttft.p99Micros() / 1000.0, wait.p50Micros() / 1000.0,
                wait.p99Micros() / 1000.0, queued));
    }

    /** The kept samples newer than {@code afterEpochSecond}, oldest first. */
    public List<ChartSample> after(long afterEpochSecond) {
        return ring.after(afterEpochSecond);
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }
}

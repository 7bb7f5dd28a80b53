package io.ollamabalancer.testing;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Watches the memory Netty's default allocator holds (direct and heap: every buffer of the balancer's and the
 * simulators' channels) from a sampling thread, and keeps the peak, so a test can show that moving many megabytes
 * through the process never held them at once. Thread-safe; close it to stop sampling.
 */
public final class NettyMemory implements AutoCloseable {
    private static final long SAMPLE_MICROS = 500;

    private final ByteBufAllocatorMetric metric;
    private final long baseline;
    private final AtomicLong peak = new AtomicLong();
    private final Thread sampler;
    private volatile boolean running = true;

    private NettyMemory() {
        metric = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
        baseline = used();
        peak.set(baseline);
        sampler = new Thread(this::sample, "netty-memory-sampler");
        sampler.setDaemon(true);
        sampler.start();
    }

    /** Starts sampling now. */
    public static NettyMemory watch() {
        return new NettyMemory();
    }

    /** The most held above what was held when watching started. */
    public long peakGrowth() {
        return Math.max(0, peak.get() - baseline);
    }

    private long used() {
        return metric.usedDirectMemory() + metric.usedHeapMemory();
    }

    private void sample() {
        while (running) {
            peak.accumulateAndGet(used(), Math::max);
            java.util.concurrent.locks.LockSupport.parkNanos(SAMPLE_MICROS * 1000);
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        sampler.join();
        peak.accumulateAndGet(used(), Math::max);
    }
}

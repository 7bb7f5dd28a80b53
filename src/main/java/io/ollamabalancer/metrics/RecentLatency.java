package io.ollamabalancer.metrics;

/**
 * One overall latency series over a short, recent window (what {@link LatencyRecorders#recent} returns). Immutable.
 *
 * @param count      values recorded in the window
 * @param p50Micros  their median, microseconds (0 when {@code count} is 0)
 * @param p99Micros  their 99th percentile, microseconds (0 when {@code count} is 0)
 */
public record RecentLatency(long count, long p50Micros, long p99Micros) {
    /** An empty window. */
    public static final RecentLatency NONE = new RecentLatency(0, 0, 0);
}

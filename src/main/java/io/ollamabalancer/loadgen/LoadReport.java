package io.ollamabalancer.loadgen;

/**
 * The result of one run: its configuration, the measured requests and the warm-up apart. Immutable.
 *
 * @param elapsedNanos from the first connection's start to the last connection's end
 * @param completedAll false when the run had to be stopped at {@link LoadgenConfig#bound()}
 */
public record LoadReport(LoadgenConfig config, LoadStats.Snapshot measured, LoadStats.Snapshot warmup,
                         long elapsedNanos, boolean completedAll) {

    /** Failed requests, warm-up included. */
    public long errors() {
        return measured.errorCount() + warmup.errorCount();
    }

    /** One line for people: counts and the main percentiles. */
    public String oneLine() {
        LatencySummary ttft = LatencySummary.ofMicros(measured.ttft());
        LatencySummary delay = LatencySummary.ofMicros(measured.chunkDelay());
        return String.format(java.util.Locale.ROOT,
                "%d requests ok, %d errors (warm-up: %d ok, %d errors), %d chunks; ttft p50 %.2f ms p99 %.2f ms;"
                        + " chunk delay p50 %.3f ms p99 %.3f ms%s",
                measured.ok(), measured.errorCount(), warmup.ok(), warmup.errorCount(), measured.chunks(),
                ttft.p50(), ttft.p99(), delay.p50(), delay.p99(), completedAll ? "" : " (stopped at the time bound)");
    }
}

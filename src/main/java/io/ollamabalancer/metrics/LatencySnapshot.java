package io.ollamabalancer.metrics;

import org.HdrHistogram.Histogram;

import java.util.List;

/**
 * Latency histograms over one window, as renderers read them. The snapshot owns its histograms: each is a private
 * copy made for this snapshot, so a renderer may read (or even change) them without affecting anyone else.
 *
 * @param window  {@code cumulative}, {@code interval} or {@code since}
 * @param startMs the window's start, epoch milliseconds (0 when no interval completed yet)
 * @param endMs   the window's end, epoch milliseconds
 * @param entries one per histogram, ordered by kind, then overall, models, backends (labels sorted)
 */
public record LatencySnapshot(String window, long startMs, long endMs, List<Entry> entries) {

    public LatencySnapshot {
        entries = List.copyOf(entries);
    }

    /**
     * @param key       which histogram
     * @param histogram values in microseconds
     * @param sumMicros exact sum of the values (cumulative window only), else {@code -1}
     */
    public record Entry(SeriesKey key, Histogram histogram, long sumMicros) {
    }

    /** The entry for this key, or {@code null}. */
    public Entry find(SeriesKey key) {
        for (Entry e : entries) {
            if (e.key().equals(key)) {
                return e;
            }
        }
        return null;
    }
}

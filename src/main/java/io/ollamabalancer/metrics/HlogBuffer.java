package io.ollamabalancer.metrics;

import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;
import org.HdrHistogram.HistogramLogWriter;
import org.HdrHistogram.PackedHistogram;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The recent interval histograms as an in-memory HdrHistogram interval log ({@code .hlog}): one block of tagged
 * lines per completed interval, written with {@link HistogramLogWriter}, keeping the last {@code maxIntervals}
 * non-empty intervals and at most {@code maxBytes} of text. It is also where {@code since=} windows are read back
 * from (with {@link HistogramLogReader}), so the intervals are stored once, compressed.
 *
 * <p>Thread-safe: every method synchronizes on this buffer; only the reporter appends, readers render.
 */
final class HlogBuffer {
    private static final double MICROS_PER_MILLI = 1000.0;

    private final long baseTimeMs;
    private final int maxIntervals;
    private final long maxBytes;
    private final ArrayDeque<Block> blocks = new ArrayDeque<>();
    private long bytes;

    private record Line(String tag, String text) {
    }

    private record Block(long startMs, long endMs, List<Line> lines, long bytes) {
    }

    HlogBuffer(long baseTimeMs, int maxIntervals, long maxBytes) {
        if (maxIntervals < 1) {
            throw new IllegalArgumentException("maxIntervals must be at least 1");
        }
        this.baseTimeMs = baseTimeMs;
        this.maxIntervals = maxIntervals;
        this.maxBytes = maxBytes;
    }

    /** Adds one interval's tagged histograms (values in microseconds). */
    synchronized void append(long startMs, long endMs, List<Histogram> histograms) {
        if (histograms.isEmpty()) {
            return;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, false, StandardCharsets.UTF_8);
        HistogramLogWriter writer = new HistogramLogWriter(ps);
        List<Line> lines = new ArrayList<>(histograms.size());
        long size = 0;
        for (Histogram h : histograms) {
            out.reset();
            // Interval_Max in milliseconds, like the .hgrm dump; the encoded histogram stays in microseconds.
            writer.outputIntervalHistogram((startMs - baseTimeMs) / 1000.0, (endMs - baseTimeMs) / 1000.0, h,
                    MICROS_PER_MILLI);
            ps.flush();
            String text = out.toString(StandardCharsets.UTF_8);
            lines.add(new Line(h.getTag(), text));
            size += text.length();
        }
        blocks.addLast(new Block(startMs, endMs, List.copyOf(lines), size));
        bytes += size;
        while (blocks.size() > maxIntervals || (bytes > maxBytes && blocks.size() > 1)) {
            bytes -= blocks.removeFirst().bytes();
        }
    }

    synchronized int intervals() {
        return blocks.size();
    }

    /**
     * The log text: header (comment, format version, start and base time, legend) then every kept interval ending
     * after {@code sinceMs} whose lines' tags pass {@code tagFilter}.
     */
    synchronized String render(long sinceMs, Predicate<String> tagFilter) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, false, StandardCharsets.UTF_8);
        HistogramLogWriter writer = new HistogramLogWriter(ps);
        writer.outputComment("[ollama-balancer latency intervals: histogram values in microseconds, "
                + "Interval_Max in milliseconds; Tag=name or name{label=value}]");
        writer.outputLogFormatVersion();
        writer.outputStartTime(baseTimeMs);
        writer.outputBaseTime(baseTimeMs);
        writer.outputLegend();
        ps.flush();
        StringBuilder sb = new StringBuilder(out.toString(StandardCharsets.UTF_8));
        for (Block b : blocks) {
            if (b.endMs() <= sinceMs) {
                continue;
            }
            for (Line line : b.lines()) {
                if (tagFilter.test(line.tag())) {
                    sb.append(line.text());
                }
            }
        }
        return sb.toString();
    }

    /**
     * Merges, per tag, the kept intervals that end after {@code sinceMs}, by reading the log back. {@code window}
     * receives the covered span {@code [start, end]} in epoch milliseconds ({@code [sinceMs, sinceMs]} if none).
     */
    Map<String, Histogram> mergeSince(long sinceMs, long[] window) {
        String text;
        long start = Long.MAX_VALUE;
        long end = Long.MIN_VALUE;
        synchronized (this) {
            text = render(sinceMs, tag -> true);
            for (Block b : blocks) {
                if (b.endMs() > sinceMs) {
                    start = Math.min(start, b.startMs());
                    end = Math.max(end, b.endMs());
                }
            }
        }
        Map<String, Histogram> merged = new HashMap<>();
        HistogramLogReader reader = new HistogramLogReader(
                new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
        try {
            for (EncodableHistogram e = reader.nextIntervalHistogram(); e != null; e = reader.nextIntervalHistogram()) {
                if (!(e instanceof Histogram h) || h.getTag() == null) {
                    continue;
                }
                merged.computeIfAbsent(h.getTag(), t -> new PackedHistogram(LatencySeries.DIGITS)).add(h);
            }
        } finally {
            reader.close();
        }
        window[0] = start == Long.MAX_VALUE ? sinceMs : start;
        window[1] = end == Long.MIN_VALUE ? sinceMs : end;
        return merged;
    }
}

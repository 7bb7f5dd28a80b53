package io.ollamabalancer.metrics;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import org.HdrHistogram.Histogram;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Renders {@code GET /debug/latency}: HdrHistogram percentile distributions ({@code .hgrm} text, milliseconds),
 * the interval log ({@code .hlog}) or a JSON summary, over the cumulative, last-interval or {@code since} window
 * (see {@link DumpRequest}). Stateless apart from the recorders it reads; thread-safe; each call returns a fresh
 * body the caller owns.
 */
public final class LatencyDump {
    private static final JsonFactory JSON = new JsonFactory();
    private static final double MICROS_PER_MILLI = 1000.0;

    private final LatencyRecorders recorders;

    public LatencyDump(LatencyRecorders recorders) {
        this.recorders = recorders;
    }

    /** Parses the query parameters and renders; throws {@link IllegalArgumentException} for a bad query (400). */
    public Rendered render(Map<String, List<String>> queryParams) {
        return render(DumpRequest.parse(queryParams));
    }

    public Rendered render(DumpRequest request) {
        if (request.format() == DumpRequest.Format.HLOG) {
            return Rendered.text(Rendered.TEXT, recorders.hlog(hlogSince(request), tagFilter(request)));
        }
        LatencySnapshot snapshot = switch (request.window()) {
            case CUMULATIVE -> recorders.snapshotNow();
            case INTERVAL -> recorders.lastInterval();
            case SINCE -> recorders.since(request.sinceMs());
        };
        return request.format() == DumpRequest.Format.JSON
                ? new Rendered(Rendered.JSON, json(snapshot, request))
                : Rendered.text(Rendered.TEXT, text(snapshot, request));
    }

    private long hlogSince(DumpRequest request) {
        return switch (request.window()) {
            case CUMULATIVE -> Long.MIN_VALUE;
            // Only the block that started where the last interval started ends after that instant.
            case INTERVAL -> recorders.lastIntervalStartMillis();
            case SINCE -> request.sinceMs();
        };
    }

    private static Predicate<String> tagFilter(DumpRequest request) {
        if (request.kind() == null) {
            return tag -> true;
        }
        String name = request.kind().label();
        return tag -> tag != null && (tag.equals(name) || tag.startsWith(name + "{"));
    }

    private static String text(LatencySnapshot snapshot, DumpRequest request) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, false, StandardCharsets.UTF_8);
        ps.println("# window: " + snapshot.window() + " " + Instant.ofEpochMilli(snapshot.startMs()) + " .. "
                + Instant.ofEpochMilli(snapshot.endMs()));
        int shown = 0;
        for (LatencySnapshot.Entry e : snapshot.entries()) {
            if (!request.wants(e.key().kind()) || e.histogram().getTotalCount() == 0) {
                continue;
            }
            ps.println("# histogram: " + e.key().describe() + " (milliseconds, microsecond resolution)");
            e.histogram().outputPercentileDistribution(ps, MICROS_PER_MILLI);
            ps.println();
            shown++;
        }
        if (shown == 0) {
            ps.println("# no latency recorded in this window");
        }
        ps.flush();
        return out.toString(StandardCharsets.UTF_8);
    }

    private static byte[] json(LatencySnapshot snapshot, DumpRequest request) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("window", snapshot.window());
            g.writeNumberField("startMs", snapshot.startMs());
            g.writeNumberField("endMs", snapshot.endMs());
            g.writeArrayFieldStart("histograms");
            for (LatencySnapshot.Entry e : snapshot.entries()) {
                Histogram h = e.histogram();
                if (!request.wants(e.key().kind()) || h.getTotalCount() == 0) {
                    continue;
                }
                g.writeStartObject();
                g.writeStringField("name", e.key().kind().label());
                g.writeObjectFieldStart("labels");
                if (!e.key().isOverall()) {
                    g.writeStringField(e.key().labelName(), e.key().labelValue());
                }
                g.writeEndObject();
                g.writeStringField("unit", "ms");
                g.writeNumberField("count", h.getTotalCount());
                g.writeNumberField("mean", Math.round(h.getMean()) / MICROS_PER_MILLI);
                g.writeNumberField("p50", h.getValueAtPercentile(50.0) / MICROS_PER_MILLI);
                g.writeNumberField("p90", h.getValueAtPercentile(90.0) / MICROS_PER_MILLI);
                g.writeNumberField("p99", h.getValueAtPercentile(99.0) / MICROS_PER_MILLI);
                g.writeNumberField("p999", h.getValueAtPercentile(99.9) / MICROS_PER_MILLI);
                g.writeNumberField("max", h.getMaxValue() / MICROS_PER_MILLI);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}

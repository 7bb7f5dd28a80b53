package io.ollamabalancer.loadgen;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.util.Map;

/**
 * Writes a {@link LoadReport} as the JSON summary that {@code bench/run.sh} reads:
 * <pre>
 * { "targets": [...], "path": "/api/generate", "connections": 1000, "requestsPerConnection": 2,
 *   "warmupPerConnection": 1, "elapsedSeconds": 17.2, "completedAll": true,
 *   "requests": {"started": 2000, "ok": 2000, "errors": 0, "errorsByKind": {"status": 0, ...}},
 *   "chunks": {"count": 202000, "withoutCreatedAt": 0, "negativeDelays": 0},
 *   "throughput": {"requestsPerSecond": 180.1, "chunksPerSecond": 18190.3},
 *   "ttftMs": {"count": .., "mean": .., "p50": .., "p90": .., "p99": .., "p999": .., "max": ..},
 *   "chunkDelayMs": {...}, "chunkGapMs": {...}, "totalMs": {...},
 *   "warmup": {"started": 1000, "ok": 1000, "errors": 0} }
 * </pre>
 * Stateless and thread-safe. Does not close the stream it is given.
 */
public final class ReportJson {
    private static final JsonFactory JSON = new JsonFactory().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);

    private ReportJson() {
    }

    public static void write(LoadReport r, OutputStream out) throws IOException {
        try (JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8).useDefaultPrettyPrinter()) {
            LoadgenConfig c = r.config();
            LoadStats.Snapshot m = r.measured();
            g.writeStartObject();
            g.writeArrayFieldStart("targets");
            for (URI t : c.targets()) {
                g.writeString(t.toString());
            }
            g.writeEndArray();
            g.writeStringField("path", c.path());
            g.writeNumberField("connections", c.connections());
            g.writeNumberField("requestsPerConnection", c.requests());
            g.writeNumberField("warmupPerConnection", c.warmup());
            g.writeNumberField("durationSeconds", c.duration().toMillis() / 1000.0);
            g.writeNumberField("elapsedSeconds", r.elapsedNanos() / 1e9);
            g.writeBooleanField("completedAll", r.completedAll());
            g.writeObjectFieldStart("requests");
            g.writeNumberField("started", m.started());
            g.writeNumberField("ok", m.ok());
            g.writeNumberField("errors", m.errorCount());
            errorsByKind(g, m.errors());
            g.writeEndObject();
            g.writeObjectFieldStart("chunks");
            g.writeNumberField("count", m.chunks());
            g.writeNumberField("withoutCreatedAt", m.chunksWithoutCreatedAt());
            g.writeNumberField("negativeDelays", m.negativeDelays());
            g.writeEndObject();
            g.writeObjectFieldStart("throughput");
            double span = m.spanNanos() / 1e9;
            g.writeNumberField("requestsPerSecond", span > 0 ? m.ok() / span : 0);
            g.writeNumberField("chunksPerSecond", span > 0 ? m.chunks() / span : 0);
            g.writeEndObject();
            latency(g, "ttftMs", LatencySummary.ofMicros(m.ttft()));
            latency(g, "chunkDelayMs", LatencySummary.ofMicros(m.chunkDelay()));
            latency(g, "chunkGapMs", LatencySummary.ofMicros(m.chunkGap()));
            latency(g, "totalMs", LatencySummary.ofMicros(m.total()));
            g.writeObjectFieldStart("warmup");
            g.writeNumberField("started", r.warmup().started());
            g.writeNumberField("ok", r.warmup().ok());
            g.writeNumberField("errors", r.warmup().errorCount());
            errorsByKind(g, r.warmup().errors());
            g.writeEndObject();
            g.writeEndObject();
        }
        out.write('\n');
        out.flush();
    }

    private static void errorsByKind(JsonGenerator g, Map<ErrorKind, Long> errors) throws IOException {
        g.writeObjectFieldStart("errorsByKind");
        for (ErrorKind k : ErrorKind.values()) {
            g.writeNumberField(k.jsonName(), errors.getOrDefault(k, 0L));
        }
        g.writeEndObject();
    }

    private static void latency(JsonGenerator g, String name, LatencySummary s) throws IOException {
        g.writeObjectFieldStart(name);
        g.writeNumberField("count", s.count());
        g.writeNumberField("mean", round(s.mean()));
        g.writeNumberField("p50", round(s.p50()));
        g.writeNumberField("p90", round(s.p90()));
        g.writeNumberField("p99", round(s.p99()));
        g.writeNumberField("p999", round(s.p999()));
        g.writeNumberField("max", round(s.max()));
        g.writeEndObject();
    }

    /** Microsecond resolution is all the histograms hold. */
    private static double round(double ms) {
        return Math.round(ms * 1000) / 1000.0;
    }
}

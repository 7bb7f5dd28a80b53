package io.ollamabalancer.dashboard;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendMemory;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.metrics.JsonFields;
import io.ollamabalancer.metrics.QueueSummary;
import io.ollamabalancer.metrics.Rendered;
import io.ollamabalancer.metrics.SpeedSample;
import io.ollamabalancer.schedule.ModelQueue;
import io.ollamabalancer.schedule.Scheduler;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Renders {@code GET /balancer/ui/data}: the compact JSON the dashboard page polls. Backends (health, models
 * installed and warm, slots, outstanding, last error, memory limit, learned speeds), queues (depth, waiting by
 * priority, oldest wait, estimated drain time) and the chart samples newer than the page's last one, as arrays
 * ({@code [second, requests/s, tokens/s, ttft p50 ms, ttft p99 ms, wait p50 ms, wait p99 ms, queued]}) to keep
 * the body small: about 300 bytes per backend, 30 per sample.
 *
 * <p>Thread-safe: reads the fleet's and the scheduler's thread-safe state; each call returns a fresh body. Meant to
 * run on the metrics renderer, not an event loop (it walks every queue).
 */
public final class DashboardData {
    private static final JsonFactory JSON = new JsonFactory();

    private final Fleet fleet;
    private final Scheduler scheduler;
    private final Supplier<List<SpeedSample>> speeds;
    private final ChartSampler samples;
    private final LongSupplier nanoTime;
    private final LongSupplier wallMillis;

    /** Production wiring: the system clocks ({@link System#nanoTime} is the scheduler's). */
    public DashboardData(Fleet fleet, Scheduler scheduler, Supplier<List<SpeedSample>> speeds, ChartSampler samples) {
        this(fleet, scheduler, speeds, samples, System::nanoTime, System::currentTimeMillis);
    }

    public DashboardData(Fleet fleet, Scheduler scheduler, Supplier<List<SpeedSample>> speeds, ChartSampler samples,
                         LongSupplier nanoTime, LongSupplier wallMillis) {
        this.fleet = Objects.requireNonNull(fleet, "fleet");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.speeds = speeds == null ? List::of : speeds;
        this.samples = Objects.requireNonNull(samples, "samples");
        this.nanoTime = nanoTime;
        this.wallMillis = wallMillis;
    }

    /** The document, with the chart samples newer than {@code afterEpochSecond} (0 for all kept). */
    public Rendered render(long afterEpochSecond) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("now", wallMillis.getAsLong());
            g.writeStringField("policy", scheduler.policy().name());
            List<SpeedSample> learned = speeds.get();
            g.writeArrayFieldStart("backends");
            for (Backend b : fleet.all()) {
                backend(g, b, learned);
            }
            g.writeEndArray();
            g.writeArrayFieldStart("queues");
            long now = nanoTime.getAsLong();
            for (Map.Entry<String, ModelQueue> e : new TreeMap<>(scheduler.queues()).entrySet()) {
                queue(g, e.getKey(), QueueSummary.of(e.getValue(), now),
                        scheduler.estimatedDrainNanos(e.getKey()) / 1_000_000L);
            }
            g.writeEndArray();
            g.writeArrayFieldStart("samples");
            for (ChartSample s : samples.after(afterEpochSecond)) {
                sample(g, s);
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Rendered(Rendered.JSON, out.toByteArray());
    }

    private static void backend(JsonGenerator g, Backend b, List<SpeedSample> learned) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", b.name());
        g.writeStringField("health", b.health().name().toLowerCase(Locale.ROOT));
        g.writeBooleanField("draining", b.draining());
        g.writeBooleanField("enabled", b.config().enabled());
        JsonFields.stringArray(g, "installed", b.installedModels());
        JsonFields.stringArray(g, "warm", b.loadedModels());
        g.writeNumberField("used", b.slotsInUse());
        g.writeNumberField("max", b.maxConcurrency());
        g.writeNumberField("outstanding", b.outstanding().get());
        JsonFields.nullableString(g, "lastError", b.lastError());
        BackendMemory.Snapshot m = b.memory().snapshot();
        limit(g, "memModels", m.configuredModels(), m.learnedModels());
        limit(g, "memBytes", m.configuredBytes(), m.learnedBytes());
        g.writeArrayFieldStart("speeds");
        for (SpeedSample s : learned) {
            if (b.name().equals(s.backend())) {
                g.writeStartArray();
                g.writeString(s.model());
                rounded(g, s.prefillTokensPerSecond());
                rounded(g, s.decodeTokensPerSecond());
                g.writeEndArray();
            }
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    /** The configured limit, else the learned one, else {@code null}. */
    private static void limit(JsonGenerator g, String field, long configured, long learned) throws IOException {
        long v = configured > 0 ? configured : learned;
        if (v > 0) {
            g.writeNumberField(field, v);
        } else {
            g.writeNullField(field);
        }
    }

    private static void rounded(JsonGenerator g, double v) throws IOException {
        if (SpeedSample.known(v)) {
            g.writeNumber(Math.round(v * 10) / 10.0);
        } else {
            g.writeNull();
        }
    }

    private static void queue(JsonGenerator g, String model, QueueSummary s, long drainMs) throws IOException {
        g.writeStartObject();
        g.writeStringField("model", model);
        g.writeNumberField("depth", s.depth());
        g.writeNumberField("waiting", s.waiting());
        g.writeNumberField("oldestMs", s.oldestWaitMs());
        g.writeNumberField("drainMs", drainMs);
        JsonFields.intCounts(g, "byPriority", s.byPriority());
        g.writeEndObject();
    }

    private static void sample(JsonGenerator g, ChartSample s) throws IOException {
        g.writeStartArray();
        g.writeNumber(s.epochSecond());
        g.writeNumber(Math.round(s.requestsPerSecond() * 100) / 100.0);
        g.writeNumber(Math.round(s.tokensPerSecond() * 10) / 10.0);
        g.writeNumber(Math.round(s.ttftP50Ms() * 10) / 10.0);
        g.writeNumber(Math.round(s.ttftP99Ms() * 10) / 10.0);
        g.writeNumber(Math.round(s.waitP50Ms() * 10) / 10.0);
        g.writeNumber(Math.round(s.waitP99Ms() * 10) / 10.0);
        g.writeNumber(s.queued());
        g.writeEndArray();
    }
}

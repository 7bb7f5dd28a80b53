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
import io.ollamabalancer.schedule.PendingRequest;
import io.ollamabalancer.schedule.Scheduler;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Renders {@code GET /balancer/ui/data}: the compact JSON the dashboard page polls. The model names once
 * ({@code models}), then backends (health, models installed and warm as indices into {@code models}, slots,
 * outstanding, last error, memory limit, learned speeds as {@code [model index, prefill, decode]}), queues (depth,
 * waiting by priority, oldest wait, estimated drain time) and the chart samples newer than the page's last one, as
 * arrays ({@code [second, requests/s, tokens/s, ttft p50 ms, ttft p99 ms, wait p50 ms, wait p99 ms, queued]}). With
 * 50 backends holding 20 models each (1,000 learned speeds) a poll is about 28 KB, and the first load with 15
 * minutes of samples 30 KB more.
 *
 * <p>Thread-safe: reads the fleet's and the scheduler's thread-safe state; each call returns a fresh body. Meant to
 * run on the metrics renderer, not an event loop (it walks every queue).
 */
public final class DashboardData {
    private static final JsonFactory JSON = new JsonFactory();
    /** Waiting requests listed per queue, by id, for the page to link to their position. */
    private static final int NEXT_IDS = 3;

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
            List<Backend> backends = fleet.all();
            Map<String, Integer> models = modelIndex(backends, learned);
            g.writeArrayFieldStart("models");
            for (String m : models.keySet()) {
                g.writeString(m);
            }
            g.writeEndArray();
            g.writeArrayFieldStart("backends");
            for (Backend b : backends) {
                backend(g, b, learned, models);
            }
            g.writeEndArray();
            g.writeArrayFieldStart("queues");
            long now = nanoTime.getAsLong();
            for (Map.Entry<String, ModelQueue> e : new TreeMap<>(scheduler.queues()).entrySet()) {
                queue(g, e.getKey(), QueueSummary.of(e.getValue(), now),
                        scheduler.estimatedDrainNanos(e.getKey()) / 1_000_000L);
                g.writeArrayFieldStart("next");
                nextIds(g, e.getValue());
                g.writeEndArray();
                g.writeEndObject();
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

    /**
     * Every model a backend holds or has a learned speed for, sorted, numbered in order: backends name their models
     * by these numbers (with 50 backends and 20 models the names would otherwise be most of the document).
     */
    private static Map<String, Integer> modelIndex(List<Backend> backends, List<SpeedSample> learned) {
        TreeMap<String, Integer> index = new TreeMap<>();
        for (Backend b : backends) {
            b.installedModels().forEach(m -> index.put(m, 0));
            b.loadedModels().forEach(m -> index.put(m, 0));
        }
        learned.forEach(s -> index.put(s.model(), 0));
        int i = 0;
        for (Map.Entry<String, Integer> e : index.entrySet()) {
            e.setValue(i++);
        }
        return index;
    }

    private static void indices(JsonGenerator g, String field, Collection<String> names, Map<String, Integer> index)
            throws IOException {
        int[] ids = new int[names.size()];
        int n = 0;
        for (String name : names) {
            Integer id = index.get(name);
            if (id != null && n < ids.length) {
                ids[n++] = id;
            }
        }
        Arrays.sort(ids, 0, n);
        g.writeFieldName(field);
        g.writeArray(ids, 0, n);
    }

    private static void backend(JsonGenerator g, Backend b, List<SpeedSample> learned, Map<String, Integer> models)
            throws IOException {
        g.writeStartObject();
        g.writeStringField("name", b.name());
        g.writeStringField("health", b.health().name().toLowerCase(Locale.ROOT));
        g.writeBooleanField("draining", b.draining());
        g.writeBooleanField("enabled", b.config().enabled());
        indices(g, "installed", b.installedModels(), models);
        indices(g, "warm", b.loadedModels(), models);
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
                g.writeNumber(models.get(s.model()));
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
    }

    /** The ids of the first waiting requests (what {@code /balancer/requests/{id}} answers for), best first. */
    private static void nextIds(JsonGenerator g, ModelQueue q) throws IOException {
        int n = 0;
        for (Map.Entry<ModelQueue.QueueKey, PendingRequest> e : q.entries()) {
            if (n == NEXT_IDS) {
                return;
            }
            if (!e.getValue().isCancelled()) {
                g.writeString(Long.toString(e.getValue().id()));
                n++;
            }
        }
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

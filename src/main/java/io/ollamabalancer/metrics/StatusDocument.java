package io.ollamabalancer.metrics;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendMemory;
import io.ollamabalancer.backend.Fleet;
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
import java.util.TreeSet;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.Set;
import io.ollamabalancer.schedule.PlacementPlan;
import io.ollamabalancer.schedule.TrialReport;
import io.ollamabalancer.schedule.ModelDemand;

/**
 * Renders {@code GET /balancer/status} as JSON: every backend (identity, health, models, slots, memory limits,
 * learned speeds) and every model queue (depth, oldest wait, count by priority).
 *
 * <p>Thread-safe: reads the fleet's and the scheduler's thread-safe state (queues through their weakly consistent
 * iterators, so a document is a near-instant view, not an atomic one); each call returns a fresh body.
 */
public final class StatusDocument {
    private static final JsonFactory JSON = new JsonFactory();

    private final Fleet fleet;
    private final Scheduler scheduler;
    private final Supplier<List<SpeedSample>> speeds;
    private final LongSupplier nanoTime;
    private final LongSupplier uptimeMillis;
    private final Supplier<ClusterStatus> cluster;
    private volatile Supplier<EnsureStatus> ensure = () -> EnsureStatus.NONE;

    /** Production wiring: {@link System#nanoTime} (the scheduler's clock) and the recorders' uptime. */
    public StatusDocument(Fleet fleet, Scheduler scheduler, Supplier<List<SpeedSample>> speeds,
                          LatencyRecorders recorders, Supplier<ClusterStatus> cluster) {
        this(fleet, scheduler, speeds, System::nanoTime, recorders::uptimeMillis, cluster);
    }

    /** A single balancer (no cluster section beyond {@code "enabled": false}). */
    public StatusDocument(Fleet fleet, Scheduler scheduler, Supplier<List<SpeedSample>> speeds,
                          LongSupplier nanoTime, LongSupplier uptimeMillis) {
        this(fleet, scheduler, speeds, nanoTime, uptimeMillis, () -> ClusterStatus.OFF);
    }

    /**
     * @param nanoTime     the same clock the scheduler stamps {@code enqueuedNanos} with
     * @param uptimeMillis reported as {@code uptimeMs}
     * @param cluster      cluster mode's state now
     */
    public StatusDocument(Fleet fleet, Scheduler scheduler, Supplier<List<SpeedSample>> speeds,
                          LongSupplier nanoTime, LongSupplier uptimeMillis, Supplier<ClusterStatus> cluster) {
        this.fleet = Objects.requireNonNull(fleet, "fleet");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.speeds = speeds == null ? List::of : speeds;
        this.nanoTime = nanoTime;
        this.uptimeMillis = uptimeMillis;
        this.cluster = cluster == null ? () -> ClusterStatus.OFF : cluster;
    }

    /** Adds each backend's declared models ({@code ensureModels}); call once, before rendering starts. */
    public StatusDocument ensure(Supplier<EnsureStatus> status) {
        this.ensure = Objects.requireNonNull(status, "status");
        return this;
    }

    private static void cluster(JsonGenerator g, ClusterStatus c) throws IOException {
        g.writeObjectFieldStart("cluster");
        g.writeBooleanField("enabled", c.enabled());
        if (c.enabled()) {
            g.writeStringField("replicaId", c.replicaId());
            g.writeStringField("state", c.joined() ? "joined" : "alone");
            g.writeNumberField("liveReplicas", c.liveReplicas());
            g.writeNumberField("outages", c.outages());
            g.writeNumberField("lateReplies", c.lateReplies());
            if (c.keyLimits() != null) {
                g.writeStringField("keyLimits", c.keyLimits());
            }
            g.writeObjectFieldStart("grantedSlots");
            for (Map.Entry<String, Integer> e : new TreeMap<>(c.grants()).entrySet()) {
                g.writeNumberField(e.getKey(), e.getValue());
            }
            g.writeEndObject();
        }
        g.writeEndObject();
    }

    public Rendered render() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("uptimeMs", uptimeMillis.getAsLong());
            g.writeStringField("policy", scheduler.policy().name());
            cluster(g, cluster.get());
            List<SpeedSample> learned = speeds.get();
            g.writeArrayFieldStart("backends");
            EnsureStatus declared = ensure.get();
            for (Backend b : fleet.all()) {
                backend(g, b, learned, declared);
            }
            g.writeEndArray();
            g.writeArrayFieldStart("queues");
            long now = nanoTime.getAsLong();
            for (Map.Entry<String, ModelQueue> e : new TreeMap<>(scheduler.queues()).entrySet()) {
                queue(g, e.getKey(), e.getValue(), now);
            }
            g.writeEndArray();
            placement(g, scheduler.predictor().planner().current(), scheduler.predictor().planner().lastTrial(),
                    scheduler.predictor().demand(), now);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Rendered(Rendered.JSON, out.toByteArray());
    }

    /**
     * The placement plan: whether memory restricts it, the fluid model's busiest utilisation, which models each
     * backend should hold, and each model's recent demand (requests per second, and work per second in seconds of
     * the fleet's typical backend), and the last trial of candidate plans (null before the first).
     */
    private static void placement(JsonGenerator g, PlacementPlan plan, TrialReport trial, ModelDemand demand, long now)
            throws IOException {
        g.writeObjectFieldStart("placement");
        g.writeBooleanField("restricted", plan.restricted());
        g.writeNumberField("utilisation", Math.round(plan.utilisation() * 1000) / 1000.0);
        g.writeObjectFieldStart("holds");
        for (Map.Entry<String, Set<String>> e : new TreeMap<>(plan.holds()).entrySet()) {
            JsonFields.stringArray(g, e.getKey(), new TreeSet<>(e.getValue()));
        }
        g.writeEndObject();
        JsonFields.stringArray(g, "waiting", plan.waiting());
        g.writeObjectFieldStart("demand");
        TreeSet<String> models = new TreeSet<>();
        demand.models().forEach(models::add);
        for (String m : models) {
            g.writeObjectFieldStart(m);
            g.writeNumberField("requestsPerSecond", Math.round(demand.rate(m, now) * 1000) / 1000.0);
            g.writeNumberField("workPerSecond", Math.round(demand.load(m, now) * 1000) / 1000.0);
            g.writeEndObject();
        }
        g.writeEndObject();
        if (trial == null) {
            g.writeNullField("trial");
        } else {
            g.writeObjectFieldStart("trial");
            g.writeNumberField("secondsAgo", Math.max(0, now - trial.atNanos()) / 1_000_000_000L);
            g.writeNumberField("currentMeanSeconds", Math.round(trial.currentSeconds() * 1000) / 1000.0);
            g.writeNumberField("bestMeanSeconds", Math.round(trial.bestSeconds() * 1000) / 1000.0);
            g.writeNumberField("sureness", Math.round(trial.sureness() * 100) / 100.0);
            g.writeNumberField("candidates", trial.candidates());
            g.writeBooleanField("changed", trial.changed());
            g.writeObjectFieldStart("best");
            for (Map.Entry<String, Set<String>> e : new TreeMap<>(trial.best()).entrySet()) {
                JsonFields.stringArray(g, e.getKey(), new TreeSet<>(e.getValue()));
            }
            g.writeEndObject();
            g.writeEndObject();
        }
        g.writeEndObject();
    }

    /**
     * The backend's declared models: state ({@code present}, {@code pulling}, {@code failed}, {@code waiting}),
     * bytes of the running pull, and after a failure its error and when it is tried again.
     */
    private static void ensured(JsonGenerator g, String backend, EnsureStatus declared) throws IOException {
        g.writeArrayFieldStart("ensureModels");
        for (EnsureStatus.Model m : declared.models()) {
            if (!m.backend().equals(backend)) {
                continue;
            }
            g.writeStartObject();
            g.writeStringField("model", m.model());
            g.writeStringField("state", m.state().label());
            if (m.state() == EnsureStatus.State.PULLING) {
                g.writeNumberField("completed", m.completed());
                g.writeNumberField("total", m.total());
            }
            JsonFields.nullableString(g, "lastError", m.lastError());
            if (m.nextRetryEpochMillis() > 0) {
                g.writeStringField("nextRetryAt", java.time.Instant.ofEpochMilli(m.nextRetryEpochMillis()).toString());
            }
            g.writeNumberField("failures", m.failures());
            if (m.catchUp()) {
                g.writeBooleanField("catchUp", true);
            }
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static void backend(JsonGenerator g, Backend b, List<SpeedSample> learned, EnsureStatus declared)
            throws IOException {
        g.writeStartObject();
        g.writeStringField("name", b.name());
        g.writeStringField("url", b.config().url().toString());
        g.writeStringField("health", b.health().name().toLowerCase(Locale.ROOT));
        g.writeBooleanField("available", b.isAvailable());
        g.writeBooleanField("draining", b.draining());
        g.writeBooleanField("enabled", b.config().enabled());
        g.writeObjectFieldStart("models");
        g.writeBooleanField("known", b.modelsKnown());
        JsonFields.stringArray(g, "installed", b.installedModels());
        JsonFields.stringArray(g, "loaded", b.loadedModels());
        g.writeEndObject();
        g.writeObjectFieldStart("slots");
        g.writeNumberField("used", b.slotsInUse());
        g.writeNumberField("max", b.maxConcurrency());
        g.writeEndObject();
        g.writeNumberField("outstanding", b.outstanding().get());
        JsonFields.nullableString(g, "lastError", b.lastError());
        JsonFields.nullableString(g, "version", b.version());
        ensured(g, b.name(), declared);
        memory(g, b.memory().snapshot());
        g.writeArrayFieldStart("speeds");
        for (SpeedSample s : learned) {
            if (!b.name().equals(s.backend())) {
                continue;
            }
            g.writeStartObject();
            g.writeStringField("model", s.model());
            speed(g, "decodeTokensPerSecond", s.decodeTokensPerSecond());
            if (Double.isFinite(s.slowdown())) {
                g.writeNumberField("slowdown", s.slowdown());
            } else {
                g.writeNullField("slowdown");
            }
            speed(g, "prefillTokensPerSecond", s.prefillTokensPerSecond());
            g.writeNumberField("samples", s.samples());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    /**
     * {@code "memory"}: what the backend holds at once, configured ({@code maxLoadedModels}, {@code vramBytes}) and
     * learned from {@code /api/ps}; a limit that is unset or not learned is {@code null}.
     */
    private static void memory(JsonGenerator g, BackendMemory.Snapshot m) throws IOException {
        g.writeObjectFieldStart("memory");
        positiveOrNull(g, "maxLoadedModels", m.configuredModels());
        positiveOrNull(g, "vramBytes", m.configuredBytes());
        positiveOrNull(g, "learnedMaxLoadedModels", m.learnedModels());
        positiveOrNull(g, "learnedVramBytes", m.learnedBytes());
        g.writeNumberField("evictionsSeen", m.evictionsSeen());
        g.writeNumberField("maxCoResident", m.maxCoResident());
        g.writeNumberField("maxCoResidentBytes", m.maxCoResidentBytes());
        g.writeArrayFieldStart("resident");
        for (BackendMemory.Resident r : m.resident()) {
            g.writeStartObject();
            g.writeStringField("model", r.model());
            g.writeNumberField("bytes", r.bytes());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void positiveOrNull(JsonGenerator g, String field, long value) throws IOException {
        if (value > 0) {
            g.writeNumberField(field, value);
        } else {
            g.writeNullField(field);
        }
    }

    private static void queue(JsonGenerator g, String model, ModelQueue q, long now) throws IOException {
        QueueSummary s = QueueSummary.of(q, now);
        g.writeStartObject();
        g.writeStringField("model", model);
        g.writeNumberField("depth", s.depth());
        g.writeNumberField("waiting", s.waiting());
        g.writeNumberField("oldestWaitMs", s.oldestWaitMs());
        JsonFields.intCounts(g, "byPriority", s.byPriority());
        g.writeEndObject();
    }

    private static void speed(JsonGenerator g, String field, double v) throws IOException {
        if (SpeedSample.known(v)) {
            g.writeNumberField(field, v);
        } else {
            g.writeNullField(field);
        }
    }
}

package io.ollamabalancer.metrics;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendMemory;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.backend.Health;
import io.ollamabalancer.logging.DroppedLines;
import io.ollamabalancer.schedule.ModelQueue;
import io.ollamabalancer.schedule.Scheduler;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.internal.PlatformDependent;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Renders {@code GET /metrics} in the Prometheus text exposition format 0.0.4: request and token counters, queue
 * and backend gauges, learned speeds, latency summaries (quantiles over everything since start, in seconds, from
 * the cumulative HdrHistograms; {@code _sum} is exact) and process basics.
 *
 * <p>Latency comes in three families per kind so that no family mixes an aggregate with its parts:
 * {@code ollama_balancer_ttft_seconds} (all requests), {@code ollama_balancer_model_ttft_seconds{model}} and
 * {@code ollama_balancer_backend_ttft_seconds{backend}}.
 *
 * <p>Thread-safe: it only reads thread-safe sources; each call returns a fresh body the caller owns.
 */
public final class PrometheusText {
    static final String PREFIX = "ollama_balancer_";
    private static final double[] QUANTILES = {0.5, 0.9, 0.99};
    private static final String[] QUANTILE_LABELS = {"0.5", "0.9", "0.99"};
    private static final double MICROS_PER_SECOND = 1_000_000.0;

    private final LatencyRecorders recorders;
    private final Fleet fleet;
    private final Scheduler scheduler;
    private final Supplier<List<SpeedSample>> speeds;
    private final Supplier<ClusterStatus> cluster;
    private volatile Supplier<ClientSideStatus> clientSide = () -> ClientSideStatus.NONE;
    private final List<ExtraCounter> extraCounters = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile Supplier<EnsureStatus> ensure = () -> EnsureStatus.NONE;
    /** The last render's length in chars: the next one's builder starts that big (a hint; races are harmless). */
    private volatile int lastLength;

    /** A single balancer: no cluster series. */
    public PrometheusText(LatencyRecorders recorders, Fleet fleet, Scheduler scheduler,
                          Supplier<List<SpeedSample>> speeds) {
        this(recorders, fleet, scheduler, speeds, () -> ClusterStatus.OFF);
    }

    /**
     * @param speeds  learned speeds per backend and model; {@code null} or an empty list until the estimator
     *                provides them
     * @param cluster cluster mode's state now; its series appear only when it is enabled
     */
    public PrometheusText(LatencyRecorders recorders, Fleet fleet, Scheduler scheduler,
                          Supplier<List<SpeedSample>> speeds, Supplier<ClusterStatus> cluster) {
        this.recorders = Objects.requireNonNull(recorders, "recorders");
        this.fleet = Objects.requireNonNull(fleet, "fleet");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.speeds = speeds == null ? List::of : speeds;
        this.cluster = cluster == null ? () -> ClusterStatus.OFF : cluster;
    }

    public Rendered render() {
        PromWriter w = new PromWriter(lastLength + lastLength / 8);
        counters(w, recorders.counters());
        for (ExtraCounter c : extraCounters) {
            counter(w, c.name(), c.help(), c.family(), c.scale());
        }
        queues(w);
        backends(w);
        cluster(w, cluster.get());
        speeds(w);
        latency(w, recorders.summariesNow(QUANTILES));
        clientSide(w, clientSide.get());
        ensure(w, ensure.get());
        process(w);
        memory(w);
        String text = w.toString();
        lastLength = text.length();
        return Rendered.text(Rendered.PROMETHEUS, text);
    }

    private static void counters(PromWriter w, RequestCounters c) {
        counter(w, "requests_total", "Client requests by endpoint, model, backend and HTTP status.", c.requests());
        counter(w, "prompt_tokens_total", "Prompt tokens evaluated, from Ollama's final chunk.", c.promptTokens());
        counter(w, "generated_tokens_total", "Tokens generated, from Ollama's final chunk.", c.generatedTokens());
        counter(w, "requests_cancelled_total", "Requests whose client left before the end.", c.cancelled());
        counter(w, "upstream_failures_total", "Requests a backend failed (connection lost or protocol broken).",
                c.upstreamFailures());
    }

    private static void counter(PromWriter w, String name, String help, CounterFamily family) {
        counter(w, name, help, family, 1);
    }

    private static void counter(PromWriter w, String name, String help, CounterFamily family, double scale) {
        w.family(PREFIX + name, "counter", help);
        List<String> names = family.labelNames();
        for (Map.Entry<List<String>, Long> e : family.snapshot()) {
            String[] labels = new String[names.size() * 2];
            for (int i = 0; i < names.size(); i++) {
                labels[2 * i] = names.get(i);
                labels[2 * i + 1] = e.getKey().get(i);
            }
            w.sample(PREFIX + name, e.getValue() * scale, labels);
        }
    }

    private void queues(PromWriter w) {
        w.family(PREFIX + "queue_depth", "gauge", "Requests waiting in the scheduler's queue, per model.");
        for (Map.Entry<String, ModelQueue> e : new TreeMap<>(scheduler.queues()).entrySet()) {
            w.sample(PREFIX + "queue_depth", e.getValue().size(), "model", e.getKey());
        }
    }

    private void backends(PromWriter w) {
        List<Backend> all = fleet.all();
        w.family(PREFIX + "backend_up", "gauge", "1 unless the backend is ejected as down.");
        for (Backend b : all) {
            w.sample(PREFIX + "backend_up", b.health() == Health.DOWN ? 0 : 1, "backend", b.name());
        }
        w.family(PREFIX + "backend_available", "gauge", "1 when the backend may take new work "
                + "(enabled, not draining, not down).");
        for (Backend b : all) {
            w.sample(PREFIX + "backend_available", b.isAvailable() ? 1 : 0, "backend", b.name());
        }
        w.family(PREFIX + "backend_inflight", "gauge", "Requests in flight to the backend.");
        for (Backend b : all) {
            w.sample(PREFIX + "backend_inflight", b.outstanding().get(), "backend", b.name());
        }
        w.family(PREFIX + "backend_slots", "gauge", "Generation slots the balancer allows on the backend.");
        for (Backend b : all) {
            w.sample(PREFIX + "backend_slots", b.maxConcurrency(), "backend", b.name());
        }
        w.family(PREFIX + "backend_slots_in_use", "gauge", "Generation slots in use on the backend.");
        for (Backend b : all) {
            w.sample(PREFIX + "backend_slots_in_use", b.slotsInUse(), "backend", b.name());
        }
        // Omitted while unknown rather than -1: an absent series reads as "no limit known" and keeps min() and
        // comparisons in alert rules honest.
        w.family(PREFIX + "backend_model_limit", "gauge", "Models the backend holds at once, configured or learned "
                + "from evictions; absent while unknown.");
        for (Backend b : all) {
            int limit = b.memory().modelLimit();
            if (limit != BackendMemory.UNLIMITED) {
                w.sample(PREFIX + "backend_model_limit", limit, "backend", b.name());
            }
        }
        w.family(PREFIX + "backend_evictions_seen_total", "counter", "Models seen evicted from the backend's "
                + "memory before their keep-alive ran out (another model needed the room).");
        for (Backend b : all) {
            w.sample(PREFIX + "backend_evictions_seen_total", b.memory().evictionsSeen(), "backend", b.name());
        }
    }

    private static void cluster(PromWriter w, ClusterStatus c) {
        if (!c.enabled()) {
            return;
        }
        w.family(PREFIX + "cluster_joined", "gauge", "1 while this replica shares the fleet through Redis, 0 while "
                + "it serves alone on its fair share.");
        w.sample(PREFIX + "cluster_joined", c.joined() ? 1 : 0);
        w.family(PREFIX + "cluster_replicas", "gauge", "Replicas seen alive at the last lease renewal.");
        w.sample(PREFIX + "cluster_replicas", c.liveReplicas());
        w.family(PREFIX + "cluster_outages_total", "counter", "Times this replica went alone: Redis unreachable, or "
                + "unable to serve the cluster.");
        w.sample(PREFIX + "cluster_outages_total", c.outages());
        w.family(PREFIX + "cluster_late_replies_total", "counter", "Redis commands that timed out while Redis still "
                + "answered the renewal sent right after, so the replica stayed joined.");
        w.sample(PREFIX + "cluster_late_replies_total", c.lateReplies());
        if (c.keyLimits() != null) {
            w.family(PREFIX + "cluster_key_limits_shared", "gauge", "1 while API keys' per-minute limits are shared "
                    + "through Redis, 0 while this replica holds its share of each (limit / live replicas).");
            w.sample(PREFIX + "cluster_key_limits_shared", ClusterStatus.KEYS_SHARED.equals(c.keyLimits()) ? 1 : 0);
        }
        w.family(PREFIX + "cluster_granted_slots", "gauge", "Slots of the backend this replica may use now.");
        for (Map.Entry<String, Integer> e : new java.util.TreeMap<>(c.grants()).entrySet()) {
            w.sample(PREFIX + "cluster_granted_slots", e.getValue(), "backend", e.getKey());
        }
    }

    private void speeds(PromWriter w) {
        List<SpeedSample> list = speeds.get();
        String decode = PREFIX + "backend_decode_tokens_per_second";
        String prefill = PREFIX + "backend_prefill_tokens_per_second";
        w.family(decode, "gauge", "Learned generation speed of a model on a backend.");
        for (SpeedSample s : list) {
            if (SpeedSample.known(s.decodeTokensPerSecond())) {
                w.sample(decode, s.decodeTokensPerSecond(), "backend", s.backend(), "model", s.model());
            }
        }
        w.family(prefill, "gauge", "Learned prompt evaluation speed of a model on a backend.");
        for (SpeedSample s : list) {
            if (SpeedSample.known(s.prefillTokensPerSecond())) {
                w.sample(prefill, s.prefillTokensPerSecond(), "backend", s.backend(), "model", s.model());
            }
        }
    }

    private static void latency(PromWriter w, List<LatencySummary> summaries) {
        for (LatencyKind kind : LatencyKind.values()) {
            summaryFamily(w, kind, "", summaries, kind.help());
            summaryFamily(w, kind, SeriesKey.MODEL, summaries, kind.help() + " Per model.");
            summaryFamily(w, kind, SeriesKey.BACKEND, summaries, kind.help() + " Per backend.");
        }
    }

    private static void summaryFamily(PromWriter w, LatencyKind kind, String labelName,
                                      List<LatencySummary> summaries, String help) {
        String name = PREFIX + (labelName.isEmpty() ? "" : labelName + "_") + kind.promSuffix();
        w.family(name, "summary", help);
        for (LatencySummary e : summaries) {
            if (e.key().kind() != kind || !e.key().labelName().equals(labelName)) {
                continue;
            }
            for (int i = 0; i < QUANTILES.length; i++) {
                double v = e.quantile(i) / MICROS_PER_SECOND;
                if (labelName.isEmpty()) {
                    w.sample(name, v, "quantile", QUANTILE_LABELS[i]);
                } else {
                    w.sample(name, v, labelName, e.key().labelValue(), "quantile", QUANTILE_LABELS[i]);
                }
            }
            double sum = Math.max(0, e.sumMicros()) / MICROS_PER_SECOND;
            if (labelName.isEmpty()) {
                w.sample(name + "_sum", sum);
                w.sample(name + "_count", e.count());
            } else {
                w.sample(name + "_sum", sum, labelName, e.key().labelValue());
                w.sample(name + "_count", e.count(), labelName, e.key().labelValue());
            }
        }
    }

    /**
     * Adds a counter family rendered after the request counters, named {@code ollama_balancer_<name>} (per-key
     * usage, from the API keys); call before rendering starts.
     */
    public PrometheusText counter(String name, String help, CounterFamily family) {
        return counter(name, help, family, 1);
    }

    /**
     * Like {@link #counter(String, String, CounterFamily)}, each value multiplied by {@code scale} (a family counted
     * in nanoseconds shown in seconds: 1e-9).
     */
    public PrometheusText counter(String name, String help, CounterFamily family, double scale) {
        extraCounters.add(new ExtraCounter(name, help, Objects.requireNonNull(family, "family"), scale));
        return this;
    }

    private record ExtraCounter(String name, String help, CounterFamily family, double scale) {
    }

    /** Adds the client side's limits (connections, body budget); call once, before rendering starts. */
    public PrometheusText clientSide(Supplier<ClientSideStatus> status) {
        this.clientSide = Objects.requireNonNull(status, "status");
        return this;
    }

    /** Adds the declared models' state ({@code ensureModels}); call once, before rendering starts. */
    public PrometheusText ensure(Supplier<EnsureStatus> status) {
        this.ensure = Objects.requireNonNull(status, "status");
        return this;
    }

    private static void ensure(PromWriter w, EnsureStatus s) {
        Map<String, Integer> missing = new java.util.LinkedHashMap<>();
        for (EnsureStatus.Model m : s.models()) {
            missing.merge(m.backend(), m.state() == EnsureStatus.State.PRESENT ? 0 : 1, Integer::sum);
        }
        w.family(PREFIX + "ensure_models_missing", "gauge",
                "Declared models (ensureModels), and fleet pulls it missed while down, the backend does not hold yet.");
        missing.forEach((backend, n) -> w.sample(PREFIX + "ensure_models_missing", n, "backend", backend));
        w.family(PREFIX + "ensure_pulls_total", "counter",
                "Pulls of declared or missed models finished, per backend and result (success, failure).");
        for (Map.Entry<String, Map<String, Long>> b : new TreeMap<>(s.pulls()).entrySet()) {
            for (Map.Entry<String, Long> r : new TreeMap<>(b.getValue()).entrySet()) {
                w.sample(PREFIX + "ensure_pulls_total", r.getValue(), "backend", b.getKey(), "result", r.getKey());
            }
        }
    }

    private static void clientSide(PromWriter w, ClientSideStatus c) {
        w.family(PREFIX + "client_connections", "gauge", "Client connections open.");
        w.sample(PREFIX + "client_connections", c.openConnections());
        w.family(PREFIX + "client_connections_refused_total", "counter",
                "Client connections refused with 503 for being above --max-client-connections.");
        w.sample(PREFIX + "client_connections_refused_total", c.refusedConnections());
        w.family(PREFIX + "request_body_bytes_held", "gauge",
                "Request-body bytes held in memory (the --max-inflight-body-bytes budget in use).");
        w.sample(PREFIX + "request_body_bytes_held", c.bodyBytesHeld());
        w.family(PREFIX + "request_body_bytes_limit", "gauge", "The --max-inflight-body-bytes budget.");
        w.sample(PREFIX + "request_body_bytes_limit", c.bodyBytesLimit());
        w.family(PREFIX + "request_bodies_refused_total", "counter",
                "Requests refused with 503 because their body did not fit in --max-inflight-body-bytes.");
        w.sample(PREFIX + "request_bodies_refused_total", c.refusedBodies());
    }

    private void process(PromWriter w) {
        w.family(PREFIX + "uptime_seconds", "gauge", "Seconds since the balancer's metrics started.");
        w.sample(PREFIX + "uptime_seconds", recorders.uptimeMillis() / 1000.0);
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        w.family(PREFIX + "jvm_heap_used_bytes", "gauge", "JVM heap in use.");
        w.sample(PREFIX + "jvm_heap_used_bytes", heap.getUsed());
        if (heap.getMax() > 0) {
            w.family(PREFIX + "jvm_heap_max_bytes", "gauge", "JVM heap limit.");
            w.sample(PREFIX + "jvm_heap_max_bytes", heap.getMax());
        }
        w.family(PREFIX + "log_lines_dropped_total", "counter", "Log lines dropped, not written, because the log "
                + "output (stdout) was slower than the balancer; logging never makes a request wait.");
        w.sample(PREFIX + "log_lines_dropped_total", DroppedLines.PROCESS.total());
    }

    /**
     * What the heap gauge above cannot say: how much of it is live (in use after the last collection, summed over
     * the heap's pools), and the memory Netty's buffer allocator holds for connections and bodies, most of it
     * direct (off-heap), which the heap figures never include.
     */
    private static void memory(PromWriter w) {
        long live = 0;
        boolean any = false;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            MemoryUsage afterGc = pool.getType() == MemoryType.HEAP ? pool.getCollectionUsage() : null;
            if (afterGc != null) {
                live += afterGc.getUsed();
                any = true;
            }
        }
        if (any) {
            w.family(PREFIX + "jvm_heap_live_bytes", "gauge", "JVM heap in use after the last garbage collection.");
            w.sample(PREFIX + "jvm_heap_live_bytes", live);
        }
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p) {
            ByteBufAllocatorMetric m = p.metric();
            w.family(PREFIX + "netty_allocator_used_bytes", "gauge",
                    "Memory held by Netty's buffer allocator (pooled chunks included), by kind.");
            w.sample(PREFIX + "netty_allocator_used_bytes", m.usedDirectMemory(), "kind", "direct");
            w.sample(PREFIX + "netty_allocator_used_bytes", m.usedHeapMemory(), "kind", "heap");
        }
        long direct = PlatformDependent.usedDirectMemory();
        if (direct >= 0) {
            w.family(PREFIX + "netty_direct_memory_used_bytes", "gauge",
                    "Direct memory Netty has reserved in all (its allocator and unpooled buffers).");
            w.sample(PREFIX + "netty_direct_memory_used_bytes", direct);
            w.family(PREFIX + "netty_direct_memory_max_bytes", "gauge", "Netty's direct memory limit.");
            w.sample(PREFIX + "netty_direct_memory_max_bytes", PlatformDependent.maxDirectMemory());
        }
    }
}

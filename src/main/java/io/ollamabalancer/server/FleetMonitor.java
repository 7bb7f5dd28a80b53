package io.ollamabalancer.server;

import io.ollamabalancer.api.FleetResponses;
import io.ollamabalancer.api.LoadedModel;
import io.ollamabalancer.api.MalformedResponseException;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendProbe;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.backend.ModelNames;
import io.ollamabalancer.backend.ResidentModel;
import io.ollamabalancer.schedule.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.DateTimeException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Keeps each backend's model lists fresh (installed and loaded): polls {@code /api/tags} and {@code /api/ps} on every
 * backend every few seconds, and on demand (after a pull through the balancer, or when a request names a model no
 * backend is known to have); {@link #pollLoaded()} polls {@code /api/ps} alone, more often, because evictions are
 * only seen between two snapshots. Every {@code /api/ps} snapshot feeds the backend's {@code BackendMemory}, every
 * {@code /api/tags} its model sizes. Thread-safe; all I/O is asynchronous through a {@link BackendProbe}.
 */
final class FleetMonitor {
    private static final Logger log = LoggerFactory.getLogger(FleetMonitor.class);

    private final Fleet fleet;
    private final BackendProbe probe;
    private final Scheduler scheduler;
    private final LongSupplier wallMillis;
    private final AtomicReference<CompletableFuture<Void>> inFlight = new AtomicReference<>();
    private final Map<Backend, CompletableFuture<Void>> psInFlight = new ConcurrentHashMap<>();

    FleetMonitor(Fleet fleet, BackendProbe probe, Scheduler scheduler) {
        this(fleet, probe, scheduler, System::currentTimeMillis);
    }

    /** @param wallMillis epoch milliseconds, the clock {@code expires_at} is compared with */
    FleetMonitor(Fleet fleet, BackendProbe probe, Scheduler scheduler, LongSupplier wallMillis) {
        this.fleet = fleet;
        this.probe = probe;
        this.scheduler = scheduler;
        this.wallMillis = wallMillis;
    }

    /**
     * Refreshes every enabled backend; completes (never exceptionally) when all answered or failed. Calls that
     * arrive while a refresh is under way share it: a client sending unknown model names in a loop must not turn
     * into a stream of polls against every backend.
     */
    CompletableFuture<Void> refreshAll() {
        return shared(inFlight, this::refresh);
    }

    /**
     * Polls {@code /api/ps} alone on every enabled backend (cheap: Ollama answers from memory). A backend whose last
     * poll has not answered is skipped, so a hung backend neither piles up polls nor holds back the others'.
     */
    CompletableFuture<Void> pollLoaded() {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (Backend b : fleet.all()) {
            if (b.config().enabled()) {
                all.add(refreshLoaded(b));
            }
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).handle((v, t) -> null);
    }

    /** Runs {@code each} on every enabled backend unless a round tracked by {@code slot} is still running. */
    private CompletableFuture<Void> shared(AtomicReference<CompletableFuture<Void>> slot,
                                           Function<Backend, CompletableFuture<Void>> each) {
        for (;;) {
            CompletableFuture<Void> running = slot.get();
            if (running != null && !running.isDone()) {
                return running;
            }
            CompletableFuture<Void> mine = new CompletableFuture<>();
            if (slot.compareAndSet(running, mine)) {
                List<CompletableFuture<Void>> all = new ArrayList<>();
                for (Backend b : fleet.all()) {
                    if (b.config().enabled()) {
                        all.add(each.apply(b));
                    }
                }
                CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                        .whenComplete((v, t) -> mine.complete(null));
                return mine;
            }
        }
    }

    /** Refreshes one backend's installed and loaded models; drains the queues when the models changed. */
    CompletableFuture<Void> refresh(Backend b) {
        CompletableFuture<Void> tags = probe.get(b, "/api/tags").handle((reply, err) -> {
            if (err != null || !reply.ok()) {
                String why = err != null ? String.valueOf(err.getMessage()) : "HTTP " + reply.status();
                pollFailed(b, why);
                return null;
            }
            Set<String> names;
            try {
                names = new HashSet<>(FleetResponses.parseModelNames(reply.body()));
            } catch (MalformedResponseException e) {
                pollFailed(b, "unreadable /api/tags: " + e.getMessage());
                return null;
            }
            try {
                for (Map.Entry<String, Long> e : FleetResponses.parseModelSizes(reply.body()).entrySet()) {
                    b.memory().installedSize(ModelNames.normalize(e.getKey()), e.getValue());
                }
            } catch (MalformedResponseException e) {
                // cannot happen once the names parsed; sizes are only a hint anyway
            }
            if (b.updateInstalled(names)) {
                scheduler.drainAll();
            }
            return null;
        });
        return CompletableFuture.allOf(tags, refreshLoaded(b));
    }

    /**
     * Refreshes one backend's loaded models and feeds the snapshot to its memory model. One poll per backend at a
     * time, whoever asks (the 1 s poll, a full refresh, a preload's answer): a caller while one is under way shares
     * it. So a hung backend neither piles up polls nor holds back the others', and snapshots reach
     * {@code BackendMemory} in the order they were taken, stamped when the poll was sent: two overlapping polls
     * answered out of order would look like a model vanishing and another appearing, an eviction that never was.
     */
    CompletableFuture<Void> refreshLoaded(Backend b) {
        for (;;) {
            CompletableFuture<Void> running = psInFlight.get(b);
            if (running != null && !running.isDone()) {
                return running;
            }
            CompletableFuture<Void> mine = new CompletableFuture<>();
            boolean won = running == null ? psInFlight.putIfAbsent(b, mine) == null
                    : psInFlight.replace(b, running, mine);
            if (won) {
                mine.whenComplete((v, t) -> psInFlight.remove(b, mine));
                pollPs(b).whenComplete((v, t) -> mine.complete(null));
                return mine;
            }
        }
    }

    private CompletableFuture<Void> pollPs(Backend b) {
        long takenAt = wallMillis.getAsLong();
        return probe.get(b, "/api/ps").handle((reply, err) -> {
            if (err != null) {
                // Down or restarting: the next snapshot must not be compared with the last (not an eviction).
                b.memory().lostSight();
            } else if (reply.ok()) {
                try {
                    List<LoadedModel> models = FleetResponses.parseLoadedModels(reply.body());
                    loaded(b, models, takenAt);
                    hardware(b, models);
                } catch (MalformedResponseException e) {
                    log.debug("unreadable /api/ps from {}: {}", b.name(), e.getMessage());
                }
            }
            return null;
        });
    }

    /**
     * Tells the cost model whether {@code b} runs its models on a GPU ({@code size_vram > 0}) or in system memory
     * (every model's {@code size_vram} is 0), so its speed has a prior before it has answered anything. An empty
     * snapshot says nothing.
     */
    private void hardware(Backend b, List<LoadedModel> models) {
        if (models.isEmpty()) {
            return;
        }
        boolean gpu = false;
        for (LoadedModel m : models) {
            gpu |= m.sizeVram() > 0;
        }
        scheduler.predictor().costModel().hardware(b.name(), gpu);
    }

    /** Applies one {@code /api/ps} snapshot taken at {@code nowMillis} (epoch ms) to {@code b}. */
    static void loaded(Backend b, List<LoadedModel> models, long nowMillis) {
        Set<String> loaded = new HashSet<>();
        List<ResidentModel> resident = new ArrayList<>(models.size());
        for (LoadedModel m : models) {
            loaded.add(m.name());
            resident.add(new ResidentModel(ModelNames.normalize(m.name()), m.bytes(), expiresAtMillis(m.expiresAt())));
        }
        b.updateLoaded(loaded);
        b.memory().observe(resident, nowMillis);
    }

    /**
     * {@code expires_at} (RFC 3339 with an offset, the backend's local time) as epoch ms; {@link Long#MAX_VALUE}
     * when absent or unreadable, so an unknown expiry never makes a vanished model look expired (Ollama writes a
     * far-future time for {@code keep_alive:-1}, which parses and lands in the same place in practice).
     */
    static long expiresAtMillis(String rfc3339) {
        if (rfc3339 == null || rfc3339.isEmpty()) {
            return Long.MAX_VALUE;
        }
        try {
            return OffsetDateTime.parse(rfc3339).toInstant().toEpochMilli();
        } catch (DateTimeException | ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Health belongs to the HealthProber and the request path; a failed poll only records why. */
    private static void pollFailed(Backend b, String why) {
        log.debug("model poll of {} failed: {}", b.name(), why);
        b.lastError(why);
    }
}

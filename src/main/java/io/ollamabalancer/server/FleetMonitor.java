package io.ollamabalancer.server;

import io.ollamabalancer.api.FleetResponses;
import io.ollamabalancer.api.LoadedModel;
import io.ollamabalancer.api.MalformedResponseException;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendProbe;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.schedule.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Keeps each backend's model lists fresh (installed and loaded): polls {@code /api/tags} and {@code /api/ps} on every
 * backend every few seconds, and on demand (after a pull through the balancer, or when a request names a model no
 * backend is known to have). Thread-safe; all I/O is asynchronous through a {@link BackendProbe}.
 */
final class FleetMonitor {
    private static final Logger log = LoggerFactory.getLogger(FleetMonitor.class);

    private final Fleet fleet;
    private final BackendProbe probe;
    private final Scheduler scheduler;
    private final AtomicReference<CompletableFuture<Void>> inFlight = new AtomicReference<>();

    FleetMonitor(Fleet fleet, BackendProbe probe, Scheduler scheduler) {
        this.fleet = fleet;
        this.probe = probe;
        this.scheduler = scheduler;
    }

    /**
     * Refreshes every enabled backend; completes (never exceptionally) when all answered or failed. Calls that
     * arrive while a refresh is under way share it: a client sending unknown model names in a loop must not turn
     * into a stream of polls against every backend.
     */
    CompletableFuture<Void> refreshAll() {
        for (;;) {
            CompletableFuture<Void> running = inFlight.get();
            if (running != null && !running.isDone()) {
                return running;
            }
            CompletableFuture<Void> mine = new CompletableFuture<>();
            if (inFlight.compareAndSet(running, mine)) {
                List<CompletableFuture<Void>> all = new ArrayList<>();
                for (Backend b : fleet.all()) {
                    if (b.config().enabled()) {
                        all.add(refresh(b));
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
            if (b.updateInstalled(names)) {
                scheduler.drainAll();
            }
            return null;
        });
        CompletableFuture<Void> ps = probe.get(b, "/api/ps").handle((reply, err) -> {
            if (err == null && reply.ok()) {
                try {
                    Set<String> loaded = new HashSet<>();
                    for (LoadedModel m : FleetResponses.parseLoadedModels(reply.body())) {
                        loaded.add(m.name());
                    }
                    b.updateLoaded(loaded);
                } catch (MalformedResponseException e) {
                    log.debug("unreadable /api/ps from {}: {}", b.name(), e.getMessage());
                }
            }
            return null;
        });
        return CompletableFuture.allOf(tags, ps);
    }

    /** Health belongs to the HealthProber and the request path; a failed poll only records why. */
    private static void pollFailed(Backend b, String why) {
        log.debug("model poll of {} failed: {}", b.name(), why);
        b.lastError(why);
    }
}

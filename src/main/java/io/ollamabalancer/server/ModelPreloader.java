package io.ollamabalancer.server;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendProbe;
import io.ollamabalancer.schedule.Prewarmer;
import io.ollamabalancer.upstream.UpstreamFetcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The scheduler's {@link Prewarmer} on real backends: Ollama's preload, {@code POST /api/generate} with the model and
 * no prompt, sent through the shared upstream pools without waiting for it. When the backend answers, its loaded
 * models are polled again and the queues drained, so waiting work sees the model at once. A preload is not client
 * work: its answer (a 404 for a model the backend lacks, a 500, a timeout) never feeds the backend's health, and a
 * failure is logged at most once a minute per backend. One preload per backend and model is in flight at a time.
 * Thread-safe.
 */
final class ModelPreloader implements Prewarmer {
    private static final Logger log = LoggerFactory.getLogger(ModelPreloader.class);
    /** A cold load of a large model can take minutes; this bounds a backend that never answers. */
    private static final long TIMEOUT_MILLIS = 5 * 60 * 1000L;
    private static final long WARN_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final UpstreamFetcher fetcher;
    private final Function<Backend, CompletableFuture<Void>> refreshLoaded;
    private final Runnable drainAll;
    private final LongSupplier nanoTime;
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> lastWarned = new ConcurrentHashMap<>();

    /**
     * @param refreshLoaded polls one backend's {@code /api/ps} (e.g. {@code FleetMonitor::refreshLoaded})
     * @param drainAll      lets waiting work start (e.g. {@code scheduler::drainAll})
     */
    ModelPreloader(UpstreamFetcher fetcher, Function<Backend, CompletableFuture<Void>> refreshLoaded,
                   Runnable drainAll, LongSupplier nanoTime) {
        this.fetcher = fetcher;
        this.refreshLoaded = refreshLoaded;
        this.drainAll = drainAll;
        this.nanoTime = nanoTime;
    }

    /** Sends the preload and returns at once; the outcome shows in the backend's {@code /api/ps}. */
    @Override
    public void preload(Backend backend, String modelKey) {
        send(backend, modelKey);
    }

    /**
     * Sends the preload; the future completes (never exceptionally) once the backend answered and its loaded models
     * were polled again, with the backend's reply, or {@code null} if it failed, timed out or one was already under
     * way for this backend and model.
     */
    CompletableFuture<BackendProbe.Reply> send(Backend backend, String modelKey) {
        String id = backend.name() + '\n' + modelKey;
        if (!inFlight.add(id)) {
            return CompletableFuture.completedFuture(null);
        }
        // The key is the normalised name (name:tag), which Ollama accepts as the model's name.
        byte[] body = ("{\"model\":\"" + new String(JsonStringEncoder.getInstance().quoteAsString(modelKey))
                + "\"}").getBytes(StandardCharsets.UTF_8);
        CompletableFuture<BackendProbe.Reply> call;
        try {
            call = fetcher.post(backend, "/api/generate", body, TIMEOUT_MILLIS);
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        return call.handle((reply, err) -> {
            inFlight.remove(id);
            if (err != null) {
                failed(backend, modelKey, String.valueOf(err.getMessage()));
                return null;
            }
            if (!reply.ok()) {
                failed(backend, modelKey, "HTTP " + reply.status() + " "
                        + new String(reply.body(), 0, Math.min(200, reply.body().length), StandardCharsets.UTF_8));
            } else {
                log.debug("preloaded {} on {}", modelKey, backend.name());
            }
            return reply;
        }).thenCompose(reply -> refreshLoaded.apply(backend).handle((v, t) -> {
            drainAll.run();
            return reply;
        }));
    }

    /** Logs a failed preload: at warn once a minute per backend, at debug otherwise; health is left alone. */
    private void failed(Backend backend, String modelKey, String why) {
        long now = nanoTime.getAsLong();
        boolean[] warn = {false};
        lastWarned.compute(backend.name(), (k, last) -> {
            if (last == null || now - last >= WARN_EVERY_NANOS) {
                warn[0] = true;
                return now;
            }
            return last;
        });
        if (warn[0]) {
            log.warn("preload of {} on {} failed: {} (further failures on this backend within a minute are logged "
                    + "at debug)", modelKey, backend.name(), why);
        } else {
            log.debug("preload of {} on {} failed: {}", modelKey, backend.name(), why);
        }
    }
}

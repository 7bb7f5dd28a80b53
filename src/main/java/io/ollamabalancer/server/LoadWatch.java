package io.ollamabalancer.server;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.schedule.ColdDispatchListener;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Polls a backend's {@code /api/ps} every {@link #EVERY_MILLIS} while a model the scheduler sent there cold is not yet
 * listed, so that the backend's memory model sees the swap. A one-model server that is sent a request for another
 * model unloads its model, loads the new one, answers, and, when a request for the first waits, swaps back: with
 * loads of a second or less all of that fits between two regular (1 s) polls, which then show the same model on
 * either side and teach nothing, while the placement plan, believing the backend holds every model, keeps sending
 * it requests that evict each other (seen on the accelerated swap fleet: 15 to 120 model loads per 500 requests from
 * one run to the next). Ollama lists a model in {@code /api/ps} from the moment its load starts, so a poll soon after
 * the dispatch shows the newcomer without its victim.
 *
 * <p>One watch per backend at a time, covering every model sent there cold; it ends when they are all listed, or
 * {@link #WATCH_MILLIS} after the last one was sent (a longer load is seen by the regular poll anyway). The polls go
 * through {@link FleetMonitor#refreshLoaded}, which keeps one in flight per backend. Holds no buffers.
 *
 * <p>Threading: {@link #coldDispatch} from any thread, without blocking (it schedules); the polls are timed on the
 * given executor (an event loop). A watch's state is only touched inside {@link ConcurrentHashMap#compute} on its
 * backend's entry.
 */
final class LoadWatch implements ColdDispatchListener {
    /** Between two polls of a watched backend: well under the shortest loads seen (about half a second). */
    static final long EVERY_MILLIS = 100;
    /** How long after its last cold dispatch a backend is watched at most. */
    static final long WATCH_MILLIS = 5_000;

    private final Function<Backend, CompletableFuture<Void>> refreshLoaded;
    private final ScheduledExecutorService timer;
    private final LongSupplier nanoTime;
    private final Map<Backend, Watch> watches = new ConcurrentHashMap<>();

    /**
     * @param refreshLoaded polls one backend's {@code /api/ps} and applies it (e.g. {@code FleetMonitor::refreshLoaded})
     * @param timer         times the polls; never blocked
     */
    LoadWatch(Function<Backend, CompletableFuture<Void>> refreshLoaded, ScheduledExecutorService timer,
              LongSupplier nanoTime) {
        this.refreshLoaded = refreshLoaded;
        this.timer = timer;
        this.nanoTime = nanoTime;
    }

    @Override
    public void coldDispatch(Backend backend, String modelKey) {
        long until = nanoTime.getAsLong() + TimeUnit.MILLISECONDS.toNanos(WATCH_MILLIS);
        boolean[] started = {false};
        Watch w = watches.compute(backend, (b, cur) -> {
            if (cur == null) {
                cur = new Watch();
                started[0] = true;
            }
            cur.models.add(modelKey);
            cur.untilNanos = until;
            return cur;
        });
        if (started[0]) {
            later(backend, w);
        }
    }

    /** Whether {@code backend} is being watched now (for tests). */
    boolean watching(Backend backend) {
        return watches.containsKey(backend);
    }

    private void later(Backend backend, Watch w) {
        try {
            timer.schedule(() -> poll(backend, w), EVERY_MILLIS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            watches.remove(backend, w); // shutting down
        }
    }

    private void poll(Backend backend, Watch w) {
        refreshLoaded.apply(backend).whenComplete((v, t) -> {
            long now = nanoTime.getAsLong();
            Watch after = watches.computeIfPresent(backend, (b, cur) -> {
                if (cur != w) {
                    return cur;
                }
                cur.models.removeIf(backend::isLoaded);
                return cur.models.isEmpty() || now - cur.untilNanos >= 0 ? null : cur;
            });
            if (after == w) {
                later(backend, w);
            }
        });
    }

    /** The models a backend was sent cold and not yet seen listed; mutated only inside the map's compute. */
    private static final class Watch {
        final Set<String> models = new HashSet<>();
        long untilNanos;
    }
}

package io.ollamabalancer.fleetops;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.concurrent.ScheduledFuture;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.backend.ModelNames;
import io.ollamabalancer.config.FleetDeclarations;
import io.ollamabalancer.metrics.EnsureStatus;
import io.ollamabalancer.metrics.EnsureStatus.State;
import io.ollamabalancer.request.ModelFieldRewrite;
import io.ollamabalancer.upstream.UpstreamPools;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Keeps the declared models ({@code ensureModels} of the backends file and {@code ENSURE_MODELS}) on every backend
 * that should hold them: it compares each available backend's model list (as the fleet monitor last saw it) with
 * what is declared for it, and pulls what is missing, one pull at a time per backend, through Ollama's own
 * {@code /api/pull}, read to its last progress line. A failed pull is tried again after a backoff that doubles from
 * {@code firstRetry} up to {@code maxRetry}. It looks again when told to: at start-up, when a backend joins or
 * returns from an ejection, and when the declarations change.
 *
 * <p>It also catches up a fleet pull ({@code /api/pull} through the balancer) on the backends that were unavailable
 * when it ran ({@link #caughtUp}): such a model is pulled there once, when the backend returns, and forgotten once the
 * backend holds it, or at once when the model is deleted through the balancer ({@link #deleted}). These are kept in
 * memory only (a restart forgets them), at most {@value #MAX_CATCH_UPS} per backend.
 *
 * <p>Threading: all state is confined to one event loop ({@code loop}); the public methods may be called from any
 * thread and hand their work to it. {@link #status()} reads an immutable snapshot published after every change.
 * Nothing blocks: pulls are {@link BackendLines} calls on the upstream pools. Buffers: none held (progress lines
 * are read from {@link BackendLines}' own array during the call).
 */
public final class ModelEnsurer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ModelEnsurer.class);
    /** Models a backend owes from fleet pulls it missed; beyond this the oldest is dropped (and logged). */
    static final int MAX_CATCH_UPS = 64;

    private final Fleet fleet;
    private final UpstreamPools pools;
    private final EventLoop loop;
    private final Function<Backend, CompletableFuture<?>> refresh;
    private final long firstRetryMillis;
    private final long maxRetryMillis;
    private final LongSupplier wallMillis;
    /** Backend name → declared model → its progress. Event-loop confined. */
    private final Map<String, Map<String, Entry>> entries = new LinkedHashMap<>();
    /** Backends with a pull running (at most one each). Event-loop confined. */
    private final Map<String, Entry> pulling = new HashMap<>();
    private final Map<String, Map<String, Long>> pulls = new LinkedHashMap<>();
    /**
     * Backend name → models pulled through the balancer while it was unavailable, in pull order. Event-loop confined.
     * Kept apart from {@link #entries} so that a backend disabled for a while still owes them when enabled again.
     */
    private final Map<String, LinkedHashSet<String>> catchUps = new LinkedHashMap<>();
    private FleetDeclarations declared;
    /** Set from any thread (also after the event loops stopped); read on the loop. */
    private volatile boolean closed;
    private volatile EnsureStatus status = EnsureStatus.NONE;
    /** Who pulls when replicas share the fleet; set once before the first check. */
    private volatile PullClaims claims = PullClaims.ALONE;

    /**
     * @param refresh    refreshes one backend's model lists; completes when done
     * @param firstRetry wait after a first failed pull; doubles after each further failure
     * @param maxRetry   longest wait between two tries
     */
    public ModelEnsurer(Fleet fleet, UpstreamPools pools, EventLoop loop, Function<Backend, CompletableFuture<?>> refresh,
                        FleetDeclarations declared, Duration firstRetry, Duration maxRetry, LongSupplier wallMillis) {
        this.fleet = fleet;
        this.pools = pools;
        this.loop = loop;
        this.refresh = refresh;
        this.declared = declared;
        this.firstRetryMillis = firstRetry.toMillis();
        this.maxRetryMillis = maxRetry.toMillis();
        this.wallMillis = wallMillis;
    }

    /** Shares pulls with the other replicas of a cluster: one of them pulls a model onto a backend. */
    public void shareClaims(PullClaims shared) {
        claims = shared;
    }

    /** New declarations (the file changed): looks at every backend again. */
    public void declare(FleetDeclarations next) {
        loop.execute(() -> {
            declared = next;
            checkAll();
        });
    }

    /** Looks at every backend: pulls what is missing where nothing runs yet. */
    public void checkAll() {
        loop.execute(() -> {
            for (Backend b : fleet.all()) {
                check(b);
            }
            publish();
        });
    }

    /**
     * Looks at one backend after it joined or came back from an ejection. A pull that failed there before is tried
     * now rather than at its backoff's end: the backend's trouble may have been why it failed.
     */
    public void recovered(Backend backend) {
        loop.execute(() -> {
            Map<String, Entry> mine = entries.get(backend.name());
            if (mine != null) {
                mine.values().forEach(e -> e.notBefore = 0);
            }
            check(backend);
            publish();
        });
    }

    /**
     * A fleet pull of {@code model} ran while {@code missed} (backend names) were unavailable: each of them gets the
     * model when it returns. Safe from any thread.
     */
    public void caughtUp(String model, List<String> missed) {
        if (missed.isEmpty()) {
            return;
        }
        loop.execute(() -> {
            for (String name : missed) {
                LinkedHashSet<String> owed = catchUps.computeIfAbsent(name, k -> new LinkedHashSet<>());
                if (owed.add(model) && owed.size() > MAX_CATCH_UPS) {
                    String dropped = owed.iterator().next();
                    owed.remove(dropped);
                    log.warn("backend {} missed more than {} fleet pulls; it will not be caught up on {}", name,
                            MAX_CATCH_UPS, dropped);
                }
                log.info("backend {} is unavailable; it will be caught up on model {} when it returns", name, model);
                Backend b = fleet.byName(name);
                if (b != null) {
                    check(b); // shows the row now; pulls at once should the backend be back already
                }
            }
            publish();
        });
    }

    /**
     * {@code model} was deleted through the balancer on {@code backends} (null: on every backend): none of them is
     * caught up on it any more (a catch-up must not undo a delete). Safe from any thread.
     */
    public void deleted(String model, List<String> backends) {
        String key = ModelNames.normalize(model);
        loop.execute(() -> {
            catchUps.forEach((name, owed) -> {
                if (backends == null || backends.contains(name)) {
                    owed.removeIf(m -> ModelNames.normalize(m).equals(key));
                }
            });
            catchUps.values().removeIf(Set::isEmpty);
            for (Backend b : fleet.all()) {
                check(b);
            }
            publish();
        });
    }

    /** The declared models now, per backend; safe from any thread. */
    public EnsureStatus status() {
        return status;
    }

    /** Starts no further pull (those running are read to their end); safe from any thread, at any time. */
    @Override
    public void close() {
        closed = true;
    }

    private void check(Backend b) {
        // A disabled backend gets no requests, so it needs no models: it is not shown either.
        List<String> wanted = b.config().enabled() ? wanted(b.name()) : List.of();
        Map<String, Entry> mine = entries.computeIfAbsent(b.name(), k -> new LinkedHashMap<>());
        mine.keySet().retainAll(wanted);
        entries.keySet().removeIf(name -> fleet.byName(name) == null);
        catchUps.keySet().removeIf(name -> fleet.byName(name) == null);
        Set<String> owed = catchUps.computeIfAbsent(b.name(), k -> new LinkedHashSet<>()); // dropped below if empty
        List<String> declaredHere = declared.ensuredOn(b.name());
        for (String model : wanted) {
            Entry e = mine.computeIfAbsent(model, Entry::new);
            e.catchUp = !declaredHere.contains(model);
            if (e.state == State.PULLING || e.listing) {
                continue; // the monitor's list may not show the model yet
            }
            if (b.hasModel(ModelNames.normalize(model))) {
                e.present();
                if (e.catchUp) {
                    // Caught up: the backend holds it now, and it was never declared; nothing more to keep.
                    owed.remove(model);
                    mine.remove(model);
                }
            } else if (e.state == State.PRESENT) {
                e.state = State.WAITING; // deleted since
            }
        }
        if (owed.isEmpty()) {
            catchUps.remove(b.name());
        }
        startNext(b, mine);
    }

    /** What {@code backend} must hold: its declared models, then the fleet pulls it missed. */
    private List<String> wanted(String backend) {
        List<String> out = declared.ensuredOn(backend);
        Set<String> owed = catchUps.get(backend);
        if (owed == null || owed.isEmpty()) {
            return out;
        }
        Set<String> all = new LinkedHashSet<>(out);
        all.addAll(owed);
        return List.copyOf(all);
    }

    /** Starts the next due pull on {@code b} unless one runs, or schedules a look at the earliest retry. */
    private void startNext(Backend b, Map<String, Entry> mine) {
        if (closed || pulling.containsKey(b.name()) || !b.isAvailable() || !b.modelsKnown()) {
            return;
        }
        long now = wallMillis.getAsLong();
        long soonest = Long.MAX_VALUE;
        for (Entry e : mine.values()) {
            if (e.state == State.PRESENT) {
                continue;
            }
            if (e.notBefore <= now) {
                pull(b, e);
                return;
            }
            soonest = Math.min(soonest, e.notBefore);
        }
        if (soonest != Long.MAX_VALUE) {
            schedule(b, soonest - now);
        }
    }

    private void schedule(Backend b, long delayMillis) {
        Map<String, Entry> mine = entries.get(b.name());
        Entry first = mine.values().stream().filter(e -> e.notBefore > 0).findFirst().orElse(null);
        if (first == null || first.timer != null && !first.timer.isDone()) {
            return;
        }
        first.timer = loop.schedule(() -> {
            Backend now = fleet.byName(b.name());
            if (now != null) {
                check(now);
                publish();
            }
        }, Math.max(1, delayMillis), TimeUnit.MILLISECONDS);
    }

    private void pull(Backend b, Entry e) {
        e.state = State.PULLING;
        e.completed = 0;
        e.total = 0;
        pulling.put(b.name(), e);
        claims.claim(b.name(), e.model).whenComplete((claim, t) -> loop.execute(() -> {
            PullClaims.Claim c = claim == null ? PullClaims.Claim.MINE : claim;
            if (closed) {
                c.release(false);
                pulling.remove(b.name());
            } else if (c.mine()) {
                e.claim = c;
                startPull(b, e);
            } else {
                elsewhere(b, e, c.holder());
            }
        }));
    }

    /** Another replica pulls it: wait, and look again after the first retry interval (its list will show it). */
    private void elsewhere(Backend b, Entry e, String holder) {
        pulling.remove(b.name());
        e.state = State.WAITING;
        e.notBefore = wallMillis.getAsLong() + firstRetryMillis;
        log.info("declared model {} on backend {} is being pulled by replica {}", e.model, b.name(), holder);
        schedule(b, firstRetryMillis);
        publish();
    }

    private void startPull(Backend b, Entry e) {
        log.info("pulling declared model {} on backend {}", e.model, b.name());
        String name = new String(ModelFieldRewrite.jsonString(e.model), StandardCharsets.UTF_8);
        byte[] body = ("{\"model\":" + name + "}").getBytes(StandardCharsets.UTF_8);
        BackendLines.start(pools, b, loop, HttpMethod.POST, "/api/pull", body, new PullSink(b, e));
    }

    private void finished(Backend b, Entry e, String error) {
        pulling.remove(b.name());
        if (e.claim != null) {
            e.claim.release(error == null);
            e.claim = null;
        }
        Map<String, Long> counts = pulls.computeIfAbsent(b.name(), k -> new LinkedHashMap<>());
        counts.merge(error == null ? "success" : "failure", 1L, Long::sum);
        if (error == null) {
            log.info("{} model {} is now on backend {}", e.catchUp ? "caught-up" : "declared", e.model, b.name());
            e.present();
            e.listing = true;
            // Look again (and start the next pull) once the monitor lists the new model.
            refresh.apply(b).whenComplete((v, t) -> loop.execute(() -> {
                e.listing = false;
                Backend current = fleet.byName(b.name());
                if (current != null) {
                    check(current);
                }
                publish();
            }));
        } else {
            e.failures++;
            long wait = Math.min(maxRetryMillis, firstRetryMillis << Math.min(20, e.failures - 1));
            e.state = State.FAILED;
            e.lastError = error;
            e.notBefore = wallMillis.getAsLong() + wait;
            log.warn("pull of declared model {} on backend {} failed ({}); trying again in {} s", e.model, b.name(),
                    error, wait / 1000);
            Backend current = fleet.byName(b.name());
            if (current != null) {
                check(current);
            }
        }
        publish();
    }

    private void publish() {
        List<EnsureStatus.Model> rows = new ArrayList<>();
        for (Map.Entry<String, Map<String, Entry>> be : entries.entrySet()) {
            for (Entry e : be.getValue().values()) {
                rows.add(new EnsureStatus.Model(be.getKey(), e.model, e.state, e.completed, e.total, e.lastError,
                        e.state == State.FAILED ? e.notBefore : 0, e.failures, e.catchUp));
            }
        }
        Map<String, Map<String, Long>> counts = new LinkedHashMap<>();
        pulls.forEach((k, v) -> counts.put(k, Map.copyOf(v)));
        status = new EnsureStatus(rows, counts);
    }

    /** One declared model on one backend. Event-loop confined. */
    private static final class Entry {
        final String model;
        /** Owed from a fleet pull the backend missed, not declared: dropped once the backend holds it. */
        boolean catchUp;
        State state = State.WAITING;
        /** The claim on the pull running, given back when it ends. */
        PullClaims.Claim claim;
        long completed;
        long total;
        String lastError;
        long notBefore;
        int failures;
        ScheduledFuture<?> timer;
        /** Pulled, and the backend's model list is being refreshed: not "deleted" while the old list shows. */
        boolean listing;

        Entry(String model) {
            this.model = model;
        }

        void present() {
            state = State.PRESENT;
            failures = 0;
            notBefore = 0;
            completed = 0;
            total = 0;
        }
    }

    /** Reads one pull's progress: per-layer sizes for completed/total, an error line, or the final success. */
    private final class PullSink implements BackendLines.Sink {
        private final Backend backend;
        private final Entry entry;
        private final Map<String, long[]> layers = new HashMap<>();
        private int status;
        private String error;
        private boolean success;

        PullSink(Backend backend, Entry entry) {
            this.backend = backend;
            this.entry = entry;
        }

        @Override
        public void head(int code) {
            status = code;
        }

        @Override
        public void line(byte[] bytes, int offset, int length) {
            ProgressLine line = ProgressLine.parse(bytes, offset, length);
            if (line == null) {
                return;
            }
            if (line.error() != null) {
                error = line.error();
            } else if ("success".equals(line.status())) {
                success = true;
            } else if (line.isLayer()) {
                layers.put(line.digest(), new long[] {line.completed(), line.total()});
                long done = 0;
                long all = 0;
                for (long[] l : layers.values()) {
                    done += l[0];
                    all += l[1];
                }
                entry.completed = done;
                entry.total = all;
                publish();
            }
        }

        @Override
        public void end(Throwable failure) {
            String why = error;
            if (why == null && failure != null) {
                why = failure.getMessage() == null ? failure.getClass().getSimpleName() : failure.getMessage();
            }
            if (why == null && (status != 200 || !success)) {
                why = status != 200 ? "HTTP " + status : "the pull ended without success";
            }
            finished(backend, entry, why);
        }
    }
}

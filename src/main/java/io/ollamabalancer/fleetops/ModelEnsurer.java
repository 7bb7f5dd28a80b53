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
import java.util.List;
import java.util.Map;
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
 * <p>Threading: all state is confined to one event loop ({@code loop}); the public methods may be called from any
 * thread and hand their work to it. {@link #status()} reads an immutable snapshot published after every change.
 * Nothing blocks: pulls are {@link BackendLines} calls on the upstream pools. Buffers: none held (progress lines
 * are read from {@link BackendLines}' own array during the call).
 */
public final class ModelEnsurer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ModelEnsurer.class);

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
        List<String> wanted = b.config().enabled() ? declared.ensuredOn(b.name()) : List.of();
        Map<String, Entry> mine = entries.computeIfAbsent(b.name(), k -> new LinkedHashMap<>());
        mine.keySet().retainAll(wanted);
        entries.keySet().removeIf(name -> fleet.byName(name) == null);
        for (String model : wanted) {
            Entry e = mine.computeIfAbsent(model, Entry::new);
            if (e.state == State.PULLING || e.listing) {
                continue; // the monitor's list may not show the model yet
            }
            if (b.hasModel(ModelNames.normalize(model))) {
                e.present();
            } else if (e.state == State.PRESENT) {
                e.state = State.WAITING; // deleted since
            }
        }
        startNext(b, mine);
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
            log.info("declared model {} is now on backend {}", e.model, b.name());
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
                        e.state == State.FAILED ? e.notBefore : 0, e.failures));
            }
        }
        Map<String, Map<String, Long>> counts = new LinkedHashMap<>();
        pulls.forEach((k, v) -> counts.put(k, Map.copyOf(v)));
        status = new EnsureStatus(rows, counts);
    }

    /** One declared model on one backend. Event-loop confined. */
    private static final class Entry {
        final String model;
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

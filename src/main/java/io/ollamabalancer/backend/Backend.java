package io.ollamabalancer.backend;

import static java.util.Collections.unmodifiableSet;

import io.ollamabalancer.config.BackendConfig;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * One Ollama server of the fleet and what the balancer knows about it right now: its models (installed and loaded),
 * its slots in use, its health. Thread-safe: every field is atomic or volatile, written by the model poller, the
 * health checker and the request path on any thread.
 *
 * <p>Health lives in a {@link HealthTracker} (ejection, backoff, half-open trial, slow start); {@link #health()}
 * and {@link #health(Health)} are a coarse view of it kept for older callers. The config is replaced in place on
 * a reload that changes only {@code maxConcurrency}, {@code models}, {@code enabled} or memory limits
 * ({@link #reconfigure}), so slot accounting and learned memory limits stay in one object; a new name or URL is a new
 * backend.
 */
public final class Backend {
    private static final Logger log = LoggerFactory.getLogger(Backend.class);

    private volatile BackendConfig config;
    private final HealthTracker tracker;
    private final AtomicInteger slotsInUse = new AtomicInteger();
    private volatile IntSupplier grant = () -> Integer.MAX_VALUE;
    private final AtomicInteger outstanding = new AtomicInteger();
    private volatile Set<String> installed = Set.of();
    private volatile Set<String> loaded = Set.of();
    private volatile boolean modelsKnown;
    private volatile boolean draining;
    private volatile boolean retired;
    private volatile String lastError;
    private volatile String version;
    private volatile HealthListener healthListener = HealthListener.NONE;
    private final BackendMemory memory;

    public Backend(BackendConfig config) {
        this(config, HealthPolicy.defaults(), System::nanoTime);
    }

    /** A backend whose health follows {@code policy} on the clock {@code nanoTime} (fake in tests). */
    public Backend(BackendConfig config, HealthPolicy policy, LongSupplier nanoTime) {
        this.config = config;
        this.memory = new BackendMemory(config.maxLoadedModels(), config.vramBytes());
        this.tracker = new HealthTracker(policy, nanoTime, this::onTransition);
        if (config.models() != null) {
            installed = normalizeAll(config.models());
            modelsKnown = true;
        }
    }

    public BackendConfig config() {
        return config;
    }

    public String name() {
        return config.name();
    }

    public int maxConcurrency() {
        return config.maxConcurrency();
    }

    /** The circuit breaker fed by probes and by the request path. */
    public HealthTracker healthTracker() {
        return tracker;
    }

    /**
     * The slots it may use now: {@code maxConcurrency}, lowered during slow start after a recovery, 1 while
     * half-open, 0 while ejected.
     */
    public int effectiveConcurrency() {
        return tracker.effectiveConcurrency(config.maxConcurrency());
    }

    /**
     * Takes one slot if one is free under {@link #effectiveConcurrency()} (local accounting; cluster mode layers a
     * shared ledger on top). On a half-open backend the slot is its single trial.
     */
    public boolean tryAcquireSlot() {
        if (!tracker.tryAdmit()) {
            return false;
        }
        for (;;) {
            int used = slotsInUse.get();
            if (used >= slotLimit()) {
                tracker.cancelAdmit();
                return false;
            }
            if (slotsInUse.compareAndSet(used, used + 1)) {
                // Re-read after counting: cluster mode lowers a grant before it reads the in-use count, so of a
                // racing dispatch and a release at least one sees the other.
                if (used + 1 > slotLimit()) {
                    slotsInUse.decrementAndGet();
                    tracker.cancelAdmit();
                    return false;
                }
                return true;
            }
        }
    }

    /**
     * How many slots this balancer may use on the backend right now: its (slow-start) concurrency, capped in cluster
     * mode by the share of the backend's slots this replica holds.
     */
    public int slotLimit() {
        return Math.min(effectiveConcurrency(), grant.getAsInt());
    }

    /** Installs the cluster's live grant for this backend (default: no cap beyond the backend's own limit). */
    public void slotGrant(IntSupplier g) {
        grant = g;
    }

    public void releaseSlot() {
        int after = slotsInUse.decrementAndGet();
        if (after < 0) {
            slotsInUse.incrementAndGet();
            throw new IllegalStateException("slot released twice on " + name());
        }
    }

    public int slotsInUse() {
        return slotsInUse.get();
    }

    public boolean hasFreeSlot() {
        return slotsInUse.get() < slotLimit();
    }

    /** Every request in flight to this backend, slot-holding or not (for least-outstanding choices). */
    public AtomicInteger outstanding() {
        return outstanding;
    }

    /** Whether this backend has the model (by normalised key); a static list in the config wins over discovery. */
    public boolean hasModel(String modelKey) {
        return installed.contains(modelKey);
    }

    /** What it can hold in memory at once, configured or learned; the same live object for the backend's life. */
    public BackendMemory memory() {
        return memory;
    }

    public boolean isLoaded(String modelKey) {
        return loaded.contains(modelKey);
    }

    public Set<String> installedModels() {
        return installed;
    }

    public Set<String> loadedModels() {
        return loaded;
    }

    public boolean modelsKnown() {
        return modelsKnown;
    }

    /**
     * Replaces the discovered model list (ignored when the config pins a static list); returns whether it changed,
     * so the caller knows waiting work may now find a backend.
     */
    public boolean updateInstalled(Set<String> names) {
        if (config.models() != null) {
            return false;
        }
        Set<String> next = normalizeAll(names);
        boolean changed = !modelsKnown || !installed.equals(next);
        installed = next;
        modelsKnown = true;
        return changed;
    }

    public void updateLoaded(Set<String> names) {
        loaded = normalizeAll(names);
    }

    /** Enabled in config, not draining or retired, and its health lets work in: it may receive new work. */
    public boolean isAvailable() {
        return config.enabled() && !draining && !retired && tracker.mayTakeRequest();
    }

    /** The coarse health: the tracker's state, with EJECTED and HALF_OPEN shown as {@link Health#DOWN}. */
    public Health health() {
        return tracker.health();
    }

    /**
     * Older callers' way to report a poll's outcome, mapped onto the tracker so both paths agree: {@code UP} is a
     * probe success (recovers a half-open backend, leaves an ejected one ejected until its backoff ends),
     * {@code DOWN} a probe failure (ejects), {@code UNKNOWN} a reset.
     */
    public void health(Health h) {
        switch (h) {
            case UP -> tracker.onProbeSuccess();
            case DOWN -> tracker.onConnectionRefused("marked down");
            case UNKNOWN -> tracker.reset();
        }
    }

    /** Who hears of this backend's ejections and recoveries (the fleet sets it). */
    public void healthListener(HealthListener listener) {
        healthListener = listener == null ? HealthListener.NONE : listener;
    }

    /** Removed from the config: draining, and dropped from the fleet once nothing is in flight. */
    public boolean retired() {
        return retired;
    }

    /** Marks it removed from the config and draining (it finishes its streams and gets no new ones). */
    public void retire() {
        retired = true;
        draining = true;
    }

    /** Nothing in flight and no slot held. */
    public boolean isIdle() {
        return outstanding.get() == 0 && slotsInUse.get() == 0;
    }

    /**
     * Applies a reloaded config with the same name and URL in place: {@code maxConcurrency} (slots in use are kept;
     * a lower limit simply admits nothing until enough are released), {@code enabled}, and a static model list.
     * A list dropped in favour of discovery keeps the current models until the poller replaces them. Memory limits
     * ({@code maxLoadedModels}, {@code vram}) replace the configured ones and keep what was learned.
     */
    public void reconfigure(BackendConfig next) {
        BackendConfig current = config;
        if (!current.name().equals(next.name()) || !current.url().equals(next.url())) {
            throw new IllegalArgumentException("a new name or url is a new backend: " + current + " -> " + next);
        }
        config = next;
        memory.configure(next.maxLoadedModels(), next.vramBytes());
        if (next.models() != null) {
            installed = normalizeAll(next.models());
            modelsKnown = true;
        } else if (current.models() != null) {
            modelsKnown = false;
        }
    }

    public boolean draining() {
        return draining;
    }

    public void draining(boolean d) {
        draining = d;
    }

    public String lastError() {
        return lastError;
    }

    public void lastError(String e) {
        lastError = e;
    }

    public String version() {
        return version;
    }

    public void version(String v) {
        version = v;
    }

    private void onTransition(HealthTracker.Transition t, String why) {
        HealthListener l = healthListener;
        try {
            if (t == HealthTracker.Transition.EJECTED) {
                log.warn("backend {} ejected for {} ms: {}", name(), tracker.ejectionNanos() / 1_000_000, why);
                l.onEjected(this, why);
            } else if (t == HealthTracker.Transition.RECOVERED) {
                log.info("backend {} recovered; ramping up", name());
                l.onRecovered(this);
            }
        } catch (RuntimeException e) {
            log.warn("health listener failed on {} for backend {}: {}", t, name(), String.valueOf(e));
        }
    }

    private static Set<String> normalizeAll(Iterable<String> names) {
        java.util.HashSet<String> out = new java.util.HashSet<>();
        for (String n : names) {
            out.add(ModelNames.normalize(n));
        }
        return unmodifiableSet(new TreeSet<>(out));
    }

    @Override
    public String toString() {
        return "Backend[" + name() + " " + config.url() + "]";
    }
}

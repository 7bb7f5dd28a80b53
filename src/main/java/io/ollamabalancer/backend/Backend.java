package io.ollamabalancer.backend;

import io.ollamabalancer.config.BackendConfig;

import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One Ollama server of the fleet and what the balancer knows about it right now: its models (installed and loaded),
 * its slots in use, its health. Thread-safe: every field is atomic or volatile, written by the model poller, the
 * health checker and the request path on any thread.
 */
public final class Backend {
    private final BackendConfig config;
    private final AtomicInteger slotsInUse = new AtomicInteger();
    private final AtomicInteger outstanding = new AtomicInteger();
    private volatile Set<String> installed = Set.of();
    private volatile Set<String> loaded = Set.of();
    private volatile boolean modelsKnown;
    private volatile Health health = Health.UNKNOWN;
    private volatile boolean draining;
    private volatile String lastError;
    private volatile String version;

    public Backend(BackendConfig config) {
        this.config = config;
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

    /** Takes one slot if one is free (local accounting; cluster mode layers a shared ledger on top). */
    public boolean tryAcquireSlot() {
        for (;;) {
            int used = slotsInUse.get();
            if (used >= config.maxConcurrency()) {
                return false;
            }
            if (slotsInUse.compareAndSet(used, used + 1)) {
                return true;
            }
        }
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
        return slotsInUse.get() < config.maxConcurrency();
    }

    /** Every request in flight to this backend, slot-holding or not (for least-outstanding choices). */
    public AtomicInteger outstanding() {
        return outstanding;
    }

    /** Whether this backend has the model (by normalised key); a static list in the config wins over discovery. */
    public boolean hasModel(String modelKey) {
        return installed.contains(modelKey);
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

    /** Replaces the discovered model list (ignored when the config pins a static list). */
    public void updateInstalled(Set<String> names) {
        if (config.models() == null) {
            installed = normalizeAll(names);
            modelsKnown = true;
        }
    }

    public void updateLoaded(Set<String> names) {
        loaded = normalizeAll(names);
    }

    /** Enabled in config, not draining and not ejected: it may receive new work. */
    public boolean isAvailable() {
        return config.enabled() && !draining && health != Health.DOWN;
    }

    public Health health() {
        return health;
    }

    public void health(Health h) {
        health = h;
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

    private static Set<String> normalizeAll(Iterable<String> names) {
        java.util.HashSet<String> out = new java.util.HashSet<>();
        for (String n : names) {
            out.add(ModelNames.normalize(n));
        }
        return Set.copyOf(out);
    }

    @Override
    public String toString() {
        return "Backend[" + name() + " " + config.url() + "]";
    }
}

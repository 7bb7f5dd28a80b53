package io.ollamabalancer.backend;

import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.config.BackendsDiff;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The set of backends the balancer fronts, and the ones retiring from it. The lists are replaced whole (on config
 * reload) and read lock-free; each {@link Backend} carries its own thread-safe state.
 *
 * <p>A reload ({@link #apply}) keeps every backend whose name and URL stay, reconfiguring it in place; backends
 * removed (or whose URL moved) retire: they drain — finish their streams, take nothing new — and are dropped by
 * {@link #reapRetired()} once idle, which tells the {@linkplain #onRetired retired listener} so their connection
 * pools can be closed. Changes ({@link #apply}, {@link #reapRetired}, {@link #replace}) are serialised on this
 * fleet; reads never lock.
 */
public final class Fleet {
    private static final Logger log = LoggerFactory.getLogger(Fleet.class);

    private final HealthPolicy policy;
    private final LongSupplier nanoTime;
    private volatile List<Backend> backends;
    private volatile List<Backend> retiring = List.of();
    private volatile HealthListener healthListener = HealthListener.NONE;
    private volatile Consumer<Backend> retiredListener = b -> { };

    public Fleet(List<BackendConfig> configs) {
        this(configs, HealthPolicy.defaults(), System::nanoTime);
    }

    /** A fleet whose backends follow {@code policy} on the clock {@code nanoTime} (fake in tests). */
    public Fleet(List<BackendConfig> configs, HealthPolicy policy, LongSupplier nanoTime) {
        this.policy = policy;
        this.nanoTime = nanoTime;
        List<Backend> list = new ArrayList<>();
        for (BackendConfig c : configs) {
            list.add(newBackend(c));
        }
        backends = List.copyOf(list);
    }

    /** The health policy every backend of this fleet follows. */
    public HealthPolicy healthPolicy() {
        return policy;
    }

    public List<Backend> all() {
        return backends;
    }

    /** Backends removed from the config that still have work in flight. */
    public List<Backend> retiring() {
        return retiring;
    }

    /** The configs of the current backends, in order. */
    public List<BackendConfig> configs() {
        List<Backend> list = backends;
        List<BackendConfig> out = new ArrayList<>(list.size());
        for (Backend b : list) {
            out.add(b.config());
        }
        return out;
    }

    /** Replaces the list (config reload); backends kept by name keep their state. */
    public synchronized void replace(List<Backend> next) {
        for (Backend b : next) {
            b.healthListener(healthListener);
        }
        backends = List.copyOf(next);
    }

    /** Who hears of ejections and recoveries of every backend, present and future. */
    public synchronized void healthListener(HealthListener listener) {
        healthListener = listener == null ? HealthListener.NONE : listener;
        for (Backend b : backends) {
            b.healthListener(healthListener);
        }
        for (Backend b : retiring) {
            b.healthListener(healthListener);
        }
    }

    /** Who is told when a retired backend is dropped (close its pools); called once per backend, unlocked. */
    public void onRetired(Consumer<Backend> listener) {
        retiredListener = listener == null ? b -> { } : listener;
    }

    /** Applies a reloaded backend list: {@code apply(BackendsDiff.between(configs(), next))}. */
    public FleetChange reload(List<BackendConfig> next) {
        synchronized (this) {
            return apply(BackendsDiff.between(configs(), next));
        }
    }

    /**
     * Makes the fleet match {@code diff.next()}, in its order: new names become new backends, a moved URL retires
     * the old backend and adds a new one, other changes are applied in place (same object, so slots in use carry
     * over), and names no longer listed retire. Backends are matched against the fleet's current state by name, so
     * a diff computed against a slightly stale list still lands right. Idle retirees are dropped at once.
     */
    public FleetChange apply(BackendsDiff diff) {
        FleetChange change;
        synchronized (this) {
            Map<String, Backend> current = new HashMap<>();
            for (Backend b : backends) {
                current.put(b.name(), b);
            }
            List<Backend> next = new ArrayList<>();
            List<Backend> added = new ArrayList<>();
            List<Backend> retired = new ArrayList<>();
            List<Backend> reconfigured = new ArrayList<>();
            for (BackendConfig c : diff.next()) {
                Backend old = current.remove(c.name());
                if (old != null && old.config().url().equals(c.url())) {
                    if (!old.config().equals(c)) {
                        old.reconfigure(c);
                        reconfigured.add(old);
                    }
                    next.add(old);
                    continue;
                }
                if (old != null) {
                    retired.add(old);
                }
                Backend fresh = newBackend(c);
                next.add(fresh);
                added.add(fresh);
            }
            retired.addAll(current.values());
            for (Backend b : retired) {
                b.retire();
            }
            List<Backend> stillRetiring = new ArrayList<>(retiring);
            stillRetiring.addAll(retired);
            backends = List.copyOf(next);
            retiring = List.copyOf(stillRetiring);
            change = new FleetChange(diff, added, retired, reconfigured);
        }
        if (!change.isEmpty()) {
            log.info("backends reloaded: {}", diff.summary());
        }
        reapRetired();
        return change;
    }

    /**
     * Drops retiring backends that became idle (nothing outstanding, no slot held) and tells the retired listener
     * of each. Call it periodically (the health timer) — in-flight counts are plain counters with no hook.
     */
    public List<Backend> reapRetired() {
        List<Backend> dropped = new ArrayList<>();
        synchronized (this) {
            if (retiring.isEmpty()) {
                return dropped;
            }
            List<Backend> keep = new ArrayList<>();
            for (Backend b : retiring) {
                (b.isIdle() ? dropped : keep).add(b);
            }
            if (!dropped.isEmpty()) {
                retiring = List.copyOf(keep);
            }
        }
        Consumer<Backend> l = retiredListener;
        for (Backend b : dropped) {
            log.info("backend {} drained and removed", b.name());
            try {
                l.accept(b);
            } catch (RuntimeException e) {
                log.warn("retired-backend listener failed for {}: {}", b.name(), String.valueOf(e));
            }
        }
        return dropped;
    }

    private Backend newBackend(BackendConfig c) {
        Backend b = new Backend(c, policy, nanoTime);
        b.healthListener(healthListener);
        return b;
    }

    public Backend byName(String name) {
        for (Backend b : backends) {
            if (b.name().equals(name)) {
                return b;
            }
        }
        return null;
    }

    /** Backends that may take new work for this model key, in config order. */
    public List<Backend> candidates(String modelKey, Set<Backend> excluded) {
        List<Backend> out = new ArrayList<>(backends.size());
        for (Backend b : backends) {
            if (b.isAvailable() && b.hasModel(modelKey) && (excluded == null || !excluded.contains(b))) {
                out.add(b);
            }
        }
        return out;
    }

    /** Whether any configured backend (available or not) lists the model. */
    public boolean anyHas(String modelKey) {
        for (Backend b : backends) {
            if (b.hasModel(modelKey)) {
                return true;
            }
        }
        return false;
    }

    /** Available backends, in config order. */
    public List<Backend> available() {
        List<Backend> out = new ArrayList<>(backends.size());
        for (Backend b : backends) {
            if (b.isAvailable()) {
                out.add(b);
            }
        }
        return out;
    }
}

package io.ollamabalancer.replay;

import io.ollamabalancer.backend.ModelNames;
import io.ollamabalancer.backend.ResidentModel;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * One virtual simulator's model memory in virtual time, with the simulator's ({@code sim.ModelMemory}) and Ollama's
 * rules: loads are asked for in order; a model that fits ({@code maxLoadedModels}, {@code vramBytes}) loads at once,
 * beside the others; one that needs room waits for the loads under way, and everything queued behind it waits too;
 * it evicts idle models first (least recently used), else the least recently used busy one once its running
 * requests have finished (new requests for a model being evicted wait for it to go and then load it again); an idle
 * model unloads when its
 * keep-alive runs out. Counts loads and evictions.
 *
 * <p>Single-threaded, like {@link VirtualReplay}, which owns it and supplies the clock and the event queue.
 */
final class VirtualMemory {
    /** The replay's clock and event queue. */
    interface Clock {
        long now();

        void at(long nanos, Runnable action);
    }

    private enum State { LOADING, LOADED, EXPIRING }


    private final SimulatorConfig sim;
    private final Clock clock;
    private final Runnable changed;
    private final Map<String, Long> sizes = new HashMap<>();
    private final Map<String, Runner> runners = new LinkedHashMap<>();
    private final ArrayDeque<Wanted> wanted = new ArrayDeque<>();
    private int loading;
    private int loads;
    private int evictions;

    private static final class Runner {
        final String key;
        State state;
        int refs;
        long lastUsed;
        long idleEpoch;
        final List<LongConsumer> waiters = new ArrayList<>();

        Runner(String key, State state) {
            this.key = key;
            this.state = state;
        }
    }

    private static final class Wanted {
        final String key;
        final List<LongConsumer> waiters = new ArrayList<>();

        Wanted(String key) {
            this.key = key;
        }
    }

    VirtualMemory(SimulatorConfig sim, Clock clock, Runnable changed) {
        this.sim = sim;
        this.clock = clock;
        this.changed = changed;
        List<String> start = new ArrayList<>();
        for (SimModel m : sim.models()) {
            String key = ModelNames.normalize(m.name());
            sizes.put(key, m.sizeBytes());
            if (m.loadedAtStart()) {
                start.add(key);
            }
        }
        for (String key : start) {
            List<String> with = new ArrayList<>(runners.keySet());
            with.add(key);
            if (fits(with)) {
                runners.put(key, new Runner(key, State.LOADED));
            }
        }
    }

    /**
     * A request holds {@code key} from now on; {@code ready} gets the virtual time at which the model is ready for it
     * (now when loaded). Returns whether this call asked for a new load.
     */
    boolean acquire(String key, LongConsumer ready) {
        Runner r = runners.get(key);
        if (r != null && r.state == State.LOADED) {
            r.refs++;
            r.idleEpoch++;
            ready.accept(clock.now());
            return false;
        }
        if (r != null && r.state == State.LOADING) {
            r.waiters.add(ready);
            r.refs++;
            return false;
        }
        for (Wanted w : wanted) {
            if (w.key.equals(key)) {
                w.waiters.add(ready);
                return false;
            }
        }
        Wanted w = new Wanted(key);
        w.waiters.add(ready);
        wanted.addLast(w);
        process();
        return true;
    }

    /** The request holding {@code key} ended. */
    void release(String key) {
        Runner r = runners.get(key);
        if (r == null) {
            return;
        }
        r.refs--;
        r.lastUsed = clock.now();
        if (r.refs > 0) {
            return;
        }
        if (r.state == State.EXPIRING) {
            unload(r, true);
            return;
        }
        long keepAlive = sim.keepAliveMillis();
        if (keepAlive == 0) {
            unload(r, false);
        } else if (keepAlive > 0) {
            long epoch = ++r.idleEpoch;
            clock.at(clock.now() + keepAlive * 1_000_000L, () -> {
                if (runners.get(key) == r && r.refs == 0 && r.idleEpoch == epoch && r.state == State.LOADED) {
                    unload(r, false);
                }
            });
        }
    }

    /**
     * Works the load queue, head first, as the simulator's {@code ModelMemory} does: a head that fits loads at once,
     * beside any load under way; one that needs room waits until no load is under way, then evicts (an idle model
     * at once, a busy one once its requests end) and loads. A head whose model is being evicted waits for that.
     */
    private void process() {
        while (!wanted.isEmpty()) {
            Wanted head = wanted.peekFirst();
            if (runners.containsKey(head.key)) {
                return; // being evicted (new requests join a loading or loaded runner, never the queue)
            }
            List<String> with = new ArrayList<>(runners.keySet());
            with.add(head.key);
            if (fits(with)) {
                wanted.pollFirst();
                startLoad(head);
                continue;
            }
            if (loading > 0) {
                return;
            }
            for (Runner r : runners.values()) {
                if (r.state == State.EXPIRING) {
                    return; // an eviction is already under way
                }
            }
            Runner victim = victim();
            if (victim == null) {
                return;
            }
            if (victim.refs == 0) {
                unloadQuietly(victim, true);
            } else {
                victim.state = State.EXPIRING;
                return;
            }
        }
    }

    /** Idle loaded runners first, least recently used; else the least recently used busy one. */
    private Runner victim() {
        Runner best = null;
        for (Runner r : runners.values()) {
            if (r.state != State.LOADED) {
                continue;
            }
            boolean idle = r.refs == 0;
            boolean bestIdle = best != null && best.refs == 0;
            if (best == null || (idle && !bestIdle) || (idle == bestIdle && r.lastUsed < best.lastUsed)) {
                best = r;
            }
        }
        return best;
    }

    private void startLoad(Wanted w) {
        loading++;
        Runner r = new Runner(w.key, State.LOADING);
        r.waiters.addAll(w.waiters);
        r.refs = w.waiters.size();
        runners.put(w.key, r);
        changed.run();
        clock.at(clock.now() + sim.loadTimeMillis() * 1_000_000L, () -> {
            loading--;
            loads++;
            r.state = State.LOADED;
            r.lastUsed = clock.now();
            List<LongConsumer> ready = new ArrayList<>(r.waiters);
            r.waiters.clear();
            changed.run();
            for (LongConsumer c : ready) {
                c.accept(clock.now());
            }
            if (r.refs == 0) {
                r.refs++;
                release(r.key);
            }
            process();
        });
    }

    private void unload(Runner r, boolean evicted) {
        unloadQuietly(r, evicted);
        changed.run();
        process();
    }

    private void unloadQuietly(Runner r, boolean evicted) {
        runners.remove(r.key);
        if (evicted) {
            evictions++;
        }
    }

    private boolean fits(List<String> keys) {
        if (keys.size() <= 1) {
            return true;
        }
        if (sim.maxLoadedModels() > 0 && keys.size() > sim.maxLoadedModels()) {
            return false;
        }
        if (sim.vramBytes() > 0) {
            long total = 0;
            for (String k : keys) {
                total += sizes.getOrDefault(k, 0L);
            }
            return total <= sim.vramBytes();
        }
        return true;
    }

    /**
     * What {@code /api/ps} would list now: loading and loaded runners (an evicting one still is; Ollama lists a runner
     * from the start of its load), with expiry in virtual ms.
     */
    List<ResidentModel> resident() {
        List<ResidentModel> out = new ArrayList<>();
        long now = clock.now();
        long keepAlive = sim.keepAliveMillis();
        for (Runner r : runners.values()) {
            long expires;
            if (keepAlive < 0) {
                expires = Long.MAX_VALUE;
            } else {
                long base = r.refs > 0 ? now : r.lastUsed;
                expires = base / 1_000_000L + keepAlive;
            }
            out.add(new ResidentModel(r.key, sizes.getOrDefault(r.key, 0L), expires));
        }
        return out;
    }

    int loads() {
        return loads;
    }

    int evictions() {
        return evictions;
    }
}

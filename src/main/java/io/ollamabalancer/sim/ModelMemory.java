package io.ollamabalancer.sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One simulated server's model memory, modelled on Ollama's scheduler ({@code server/sched.go}): which runners hold
 * memory (loading or loaded), the FIFO of loads waiting for room, and the eviction that makes room. Owns no runner
 * state itself; it asks {@link ModelRuntime} to start a load or to unload. Confined to the simulator's event loop
 * (built off-loop before the server starts, like the runtimes).
 *
 * <p>Limits: {@link SimulatorConfig#maxLoadedModels()} runners and {@link SimulatorConfig#vramBytes()} bytes, each
 * runner taking its {@link SimModel#sizeBytes()}; 0 means no limit, and with no limit every load starts at once, as
 * before this class existed.
 *
 * <p>Semantics (checked against Ollama's {@code processPending}, {@code processCompleted}, {@code findRunnerToUnload}
 * and {@code tryUseLoadedRunner} in {@code server/sched.go}):
 * <ul>
 *   <li>A load that fits next to the resident runners, with no load queued before it, starts at once and runs in
 *       parallel with the others.</li>
 *   <li>Otherwise it joins a FIFO. Only the head is worked on, one eviction + load at a time, and everything behind
 *       it waits (Ollama's single {@code processPending} goroutine: head-of-line blocking). Requests for a model that
 *       is already loading wait for that load; requests for a loaded model never queue here.</li>
 *   <li>Victims: loaded runners only (never one still loading). Idle ones ({@code refCount == 0}) first; among them,
 *       and among busy ones when none is idle, the shortest {@code keep_alive} first (Ollama's {@code ByDuration},
 *       negative = forever = longest), ties broken by least recent use. Ollama breaks such ties by Go map order,
 *       i.e. at random; LRU is the simulator's deterministic stand-in. A busy victim is marked and the load waits
 *       until its in-flight requests finish; then it unloads and the head is re-examined, so as many runners are
 *       evicted, one after another, as the new model needs.</li>
 *   <li>A model larger than the whole budget still loads once nothing else is resident (Ollama lets the first model
 *       load partially offloaded to CPU).</li>
 *   <li>New requests for a marked victim do not join it: they wait for its unload and then queue a reload at the
 *       back of the FIFO, like any other load. This is how Ollama before v0.11.5 behaved (every request went through
 *       the blocked {@code pendingReqCh}) and how current Ollama behaves once the victim is {@code unloading}
 *       ({@code tryUseLoadedRunner} refuses it, {@code needsReload} is true). Between marking and the last in-flight
 *       request, current Ollama's fast path still lets newcomers join the victim ({@code expireOnIdle} unloads it
 *       when they are done), so overlapping traffic could keep the victim alive indefinitely; the simulator does not
 *       reproduce that window.</li>
 *   <li>Unloading is instant (Ollama waits up to a few seconds for VRAM to recover on discrete GPUs). Keep-alive
 *       expiry and {@code keep_alive:0} unloads free memory the same way and let the queue move on, but only
 *       unloads forced by memory count as {@link SimCounters#evictions()}.</li>
 *   <li>If every request waiting for a queued load gives up, the load is dropped from the queue (Ollama skips
 *       cancelled pending requests). A victim already marked still unloads.</li>
 * </ul>
 */
final class ModelMemory {
    private final int maxLoaded;
    private final long budget;
    private final SimCounters counters;
    /** Runners holding memory: loading or loaded, in the order they became resident. */
    private final List<ModelRuntime> resident = new ArrayList<>();
    private final ArrayDeque<ModelRuntime> queue = new ArrayDeque<>();
    private long clock;
    private boolean pumping;

    ModelMemory(SimulatorConfig config, SimCounters counters) {
        this.maxLoaded = config.maxLoadedModels();
        this.budget = config.vramBytes();
        this.counters = counters;
    }

    /** A logical time for least-recently-used ordering; strictly increasing. */
    long tick() {
        return ++clock;
    }

    /** Registers a runner that is loaded from the start (before the server runs); not counted as a load. */
    void adoptLoaded(ModelRuntime m) {
        resident.add(m);
    }

    /** {@code m} has requests waiting and needs loading: starts the load now or queues it behind earlier ones. */
    void requestLoad(ModelRuntime m) {
        queue.addLast(m);
        m.queued();
        pump();
    }

    /** Every request waiting for {@code m}'s queued load gave up: forget the load. */
    void cancelLoad(ModelRuntime m) {
        if (queue.remove(m)) {
            pump();
        }
    }

    /** {@code m} finished loading; it may now serve as a victim for the head of the queue. */
    void loaded(ModelRuntime m) {
        counters.onModelLoaded();
        pump();
    }

    /** {@code m} has unloaded; {@code forced} if memory pressure did it. */
    void unloaded(ModelRuntime m, boolean forced) {
        resident.remove(m);
        if (forced) {
            counters.onEviction();
        }
        pump();
    }

    /**
     * Works the queue from its head until it is empty or the head must wait (for a victim's requests, or for a
     * resident runner to finish loading). Re-entrant calls (an idle victim unloads inside {@link #evictFor}) only
     * let the running loop continue.
     */
    private void pump() {
        if (pumping) {
            return;
        }
        pumping = true;
        try {
            while (!queue.isEmpty()) {
                ModelRuntime head = queue.peekFirst();
                if (resident.isEmpty() || fits(head)) {
                    queue.pollFirst();
                    resident.add(head);
                    head.startLoad();
                } else if (!evictFor()) {
                    return;
                }
            }
        } finally {
            pumping = false;
        }
    }

    /** Marks the next victim, if none is pending yet; true if memory was freed and the head may be re-examined. */
    private boolean evictFor() {
        for (ModelRuntime m : resident) {
            if (m.evicting()) {
                return false; // one eviction at a time, as Ollama's scheduler waits on unloadedCh
            }
        }
        ModelRuntime victim = null;
        Comparator<ModelRuntime> order = Comparator.comparing((ModelRuntime m) -> m.active() > 0)
                .thenComparingLong(ModelRuntime::keepAliveNanos) // FOREVER is Long.MAX_VALUE: longest
                .thenComparingLong(ModelRuntime::lastUsed);
        for (ModelRuntime m : resident) {
            if (m.state() == ModelRuntime.State.LOADED && (victim == null || order.compare(m, victim) < 0)) {
                victim = m;
            }
        }
        if (victim == null) {
            return false; // everything resident is still loading; loaded() will call again
        }
        int before = resident.size();
        victim.evict();
        return resident.size() < before;
    }

    private boolean fits(ModelRuntime next) {
        if (maxLoaded > 0 && resident.size() + 1 > maxLoaded) {
            return false;
        }
        if (budget > 0) {
            long used = next.model().sizeBytes();
            for (ModelRuntime m : resident) {
                used += m.model().sizeBytes();
            }
            return used <= budget;
        }
        return true;
    }
}

package io.ollamabalancer.cluster;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stand-in for one balancer replica's scheduler in front of shared backends: a priority queue per replica
 * (priority desc, then enqueue time, as ModelQueue orders), dispatch only within {@code min(limit, granted)}, a
 * timed "service" per request, and the {@link ClusterHooks} calls the real scheduler makes. The fleet-wide running
 * counts are shared between the replicas of a test, so a test can check that a backend's limit held across all of
 * them. Thread-safe (one lock per replica; tests only).
 */
final class SimReplica implements LocalView {
    static final String MODEL = "llama3:8b";
    private static final AtomicLong IDS = new AtomicLong();

    /** One request; {@code serviceMillis < 0} never completes (a replica that dies with it running). */
    record Req(String replica, long id, int priority, long orderNanos, long serviceMillis) {
    }

    /** What every replica of one test shares: backends' running counts and peaks, and the dispatch order. */
    static final class Fleetwide {
        final Map<String, AtomicInteger> running = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> peak = new ConcurrentHashMap<>();
        final List<Req> dispatched = java.util.Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger completed = new AtomicInteger();

        void started(String backend, Req r) {
            int now = running.computeIfAbsent(backend, b -> new AtomicInteger()).incrementAndGet();
            peak.computeIfAbsent(backend, b -> new AtomicInteger()).accumulateAndGet(now, Math::max);
            dispatched.add(r);
        }

        void ended(String backend) {
            running.get(backend).decrementAndGet();
            completed.incrementAndGet();
        }

        int peak(String backend) {
            AtomicInteger p = peak.get(backend);
            return p == null ? 0 : p.get();
        }
    }

    final String name;
    private final Map<String, Integer> limits;
    private final Fleetwide fleet;
    private final ScheduledExecutorService completer;
    private final PriorityQueue<Req> queue = new PriorityQueue<>((a, b) -> a.priority != b.priority
            ? Integer.compare(b.priority, a.priority) : Long.compare(a.orderNanos, b.orderNanos));
    private final Map<String, Integer> running = new ConcurrentHashMap<>();
    private volatile ClusterNode node;
    private volatile boolean dead;

    SimReplica(String name, Map<String, Integer> limits, Fleetwide fleet, ScheduledExecutorService completer) {
        this.name = name;
        this.limits = Map.copyOf(limits);
        this.fleet = fleet;
        this.completer = completer;
        limits.keySet().forEach(b -> running.put(b, 0));
    }

    void attach(ClusterNode n) {
        node = n;
    }

    ClusterNode node() {
        return node;
    }

    Req submit(int priority, long serviceMillis) {
        Req r = new Req(name, IDS.incrementAndGet(), priority, System.nanoTime(), serviceMillis);
        synchronized (this) {
            queue.add(r);
        }
        node.queued(MODEL, r.id(), r.priority(), r.orderNanos(), 10, 20);
        drain();
        return r;
    }

    /** Stops completing and dispatching (the process died; its backends see its connections close). */
    synchronized void die() {
        dead = true;
        running.forEach((b, n) -> fleet.running.computeIfAbsent(b, x -> new AtomicInteger()).addAndGet(-n));
    }

    synchronized int waiting() {
        return queue.size();
    }

    private void drain() {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            if (dead || node == null) {
                return;
            }
            while (!queue.isEmpty()) {
                String backend = pick();
                if (backend == null) {
                    break;
                }
                // As Backend.tryAcquireSlot must: count the slot, then check the grant again (SlotGrant).
                running.merge(backend, 1, Integer::sum);
                if (running.get(backend) > Math.min(limits.get(backend), node.grantFor(backend).granted())) {
                    running.merge(backend, -1, Integer::sum);
                    break;
                }
                Req r = queue.poll();
                fleet.started(backend, r);
                after.add(() -> node.left(r.id()));
                if (r.serviceMillis() >= 0) {
                    completer.schedule(() -> complete(backend), r.serviceMillis(), TimeUnit.MILLISECONDS);
                }
            }
        }
        after.forEach(Runnable::run);
    }

    /** The least-loaded backend with a free granted slot, or null. Caller holds the lock. */
    private String pick() {
        String best = null;
        double bestLoad = Double.MAX_VALUE;
        for (Map.Entry<String, Integer> e : limits.entrySet()) {
            int used = running.get(e.getKey());
            int cap = Math.min(e.getValue(), node.grantFor(e.getKey()).granted());
            if (used < cap && (double) used / e.getValue() < bestLoad) {
                bestLoad = (double) used / e.getValue();
                best = e.getKey();
            }
        }
        return best;
    }

    private void complete(String backend) {
        if (dead) {
            return;
        }
        boolean yielded = node.slotFreeing(backend);
        synchronized (this) {
            running.merge(backend, -1, Integer::sum);
            fleet.ended(backend);
        }
        node.slotFreed(backend, yielded);
        drain();
    }

    @Override
    public Map<String, Integer> slotLimits() {
        return limits;
    }

    @Override
    public int inUse(String backend) {
        Integer n = running.get(backend);
        return n == null ? 0 : n;
    }

    @Override
    public Collection<String> models(String backend) {
        return Set.of(MODEL);
    }

    @Override
    public synchronized Demand demand(String backend) {
        Req head = queue.peek();
        if (head == null || dead) {
            return Demand.NONE;
        }
        return new Demand(queue.size(), QueueScore.of(head.priority(), WallClock.SYSTEM.epochMillis(head.orderNanos())));
    }

    @Override
    public void capacityGained() {
        drain();
    }
}

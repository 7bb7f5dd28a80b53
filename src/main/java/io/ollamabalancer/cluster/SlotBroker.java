package io.ollamabalancer.cluster;

import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Keeps this replica's {@link BackendGrant}s in step with its demand and with the {@link SlotLedger}, off the
 * dispatch path.
 *
 * <p>For each backend it decides the holding it wants — what runs plus what waits here, and, while nobody else
 * waits for the backend, at least its {@link FairShare} as idle headroom so a quiet replica serves its next request
 * without asking Redis — and syncs with the ledger when that differs from what it holds (releases at once, requests
 * for more paced by {@link ClusterConfig#retryDelay()}), or periodically while there is competition, to refresh
 * its view of the other replicas' waiting requests. At most one sync per backend is in flight; a change during
 * it marks the backend dirty and is handled when the reply arrives.
 *
 * <p>Global order: when a slot frees here and the last sync said some waiting request elsewhere ranks above all of
 * ours (beyond what free slots cover), {@link #slotFreeing} shrinks the grant by one on the completing thread,
 * before the slot is even released, so that neither the local drain nor a dispatcher on another thread can reuse
 * it; the next sync releases it, the ledger publishes {@code freed}, and the replica with the better request
 * acquires it — the ledger will not give it to anyone ranked lower.
 *
 * <p>Threading: {@link #grantFor}, {@link #slotFreeing}, {@link #slotFreed}, {@link #wake} from any thread;
 * everything else on the cluster thread.
 */
final class SlotBroker {
    private static final Logger LOG = LoggerFactory.getLogger(SlotBroker.class);

    private final ClusterConfig config;
    private final SlotLedger ledger;
    private final Membership membership;
    private final LocalView view;
    private final ClusterThread thread;
    private final RedisAccess access;
    private final Runnable beforeAcquire;
    private final Runnable onLeaseLost;
    private final Runnable onMembershipChange;
    private final LongSupplier nanoTime;
    private final Map<String, BackendGrant> grants = new ConcurrentHashMap<>();
    private final AtomicBoolean wakeNow = new AtomicBoolean();
    private final AtomicBoolean wakeLater = new AtomicBoolean();
    private boolean joined;
    private int generation;
    private long leaseRenewedAtNanos;
    private long aloneCapUntilNanos;

    SlotBroker(ClusterConfig config, SlotLedger ledger, Membership membership, LocalView view, ClusterThread thread,
               RedisAccess access, Runnable beforeAcquire, Runnable onLeaseLost, Runnable onMembershipChange,
               LongSupplier nanoTime) {
        this.config = config;
        this.ledger = ledger;
        this.membership = membership;
        this.view = view;
        this.thread = thread;
        this.access = access;
        this.beforeAcquire = beforeAcquire;
        this.onLeaseLost = onLeaseLost;
        this.onMembershipChange = onMembershipChange;
        this.nanoTime = nanoTime;
    }

    /** The grant of one backend (created on first use, starting at its fallback share). Any thread. */
    SlotGrant grantFor(String backend) {
        return grant(backend);
    }

    private BackendGrant grant(String backend) {
        BackendGrant g = grants.get(backend);
        if (g != null) {
            return g;
        }
        Integer limit = view.slotLimits().get(backend);
        int share = limit == null ? 0 : share(limit, backend);
        return grants.computeIfAbsent(backend, b -> new BackendGrant(b, share));
    }

    Collection<String> backends() {
        return new ArrayList<>(grants.keySet());
    }

    /**
     * A slot of {@code backend} is about to be released locally: whether it goes to a better request elsewhere. If
     * so the grant shrinks now, as {@link BackendGrant#releasing}, so that no dispatcher takes the slot between its
     * release and {@link #slotFreed}. Any thread.
     */
    boolean slotFreeing(String backend) {
        BackendGrant g = grants.get(backend);
        if (g != null && g.shared && g.yieldBudget.getAndUpdate(v -> v > 0 ? v - 1 : 0) > 0) {
            g.releasing.incrementAndGet();
            return true;
        }
        return false;
    }

    /**
     * The slot announced by {@link #slotFreeing} was released (before the local drain). A yielded slot now counts
     * in {@link BackendGrant#yielded}, which the next pass folds into the target: it reads the in-use count, which
     * no longer includes the slot. Any thread.
     */
    void slotFreed(String backend, boolean yielded) {
        BackendGrant g = grants.get(backend);
        if (!yielded || g == null) {
            return;
        }
        // yielded up before releasing down: granted() reads them in the other order, so it never sees the slot
        // counted in neither.
        if (g.shared) {
            g.yielded.incrementAndGet();
        }
        g.releasing.getAndUpdate(v -> v > 0 ? v - 1 : 0);
        // Hand the slot to the better request elsewhere now. Any other completion needs no pass of its own
        // (the local drain reuses the slot; headroom beyond the share goes back on the periodic pass): a pass
        // per completion cost the cluster thread more CPU than the rest of cluster mode together.
        wake(0);
    }

    /** Asks for a reconcile pass after {@code delayNanos}, coalesced with any pending one. Any thread. */
    void wake(long delayNanos) {
        if (delayNanos <= 0) {
            if (wakeNow.compareAndSet(false, true)) {
                thread.execute(this::reconcileAll);
            }
        } else if (wakeLater.compareAndSet(false, true)) {
            thread.schedule(() -> {
                wakeLater.set(false);
                reconcileAll();
            }, delayNanos);
        }
    }

    /** An event from another replica ({@code freed} or {@code want} a backend). Cluster thread. */
    void remoteSignal(String kind, String backend) {
        BackendGrant g = grants.get(backend);
        LOG.debug("{} got {} {} ({})", membership.replicaId(), kind, backend, g);
        if (g == null || !joined) {
            return;
        }
        if (kind.equals("freed") && g.unmet) {
            g.retryAtNanos = 0;
            wake(0);
        } else if (kind.equals("want") && g.shared && g.held > view.inUse(backend)) {
            // Someone found every slot held while ours idle: stop keeping headroom until the next sync says
            // otherwise, and sync now.
            g.remoteWaiting = Math.max(1, g.remoteWaiting);
            g.refreshAtNanos = 0;
            wake(0);
        }
    }

    /**
     * Redis is unreachable (from here, at least). While this replica's lease may still be alive in Redis, its
     * ledger entry still reserves what it held there, and other replicas may still be using Redis: it keeps only
     * those slots, never more than its share. Once the lease must have run out, nothing protects them any more and
     * every grant becomes the share (see {@link #reconcileAll}). Cluster thread.
     */
    void goAlone() {
        joined = false;
        generation++;
        long now = nanoTime.getAsLong();
        long leaseEnd = leaseRenewedAtNanos + config.leaseTtl().toNanos();
        aloneCapUntilNanos = leaseRenewedAtNanos != 0 && now < leaseEnd ? leaseEnd : now;
        Map<String, Integer> limits = view.slotLimits();
        for (BackendGrant g : grants.values()) {
            Integer limit = limits.get(g.backend);
            int share = limit == null ? 0 : share(limit, g.backend);
            // Not yet confirmed since a rejoin: Redis still records what it last confirmed (the rejoin renewed the
            // lease), and that entry keeps the other replicas off those slots. Capping at 0 instead would leave
            // them idle for as long as this replica keeps flapping between alone and joined.
            g.alone(g.shared ? g.held : g.confirmed);
            g.fallback = fallback(g, share, now);
        }
        view.capacityGained();
    }

    /** A renewal or sync sent at {@code sentNanos} succeeded: the lease runs at least a TTL from then. */
    void leaseRenewed(long sentNanos) {
        leaseRenewedAtNanos = Math.max(leaseRenewedAtNanos, sentNanos);
    }

    private int fallback(BackendGrant g, int share, long now) {
        return now < aloneCapUntilNanos ? Math.min(share, g.aloneCap) : share;
    }

    /** Joined (again): every grant is confirmed afresh by the ledger. Cluster thread. */
    void join() {
        join(false);
    }

    /**
     * Joined (again) — {@code leaseLost}: the lease had run out, so Redis may have dropped this replica's
     * holdings and what it last confirmed is no longer reserved for it. Cluster thread.
     */
    void join(boolean leaseLost) {
        if (leaseLost) {
            grants.values().forEach(g -> g.confirmed = 0);
        }
        joined = true;
        generation++;
        reconcileAll();
    }

    /** Re-sends every backend's holding (the lease was lost: Redis may have dropped it). Cluster thread. */
    void forceSyncAll() {
        for (BackendGrant g : grants.values()) {
            g.retryAtNanos = 0;
            g.refreshAtNanos = 0;
            g.force = true;
        }
        reconcileAll();
    }

    /** One pass over all backends. Cluster thread. */
    void reconcileAll() {
        wakeNow.set(false);
        Map<String, Integer> limits = view.slotLimits();
        for (String backend : limits.keySet()) {
            grant(backend);
        }
        long now = nanoTime.getAsLong();
        boolean grew = false;
        for (BackendGrant g : grants.values()) {
            Integer l = limits.get(g.backend);
            int limit = l == null ? 0 : l;
            int share = share(limit, g.backend);
            if (!g.shared) {
                int f = fallback(g, share, now);
                grew |= f > g.fallback;
                g.fallback = f;
            }
            if (joined) {
                reconcile(g, limit, share, now);
            }
        }
        if (grew) {
            view.capacityGained();
        }
    }

    private void reconcile(BackendGrant g, int limit, int share, long now) {
        if (g.inFlight) {
            g.dirty = true;
            return;
        }
        int inUse = view.inUse(g.backend);
        LocalView.Demand d = limit == 0 ? LocalView.Demand.NONE : view.demand(g.backend);
        int desired = inUse + d.waiting();
        if (g.remoteWaiting == 0) {
            desired = Math.max(desired, share);
        }
        desired = Math.min(desired, limit);
        int y = g.yielded.get();
        if (y > 0) {
            desired = Math.min(desired, Math.max(inUse, g.held - y));
        }
        boolean send;
        if (!g.shared || g.force) {
            send = true;
        } else if (desired < g.held) {
            send = true;
        } else if (desired > g.held) {
            send = now >= g.retryAtNanos;
        } else {
            send = (d.waiting() > 0 || g.remoteWaiting > 0) && now >= g.refreshAtNanos;
        }
        if (g.shared) {
            int before = g.granted();
            // Order matters for concurrent readers of granted(): lower the target first, then un-count the
            // yields it now includes, so no read sees the slot twice.
            g.target = desired;
            if (y > 0) {
                g.yielded.addAndGet(-y);
            }
            if (g.granted() > before) {
                // Slots already held became usable again (the target had dropped below the holding, e.g. a
                // yield Redis did not take). Requests waiting here must hear of it now: no sync may follow.
                view.capacityGained();
            }
        }
        if (send) {
            // Read what runs only now, after the grant went down: a dispatcher raises its count before it
            // re-reads the grant (SlotGrant's contract), so either it saw the lower grant and backed off, or its
            // slot is counted here and Redis keeps it as this replica's floor.
            sync(g, limit, view.inUse(g.backend), desired, d, share);
        }
    }

    private void sync(BackendGrant g, int limit, int inUse, int need, LocalView.Demand d, int share) {
        RedisClusterAsyncCommands<String, String> redis = access.joinedOrNull();
        if (redis == null) {
            return;
        }
        boolean acquiring = need > g.held;
        if (acquiring) {
            // Our waiting requests must be in Redis before we compete with them.
            beforeAcquire.run();
        }
        g.inFlight = true;
        g.force = false;
        int gen = generation;
        List<String> models = limit == 0 ? List.of() : new ArrayList<>(view.models(g.backend));
        // Only real waiting requests may make idle holders give their headroom back; headroom never does (two
        // replicas asking each other for headroom would trade it back and forth).
        SlotLedger.Request req = new SlotLedger.Request(g.backend, limit, inUse, need, inUse + d.waiting(),
                d.bestScore(), share, acquiring && d.waiting() > 0, models);
        long sent = nanoTime.getAsLong();
        ledger.sync(redis, req, membership.knownEpoch()).whenCompleteAsync((r, e) -> {
            if (gen != generation) {
                // Redis went away meanwhile; goAlone() already reset the grant.
                return;
            }
            g.inFlight = false;
            if (e != null) {
                g.retryAtNanos = nanoTime.getAsLong() + config.refreshInterval().toNanos();
                access.failed("slot sync of " + g.backend, e);
                return;
            }
            leaseRenewed(sent);
            applied(g, req, r);
        }, thread);
    }

    private void applied(BackendGrant g, SlotLedger.Request req, SlotLedger.Result r) {
        if (r.live() != membership.view().size()) {
            // Someone joined or left since the last renewal: re-read the members before shares drift apart.
            onMembershipChange.run();
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug("{} {}: floor {} need {} -> {}", membership.replicaId(), g.backend, req.floor(), req.need(), r);
        }
        membership.observe(r.epoch(), r.settling());
        int before = g.granted();
        g.held = r.held();
        g.confirmed = r.held();
        if (!g.shared) {
            g.target = req.need();
            g.shared = true;
        }
        g.remoteWaiting = r.waiting();
        g.yieldBudget.set(Math.max(0, r.better() - Math.max(0, r.free())));
        g.unmet = r.held() < req.need();
        long now = nanoTime.getAsLong();
        g.retryAtNanos = !g.unmet ? 0
                : now + (r.free() > 0 ? config.retryDelay() : config.refreshInterval()).toNanos();
        g.refreshAtNanos = now + config.refreshInterval().toNanos();
        if (r.leaseLost()) {
            onLeaseLost.run();
        }
        if (view.inUse(g.backend) > r.held()) {
            // More started than Redis now records (a dispatch raced the first confirmation after a join): say so.
            g.force = true;
            g.dirty = true;
        }
        if (g.granted() > before) {
            view.capacityGained();
        }
        if (g.dirty) {
            g.dirty = false;
            wake(0);
        } else if (g.unmet && r.free() > 0) {
            // Denied in favour of better requests elsewhere: they should take the free slots within moments.
            wake(config.retryDelay().toNanos());
        }
    }

    private int share(int limit, String backend) {
        return FairShare.of(limit, membership.shareView().live(), membership.replicaId(), backend,
                config.fallbackReplicas());
    }

    /** For status and tests: the grant of each backend known so far. */
    Map<String, BackendGrant> grants() {
        return grants;
    }
}

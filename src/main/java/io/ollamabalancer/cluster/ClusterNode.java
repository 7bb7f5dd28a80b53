package io.ollamabalancer.cluster;

import io.ollamabalancer.auth.BucketLeases;
import io.ollamabalancer.estimate.LearnedState;
import io.ollamabalancer.fleetops.PullClaims;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.resource.ClientResources;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * This replica's membership in a cluster of balancers sharing one Redis: the entry point the rest of the balancer
 * uses ({@link ClusterHooks} for the scheduler, {@link #grantFor} for backends, {@link #backendEjected} /
 * {@link #backendRecovered} for health), and the owner of the connection's life cycle.
 *
 * <h2>States</h2>
 * {@code CONNECTING → JOINED ⇄ ALONE → CLOSED}. Joining renews the lease, has every grant confirmed afresh by the
 * ledger, rebuilds the queue mirror, re-reads and re-publishes learned statistics and re-writes this replica's
 * ejections — everything Redis may have lost. Any failure that means Redis is unreachable (a refused or dropped
 * connection, a timeout that a renewal sent right after it confirms) makes the replica ALONE: it logs once, every
 * grant becomes its {@link FairShare} of the backend (at first no more than Redis still reserves for it:
 * {@link SlotBroker#goAlone}), and it opens new connections with exponential backoff (up to
 * {@link ClusterConfig#reconnectBackoffMax()}) until it can join again. No client request ever waits on any of this.
 *
 * <p>Threading: public methods are safe from any thread and never block, except {@link #close()} (waits briefly
 * for the replica to leave; do not call it on an event loop). All state changes run on one {@link ClusterThread};
 * Redis replies arrive on Lettuce's threads and hop there.
 */
public final class ClusterNode implements ClusterHooks, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);
    private static final long MIN_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** How long a pull claim outlives a replica that died holding it (renewed every third of it while held). */
    private static final long PULL_LEASE_MILLIS = 60_000;
    /** How often leases of API keys' buckets left idle go back to Redis. */
    private static final long KEY_BUCKET_SWEEP_NANOS = TimeUnit.SECONDS.toNanos(1);

    private enum State { CONNECTING, JOINING, JOINED, ALONE, CLOSED }

    private final ClusterConfig config;
    private final RedisLink link;
    private final ClusterThread thread;
    private final Keys keys;
    private final Membership membership;
    private final SlotBroker broker;
    private final QueueMirror mirror;
    private final SharedStateSync shared;
    private final KeyBuckets keyBuckets;
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final List<ScheduledFuture<?>> timers = new ArrayList<>();
    private volatile State state = State.CONNECTING;
    private long backoffNanos;
    private boolean outageLogged;
    private long lastRejectionLog;
    private int idClashes;
    private long lastClashLog;
    private boolean renewing;
    /** The renewal asking whether Redis is still there after a timeout, while in flight (else null). */
    private CompletionStage<?> recheck;
    /** Times this replica went alone (counted on the cluster thread; read by status pages). */
    private final AtomicLong outages = new AtomicLong();
    /** Timeouts after which Redis answered the recheck, so the replica stayed joined. */
    private final AtomicLong lateReplies = new AtomicLong();
    private final RedisAccess access = new RedisAccess() {
        @Override
        public RedisClusterAsyncCommands<String, String> joinedOrNull() {
            return state == State.JOINED ? link.commands() : null;
        }

        @Override
        public void failed(String what, Throwable error) {
            if (thread.inThread()) {
                ClusterNode.this.failed(what, error);
            } else {
                thread.execute(() -> ClusterNode.this.failed(what, error));
            }
        }
    };

    private ClusterNode(ClusterConfig config, LocalView view, LearnedState learned, HealthListener healthListener,
                        ClientResources resources) {
        this.config = config;
        this.keys = new Keys(config.namespace());
        this.thread = new ClusterThread("cluster-" + config.replicaId());
        this.link = new RedisLink(config, resources);
        String me = config.replicaId();
        this.membership = new Membership(keys, me, config.leaseTtl().toMillis(), config.settleTime().toMillis(),
                config.mirrorKeyTtl().toMillis());
        this.mirror = new QueueMirror(keys, me, config.mirrorKeyTtl().toMillis(), thread,
                config.mirrorFlushDelay().toNanos(), access, this::mirrorPublished);
        SlotLedger ledger = new SlotLedger(keys, me, config.leaseTtl().toMillis(), config.settleTime().toMillis());
        this.broker = new SlotBroker(config, ledger, membership, view, thread, access, mirror::flush, this::leaseLost,
                this::membershipChanged, System::nanoTime);
        this.keyBuckets = new KeyBuckets(keys, membership, access, thread, config.fallbackReplicas());
        this.shared = new SharedStateSync(new SharedStats(keys, me, config.statsTtl().toMillis()),
                new SharedHealth(keys, me, System::currentTimeMillis), learned, healthListener, view, access, thread);
    }

    /**
     * Starts joining the cluster in the background and returns at once; until joined, every grant is its fallback
     * share. Wait on {@link #ready()} (off the event loops) to start serving with shared state in place.
     *
     * @param resources Lettuce resources to share, or {@code null} to let the node own a small set of its own
     */
    public static ClusterNode start(ClusterConfig config, LocalView view, LearnedState learned,
                                    HealthListener healthListener, ClientResources resources) {
        ClusterNode node = new ClusterNode(config, view, learned, healthListener, resources);
        node.thread.execute(node::connect);
        node.timers.add(node.thread.every(node::renewTick, config.renewInterval().toNanos()));
        node.timers.add(node.thread.every(node.broker::reconcileAll, config.refreshInterval().toNanos()));
        node.timers.add(node.thread.every(node.shared::statsTick, config.statsInterval().toNanos()));
        node.timers.add(node.thread.every(node.shared::pollHealth, config.healthPollInterval().toNanos()));
        node.timers.add(node.thread.every(node.keyBuckets::sweep, KEY_BUCKET_SWEEP_NANOS));
        return node;
    }

    /**
     * Claims on pulls of declared models, shared with the other replicas through Redis (one replica pulls a model
     * onto a backend; see {@link PullLeases}); granted locally while Redis is away.
     */
    public PullClaims pullClaims() {
        return new PullLeases(keys, config.replicaId(), PULL_LEASE_MILLIS, access, thread);
    }

    /**
     * API keys' requests and tokens buckets, shared with the other replicas through Redis (see {@link KeyBuckets});
     * while Redis is unreachable each replica holds its share of every limit.
     */
    public BucketLeases keyBuckets() {
        return keyBuckets;
    }

    /** Completes when the first attempt to join ended: joined, or alone because Redis was unreachable. */
    public CompletableFuture<Void> ready() {
        return ready.copy();
    }

    public String replicaId() {
        return config.replicaId();
    }

    /** Whether the replica currently shares state through Redis. */
    public boolean isJoined() {
        return state == State.JOINED;
    }

    /** How many times this replica went alone (Redis unreachable, or unable to serve) since it started. */
    public long outages() {
        return outages.get();
    }

    /**
     * How many Redis commands timed out while Redis still answered the renewal sent right after, so the replica
     * stayed joined (a pause of this process or of Redis, not an outage).
     */
    public long lateReplies() {
        return lateReplies.get();
    }

    /** Replicas seen alive at the last renewal, this one included. */
    public int liveReplicas() {
        return membership.view().size();
    }

    /** The grant of one backend; the backend's local slot limit is {@code min(maxConcurrency, granted())}. */
    public SlotGrant grantFor(String backend) {
        return broker.grantFor(backend);
    }

    /** Each known backend's current grant, for status pages. */
    public Map<String, Integer> grants() {
        Map<String, Integer> out = new LinkedHashMap<>();
        broker.grants().forEach((b, g) -> out.put(b, g.granted()));
        return out;
    }

    @Override
    public void queued(String model, long requestId, int priority, long orderNanos, int promptTokens,
                       int outputTokens) {
        long score = QueueScore.of(priority, WallClock.SYSTEM.epochMillis(orderNanos));
        // No broker wake here: most requests leave the queue within microseconds. One still waiting at the
        // mirror's flush wakes the broker from there (QueueMirror's onPublished).
        mirror.added(model, requestId, score, promptTokens, outputTokens);
    }

    /** Requests still waiting at a mirror flush: the broker should see this replica's demand. Cluster thread. */
    private void mirrorPublished() {
        broker.wake(0);
    }

    @Override
    public void left(long requestId) {
        mirror.removed(requestId);
    }

    @Override
    public boolean slotFreeing(String backend) {
        return broker.slotFreeing(backend);
    }

    @Override
    public void slotFreed(String backend, boolean yielded) {
        broker.slotFreed(backend, yielded);
    }

    /** This replica ejected {@code backend} for {@code duration}: every replica will treat it as down. */
    public void backendEjected(String backend, Duration duration, String reason) {
        shared.ejected(backend, duration, reason);
    }

    /** This replica saw {@code backend} recover: the shared ejection ends now. */
    public void backendRecovered(String backend) {
        shared.recovered(backend);
    }

    /** The mirrored queue of one model across live replicas, best first (reads Redis; status and tests). */
    public CompletionStage<List<MirroredRequest>> globalQueue(String model, int perReplica) {
        RedisClusterAsyncCommands<String, String> redis = link.commands();
        if (redis == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("not connected to Redis"));
        }
        return mirror.globalQueue(redis, model, perReplica);
    }

    private void connect() {
        if (state == State.CLOSED) {
            return;
        }
        link.open(keys.events(), this::onMessage).whenCompleteAsync((v, e) -> {
            if (e == null) {
                join();
            } else {
                goAlone("connecting", e);
            }
        }, thread);
    }

    private void join() {
        if (state == State.CLOSED) {
            return;
        }
        boolean wasAlone = state == State.ALONE;
        state = State.JOINING;
        RedisClusterAsyncCommands<String, String> redis = link.commands();
        long sent = System.nanoTime();
        membership.renew(redis).whenCompleteAsync((renewal, e) -> {
            if (state != State.JOINING) {
                return;
            }
            if (e != null) {
                goAlone("joining", e);
                return;
            }
            broker.leaseRenewed(sent);
            idClash(renewal.idClash());
            state = State.JOINED;
            backoffNanos = 0;
            outageLogged = false;
            broker.join(renewal.leaseLost());
            mirror.markResync();
            CompletionStage<Void> warm = shared.rejoined();
            if (wasAlone) {
                LOG.info("Redis at {} reachable again: rejoined as {} with {} replica(s) live", link.describe(),
                        config.replicaId(), renewal.view().size());
            } else {
                LOG.info("joined the cluster at {} as {} ({} replica(s) live)", link.describe(), config.replicaId(),
                        renewal.view().size());
            }
            // Ready once the others' learned state is in: the first request already routes on it.
            warm.whenComplete((v, x) -> ready.complete(null));
        }, thread);
    }

    private void failed(String what, Throwable error) {
        if (RedisLink.isLinkFailure(error)) {
            if (state == State.JOINED && LuaScript.unwrap(error) instanceof RedisCommandTimeoutException
                    && link.isOpen()) {
                recheck(what, error);
            } else {
                goAlone(what, error);
            }
        } else {
            // Redis answered with an error: a bug or a foreign key in our namespace, not an outage. Once a minute.
            long now = System.nanoTime();
            if (now - lastRejectionLog > TimeUnit.MINUTES.toNanos(1) || lastRejectionLog == 0) {
                lastRejectionLog = now;
                LOG.warn("Redis rejected the {} command: {}", what, LuaScript.unwrap(error).getMessage());
            } else {
                LOG.debug("Redis rejected the {} command: {}", what, LuaScript.unwrap(error).getMessage());
            }
        }
    }

    /**
     * A command timed out on a connection that is still open: Redis may be gone, or only late — this process or
     * Redis paused for a moment (a long GC, a fork for a snapshot), and the reply sits unread. Going alone drops the
     * global order and caps every grant at the share, so a single late reply must not do it: one lease renewal asks
     * again, with the same timeout. If it answers, the replica stays joined and re-states what the timed-out command
     * may have left unwritten (holdings and queue); if not, it goes alone as before, one command timeout later.
     * Cluster thread.
     */
    private void recheck(String what, Throwable error) {
        if (recheck != null) {
            return;
        }
        long sent = System.nanoTime();
        recheck = membership.renew(link.commands()).whenCompleteAsync((r, e) -> {
            recheck = null;
            if (state != State.JOINED) {
                return;
            }
            if (e != null) {
                goAlone(what, error);
                return;
            }
            lateReplies.incrementAndGet();
            LOG.debug("Redis answered late ({}: {}); still joined", what, LuaScript.describe(error));
            broker.leaseRenewed(sent);
            idClash(r.idClash());
            if (r.leaseLost()) {
                leaseLost();
            } else {
                mirror.markResync();
                broker.forceSyncAll();
            }
        }, thread);
    }

    private void goAlone(String what, Throwable error) {
        if (state == State.CLOSED || state == State.ALONE) {
            return;
        }
        state = State.ALONE;
        outages.incrementAndGet();
        broker.goAlone();
        if (!outageLogged) {
            outageLogged = true;
            LOG.warn("Redis at {} unreachable ({}: {}); carrying on alone with this replica's share of each "
                    + "backend's slots ({} replica(s) last seen) and retrying", link.describe(), what,
                    LuaScript.describe(error), membership.view().size());
        }
        ready.complete(null);
        scheduleProbe();
    }

    private void scheduleProbe() {
        backoffNanos = Math.min(config.reconnectBackoffMax().toNanos(), Math.max(MIN_BACKOFF_NANOS, backoffNanos * 2));
        thread.schedule(this::probe, backoffNanos);
    }

    private void probe() {
        if (state != State.ALONE) {
            return;
        }
        link.open(keys.events(), this::onMessage).whenCompleteAsync((v, e) -> {
            if (state != State.ALONE) {
                return;
            }
            if (e == null) {
                join();
            } else {
                LOG.debug("Redis still unreachable: {}", e.toString());
                scheduleProbe();
            }
        }, thread);
    }

    private void leaseLost() {
        if (state != State.JOINED) {
            return;
        }
        LOG.info("the lease of {} had run out (Redis restarted, or this replica stalled); re-registering its "
                + "holdings and queue", config.replicaId());
        mirror.markResync();
        shared.leaseLost();
        broker.forceSyncAll();
    }

    /** A sync saw a different number of live replicas: renew now (at most one extra renewal in flight). */
    private void membershipChanged() {
        if (!renewing) {
            renewTick();
        }
    }

    private void renewTick() {
        RedisClusterAsyncCommands<String, String> redis = access.joinedOrNull();
        if (redis == null) {
            return;
        }
        if (!link.isOpen()) {
            goAlone("lease renewal", new IllegalStateException("connection closed"));
            return;
        }
        renewing = true;
        long sent = System.nanoTime();
        membership.renew(redis).whenCompleteAsync((r, e) -> {
            renewing = false;
            if (e != null) {
                failed("lease renewal", e);
                return;
            }
            broker.leaseRenewed(sent);
            idClash(r.idClash());
            if (r.leaseLost()) {
                leaseLost();
            }
            // Shares follow the live set.
            broker.wake(0);
        }, thread);
    }

    /**
     * Two live processes renewing one replica id would pool their holdings and overrun every backend's limit. A
     * process restarted under its old id within a lease time sees one clash; two replicas sharing an id see one
     * on every renewal. Cluster thread.
     */
    private void idClash(boolean clash) {
        idClashes = clash ? idClashes + 1 : 0;
        long now = System.nanoTime();
        if (idClashes >= 2 && (lastClashLog == 0 || now - lastClashLog > TimeUnit.MINUTES.toNanos(1))) {
            lastClashLog = now;
            LOG.error("another live balancer renews this replica's id {} in Redis: two replicas must never share an "
                    + "id (--replica-id / CLUSTER_REPLICA_ID), or backends' slot limits will be exceeded",
                    config.replicaId());
        }
    }

    /** Renewals in a row that found this id renewed by another process; for tests and status. */
    int idClashes() {
        return idClashes;
    }

    private void onMessage(String message) {
        int sp = message.indexOf(' ');
        if (sp <= 0) {
            return;
        }
        String kind = message.substring(0, sp);
        String backend = message.substring(sp + 1);
        thread.execute(() -> {
            switch (kind) {
                case "freed", "want" -> broker.remoteSignal(kind, backend);
                case "down", "up" -> shared.healthEvent(kind, backend);
                default -> LOG.debug("unknown cluster event {}", message);
            }
        });
    }

    /** Acts as if a command had just timed out (tests of the recheck): completes once the recheck has answered. */
    CompletableFuture<Void> simulateTimeout() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        thread.execute(() -> {
            failed("test", new RedisCommandTimeoutException("simulated"));
            CompletionStage<?> inFlight = recheck;
            if (inFlight == null) {
                done.complete(null);
            } else {
                inFlight.whenComplete((v, e) -> done.complete(null));
            }
        });
        return done;
    }

    /** Acts as if a command had just failed for want of Redis (tests of the fallback). */
    CompletableFuture<Void> simulateLinkFailure() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        thread.execute(() -> {
            failed("test", new io.lettuce.core.RedisConnectionException("simulated"));
            done.complete(null);
        });
        return done;
    }

    /** Stops everything without leaving, as if the process died (tests of lease expiry). */
    void abandon() {
        state = State.CLOSED;
        shutDown();
    }

    /** Cancels the timers and closes the thread and the connection; leaves Redis as it is. */
    private void shutDown() {
        for (ScheduledFuture<?> t : timers) {
            if (t != null) {
                t.cancel(false);
            }
        }
        thread.close();
        link.close();
    }

    /** Leaves the cluster (frees this replica's slots at once) and closes the connection. Not on an event loop. */
    @Override
    public void close() {
        CompletableFuture<Void> left = new CompletableFuture<>();
        thread.execute(() -> {
            RedisClusterAsyncCommands<String, String> redis = access.joinedOrNull();
            state = State.CLOSED;
            if (redis == null) {
                left.complete(null);
            } else {
                membership.leave(redis, broker.backends()).whenComplete((r, e) -> left.complete(null));
            }
        });
        try {
            left.get(config.commandTimeout().toMillis() * 2 + 100, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.debug("leaving the cluster did not finish: {}", e.toString());
        }
        state = State.CLOSED;
        shutDown();
        ready.complete(null);
    }
}

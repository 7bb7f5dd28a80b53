/**
 * Cluster mode: several balancer replicas in front of one fleet, sharing state through Redis (Lettuce).
 *
 * <p>Starting points: {@link io.ollamabalancer.cluster.ClusterNode} (life cycle, the one object the balancer
 * holds), {@link io.ollamabalancer.cluster.SlotGrant} (what a backend's slot limit reads),
 * {@link io.ollamabalancer.cluster.ClusterHooks} (what the scheduler reports),
 * {@link io.ollamabalancer.cluster.LocalView} / {@link io.ollamabalancer.cluster.FleetLocalView} (what the cluster
 * reads of this replica), {@link io.ollamabalancer.estimate.LearnedState} and
 * {@link io.ollamabalancer.cluster.HealthListener} (shared statistics and health), and
 * {@link io.ollamabalancer.cluster.RedisTarget} for the {@code --redis-url} forms ({@code redis://},
 * {@code rediss://}, {@code redis-sentinel://…#master}, {@code redis-cluster://seed1,seed2}).
 *
 * <h2>The problem</h2>
 * A backend's {@code maxConcurrency} must hold across all replicas, and when a slot frees, the request that should
 * get it — the best by (priority, enqueue time), as in the local queue — may be waiting on another replica. The
 * obvious design, asking Redis for a slot on every dispatch, puts a network round trip (and Redis's availability)
 * on every request's critical path. This package keeps <em>no Redis round trip on the dispatch path</em>: Redis
 * decides who may use how many slots; each replica then dispatches against that decision locally, lock-free.
 *
 * <h2>Grants</h2>
 * Each replica holds, per backend, a <em>grant</em>: the number of that backend's slots it may use now. The local
 * scheduler's slot check is {@code inUse < min(maxConcurrency, grant)} — a few volatile reads
 * ({@link io.ollamabalancer.cluster.BackendGrant}). Grants change in the background, on one cluster thread
 * ({@link io.ollamabalancer.cluster.SlotBroker}), by syncing with a ledger in Redis
 * ({@link io.ollamabalancer.cluster.SlotLedger}): a hash per backend of replica → slots held, changed only by one
 * Lua script. The script <em>sets</em> a replica's holding rather than adding to it, so a reply lost to a timeout
 * leaves nothing to undo; it never sets it below what the replica is running ({@code floor}), so the ledger never
 * undercounts real work; and it grants more only out of slots nobody holds. A replica uses a slot only after Redis
 * confirmed it and gives one back only after it stopped using it, so at every instant
 * {@code Σ running ≤ Σ held ≤ limit}. The one race — a dispatch that read the grant just before it was lowered
 * for a release — is closed by ordering: the broker lowers the grant, <em>then</em> reads what runs to tell Redis;
 * a dispatcher counts its slot, <em>then</em> re-reads the grant and backs off if over it
 * ({@link io.ollamabalancer.cluster.SlotGrant}). One of the two always sees the other.
 *
 * <p>A replica wants what it runs plus what waits for the backend locally; while no other replica waits for the
 * backend, it also keeps its {@link io.ollamabalancer.cluster.FairShare} ({@code limit / replicas}, the remainder
 * spread by backend) as idle headroom, so the first requests after a quiet spell start without asking Redis.
 * Headroom ranks below every real waiting request: when another replica finds every slot held, the ledger
 * publishes {@code want}, idle holders give theirs back, and the ledger publishes {@code freed} for the waiter to
 * take.
 *
 * <h2>Who goes next, across replicas</h2>
 * Each replica mirrors its <em>waiting</em> requests into Redis ({@link io.ollamabalancer.cluster.QueueMirror}):
 * per replica and model a sorted set whose score ({@link io.ollamabalancer.cluster.QueueScore}) packs priority and
 * wall-clock enqueue time into one exact double, smaller first, the same order as {@code ModelQueue.QueueKey}. The
 * local queue stays the truth and the fast path; the mirror trails it by a flush delay of about 2 ms, batched, at
 * most a few calls in flight — and a request dispatched within the delay never reaches Redis at all. When a
 * replica asks for more slots, the ledger first counts the waiting requests of other live replicas, for the
 * backend's models, that rank better than the asker's best; free slots go to them first. The reply tells the
 * replica how many better requests wait elsewhere beyond the free slots; while that number is positive, a slot
 * freed by a completion here is <em>yielded</em> ({@link io.ollamabalancer.cluster.ClusterHooks#slotFreeing}):
 * the grant drops by one on the completing thread before the slot is released, so no dispatcher can reuse it,
 * the next sync returns it,
 * and the replica with the better request takes it. The hand-over costs two round trips and a pub/sub message
 * (about a millisecond), once per freed slot and only under contention.
 *
 * <h2>Leases and membership</h2>
 * Every replica has a lease in a sorted set (replica → expiry, on Redis's clock), renewed every third of its TTL
 * and by every sync. A replica whose lease ran out is not live: its holdings are dropped by the next sync that
 * looks at the backend (any replica waiting for it retries within the refresh interval), and its mirrored requests
 * stop counting — so a killed replica's slots come back within one lease TTL plus a refresh, with no operator.
 * The live set, sorted by id, is also what every replica computes fair shares from. A clean shutdown leaves at once
 * and frees everything.
 *
 * <h2>When Redis is unreachable</h2>
 * A command that times out (250 ms by default), a refused or dropped connection: the replica goes alone. It logs
 * once and opens new connections with exponential backoff until Redis answers. While its lease may still be alive
 * in Redis it keeps only the slots Redis records for it (at most its share): other replicas may still be using
 * Redis — a timeout seen by one replica is not an outage for all — and that entry is what keeps them off those
 * slots. Once the lease must have run out, every grant becomes its fair share among the replicas it last saw —
 * shares that add up to exactly each limit. No client request waits on
 * any of this or fails because of it; with fewer slots than replicas some replicas get none of that backend while
 * alone, and their requests for it wait rather than overload it. On return it rejoins and re-sends everything Redis
 * may have lost (a restarted Redis without persistence is empty): its lease, every holding (claiming what it
 * runs), its whole mirror, its learned statistics and its ejections. An {@code epoch} key tells a fresh Redis from
 * one that lost its data: when a replica that knew an epoch finds none, a settle window opens in which grants stay
 * within fallback shares, until every replica had time to re-register what it runs. Redis's data is never trusted
 * blindly: slot limits always come from this replica's configuration, statistics are validated (finite, positive
 * weights, clamped), remote ejections are capped, and grants are re-confirmed by the ledger before use.
 *
 * <h2>Learned state and health</h2>
 * {@link io.ollamabalancer.cluster.SharedStats}: every few seconds each replica publishes its own observations
 * (keyed weighted averages, {@link io.ollamabalancer.cluster.WeightedStats}); at start, on rejoin and periodically it
 * reads the others' merged by weight, and {@link io.ollamabalancer.cluster.ClusterNode#ready()} completes only once
 * they are in, so a replica started late routes well from its first request.
 * {@link io.ollamabalancer.cluster.SharedHealth}: an ejection is a key with the ejection time as TTL, announced on
 * the events channel and polled as a backstop; every replica treats the backend as down until it expires or some
 * replica sees it recover.
 *
 * <h2>API keys' limits</h2>
 * {@link io.ollamabalancer.cluster.KeyBuckets} keeps each API key's requests-per-minute and tokens-per-minute
 * buckets in Redis, one hash each, changed only by one Lua script that refills by elapsed time (Redis's clock),
 * takes back returned units and grants {@code min(asked, whole units held)}. Replicas spend leases of them locally
 * (the auth package's {@code LeasedBucket}), the same idea as slot grants: no round trip while a lease has
 * headroom, and while Redis is unreachable each replica holds {@code limit / replicas last seen}.
 *
 * <h2>Threading and resources</h2>
 * All decisions run on one daemon thread per node ({@link io.ollamabalancer.cluster.ClusterThread}); Redis replies
 * complete on Lettuce's I/O threads and hop there; the scheduler's hooks and the grant reads are O(1), lock-free
 * and never touch the network, so no event loop ever blocks or waits on Redis. Lettuce gets its own small Netty
 * resources (two I/O threads) unless the balancer passes shared {@code ClientResources}; it runs on the project's
 * Netty 4.2.
 *
 * <h2>Limits, stated</h2>
 * <ul>
 *   <li>Partition: a replica cut off from a Redis the others still reach stays within what the ledger reserves for
 *       it while its lease lasts; after that it uses its share while the others may hand those slots out — up to
 *       that share over the limit, until it rejoins. Total outages (every replica alone) stay within the limit
 *       when the replicas' views of the membership agree.</li>
 *   <li>Cross-replica FIFO is by wall-clock milliseconds: replicas' clocks should agree to a few ms (NTP).</li>
 *   <li>Redis Cluster: all keys share one hash tag, so one shard carries the (small) load; under Cluster, Lettuce
 *       keeps its own reconnection and outages are detected by command timeouts.</li>
 *   <li>Redis 5 or later (scripts read {@code TIME} before writing: effects replication); tested on 7.0.</li>
 * </ul>
 */
package io.ollamabalancer.cluster;

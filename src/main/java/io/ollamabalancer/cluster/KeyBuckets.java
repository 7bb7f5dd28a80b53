package io.ollamabalancer.cluster;

import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.ollamabalancer.auth.BucketLeases;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * API keys' requests and tokens buckets shared by every replica through Redis ({@link BucketLeases} for the auth
 * package): one hash per key and limit holding the bucket's level and when it was last refilled (Redis's clock). One
 * Lua script per lease refills it by the time elapsed, takes back what a replica returns and grants
 * {@code min(asked, whole units held)}, answering how long until it holds what the replica lacks — the
 * {@code Retry-After} of a refusal. Replicas spend their leases locally; a request with local headroom never waits
 * for Redis. A bucket untouched for a minute is full again, so its key expires then ({@value #BUCKET_TTL_MILLIS} ms):
 * a bucket Redis does not have is a full one, and a reload that changes a limit takes effect at the next lease (the
 * script caps the level at the new limit and refills at the new rate).
 *
 * <p>Threading: {@link #lease}, {@link #shared()}, {@link #replicas()} from any thread, never blocking: a lease is
 * handed to the cluster thread, which sends the script; the answer hops back there and goes to the holder.
 * {@link #sweep} (idle leases back to Redis) runs on the cluster thread.
 */
final class KeyBuckets implements BucketLeases {
    /** A minute (a full refill) and a second: past it, an absent bucket and the stored one are the same. */
    static final long BUCKET_TTL_MILLIS = 61_000;

    static final LuaScript LEASE = new LuaScript("key-bucket-lease", LuaScript.PRELUDE + """
            local cap, ask, back, need = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
            local now = clock()
            local rate = cap / 60000
            local level, at = cap, now
            local held = redis.call('HMGET', KEYS[1], 'level', 'at')
            if held[1] then
              level, at = tonumber(held[1]), tonumber(held[2])
            end
            if now > at then
              level = level + (now - at) * rate
            end
            level = math.min(cap, level + back)
            local grant = 0
            if ask > 0 and level >= 1 then
              grant = math.min(ask, math.floor(level))
            end
            level = level - grant
            local wait = 0
            if grant < need then
              wait = math.ceil((need - grant - level) / rate)
            end
            redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(now))
            redis.call('PEXPIRE', KEYS[1], ARGV[5])
            return {grant, wait}
            """);

    private final Keys keys;
    private final Membership membership;
    private final RedisAccess access;
    private final ClusterThread thread;
    private final int minReplicas;
    /** The holders that have asked since their last idle return, by bucket (the latest state of a reloaded key). */
    private final Map<String, Holder> holders = new ConcurrentHashMap<>();

    /** @param minReplicas divide limits by at least this many replicas while Redis is away (as slots: 0 or 1, none) */
    KeyBuckets(Keys keys, Membership membership, RedisAccess access, ClusterThread thread, int minReplicas) {
        this.keys = keys;
        this.membership = membership;
        this.access = access;
        this.thread = thread;
        this.minReplicas = minReplicas;
    }

    @Override
    public boolean shared() {
        return access.joinedOrNull() != null;
    }

    @Override
    public int replicas() {
        // The same divisor as each backend's fallback slot share (FairShare).
        return Math.max(Math.max(1, minReplicas), membership.view().size());
    }

    @Override
    public void lease(Ask ask, Holder holder) {
        holders.put(ask.bucket(), holder);
        thread.execute(() -> send(ask, holder));
    }

    /** Idle leases go back to Redis, and debts left by a request on credit are paid. Cluster thread. */
    void sweep() {
        // A copy: holders that handed everything back leave the map (they come back with their next ask).
        for (Map.Entry<String, Holder> e : List.copyOf(holders.entrySet())) {
            Ask a = e.getValue().idleReturn();
            if (a == null) {
                continue;
            }
            if (a.ask() == 0) {
                holders.remove(e.getKey(), e.getValue());
            }
            if (a.ask() > 0 || a.giveBack() > 0) {
                send(a, e.getValue());
            }
        }
    }

    private void send(Ask ask, Holder holder) {
        RedisClusterAsyncCommands<String, String> redis = access.joinedOrNull();
        if (redis == null) {
            answerFailed(ask, holder);
            return;
        }
        LEASE.run(redis, new String[] {keys.keyBucket(ask.bucket())}, Long.toString(ask.perMinute()),
                Long.toString(ask.ask()), Long.toString(ask.giveBack()), Long.toString(ask.need()),
                Long.toString(BUCKET_TTL_MILLIS)).whenCompleteAsync((r, e) -> {
                    if (e != null) {
                        answerFailed(ask, holder);
                        access.failed("key bucket lease", e);
                    } else if (ask.generation() >= 0) {
                        holder.granted(ask, LuaScript.asLong(r.get(0)), LuaScript.asLong(r.get(1)));
                    }
                }, thread);
    }

    private static void answerFailed(Ask ask, Holder holder) {
        if (ask.generation() >= 0) {
            holder.failed(ask);
        }
    }
}

package io.ollamabalancer.cluster;

import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * This replica's lease and its view of the others: the {@code replicas} sorted set maps each replica to the
 * Redis-clock time its lease runs out; a replica is live while that time is ahead. {@link #renew} extends the lease
 * (and the expiry of this replica's queue-mirror keys), forgets replicas dead for ten lease times, and reads the
 * live set; {@link #leave} removes this replica and everything it holds at once, for a clean shutdown.
 *
 * <p>It also remembers the Redis <em>epoch</em> it joined: when the epoch key vanished (Redis restarted without
 * persistence, or was flushed) the next script to run opens a settle window ({@link LuaScript#PRELUDE}).
 *
 * <p>Thread-safety: {@link #view()}, {@link #shareView()} and {@link #knownEpoch()} are volatile reads from any
 * thread; updates (from {@link #observe} on the cluster thread and renewal replies on Lettuce's threads) are
 * serialised by a lock held for a few field writes.
 */
final class Membership {
    static final LuaScript RENEW = new LuaScript("renew", LuaScript.PRELUDE + """
            local prefix, me, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
            local now = clock()
            local epoch, settling = ensure_epoch(KEYS[2], KEYS[3], me, now, ARGV[4], ARGV[5])
            local prev = redis.call('ZSCORE', KEYS[1], me)
            local lost = (not prev) or tonumber(prev) < now
            redis.call('ZADD', KEYS[1], now + ttl, me)
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 10 * ttl)
            for _, m in ipairs(redis.call('SMEMBERS', KEYS[4])) do
              redis.call('PEXPIRE', prefix .. 'q:' .. me .. ':' .. m, ARGV[6])
            end
            redis.call('PEXPIRE', KEYS[4], ARGV[6])
            local live = redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')
            local owner = redis.call('GET', KEYS[5])
            local clash = 0
            if owner and owner ~= ARGV[7] and prev and tonumber(prev) >= now then clash = 1 end
            redis.call('SET', KEYS[5], ARGV[7], 'PX', 10 * ttl)
            return {lost and 1 or 0, settling and 1 or 0, epoch, live, clash}
            """);

    static final LuaScript LEAVE = new LuaScript("leave", """
            local prefix, me = ARGV[1], ARGV[2]
            redis.call('ZREM', KEYS[1], me)
            for _, m in ipairs(redis.call('SMEMBERS', KEYS[2])) do
              redis.call('DEL', prefix .. 'q:' .. me .. ':' .. m)
            end
            redis.call('DEL', KEYS[2])
            redis.call('DEL', KEYS[3])
            for i = 3, #ARGV do
              redis.call('HDEL', prefix .. 'short:' .. ARGV[i], me)
              if redis.call('HDEL', prefix .. 'slots:' .. ARGV[i], me) == 1 then
                redis.call('PUBLISH', prefix .. 'events', 'freed ' .. ARGV[i])
              end
            end
            return {1}
            """);

    /**
     * The replicas this one last saw alive, sorted by id (so every replica computes the same ranks).
     *
     * @param live     live replica ids, this one included
     * @param settling Redis is settling after losing its data
     */
    record View(List<String> live, boolean settling) {
        View {
            live = List.copyOf(live);
        }

        int size() {
            return live.size();
        }
    }

    /**
     * The answer to a renewal.
     *
     * @param leaseLost the lease had run out (or Redis lost it) before this renewal
     * @param idClash   the lease was live but last renewed by another process: another live replica seems to use
     *                  this replica's id (or this process restarted under it within a lease time, once)
     */
    record Renewal(boolean leaseLost, View view, boolean idClash) {
    }

    private final Keys keys;
    private final String me;
    private final long leaseTtlMillis;
    private final long settleMillis;
    private final long mirrorKeyTtlMillis;
    /** Tells this process's renewals from another process's under the same replica id. */
    private final String processToken = java.util.UUID.randomUUID().toString();
    private volatile String knownEpoch = "";
    private volatile View view;
    private volatile View beforeSettle;

    Membership(Keys keys, String replicaId, long leaseTtlMillis, long settleMillis, long mirrorKeyTtlMillis) {
        this.keys = keys;
        this.me = replicaId;
        this.leaseTtlMillis = leaseTtlMillis;
        this.settleMillis = settleMillis;
        this.mirrorKeyTtlMillis = mirrorKeyTtlMillis;
        this.view = new View(List.of(replicaId), false);
    }

    String replicaId() {
        return me;
    }

    String knownEpoch() {
        return knownEpoch;
    }

    View view() {
        return view;
    }

    CompletionStage<Renewal> renew(RedisClusterAsyncCommands<String, String> redis) {
        String[] k = {keys.replicas(), keys.epoch(), keys.settle(), keys.waitingModels(me), keys.owner(me)};
        return RENEW.run(redis, k, keys.prefix(), me, Long.toString(leaseTtlMillis), knownEpoch,
                Long.toString(settleMillis), Long.toString(mirrorKeyTtlMillis), processToken).thenApply(v -> {
                    List<String> live = new ArrayList<>();
                    for (Object o : (List<?>) v.get(3)) {
                        live.add(o.toString());
                    }
                    return new Renewal(LuaScript.asLong(v.get(0)) != 0,
                            view(live, LuaScript.asLong(v.get(1)) != 0, LuaScript.asString(v.get(2))),
                            v.size() > 4 && LuaScript.asLong(v.get(4)) != 0);
                });
    }

    /** Removes this replica's lease, queue mirror and holdings of the given backends (clean shutdown). */
    CompletionStage<List<Object>> leave(RedisClusterAsyncCommands<String, String> redis, Collection<String> backends) {
        List<String> args = new ArrayList<>();
        args.add(keys.prefix());
        args.add(me);
        args.addAll(backends);
        return LEAVE.run(redis, new String[] {keys.replicas(), keys.waitingModels(me), keys.owner(me)},
                args.toArray(String[]::new));
    }

    /**
     * The members to divide slots among. While Redis settles after losing its data, replicas re-register one by
     * one, so the live set undercounts; shares are then taken from the last view before the settle when it was
     * larger, or the first replica back would claim everything.
     */
    View shareView() {
        View v = view;
        View before = beforeSettle;
        return v.settling() && before != null && before.size() > v.size() ? before : v;
    }

    /** Records the epoch and settle state a sync reported. */
    void observe(String epoch, boolean settling) {
        if (epoch != null && !epoch.isEmpty()) {
            knownEpoch = epoch;
        }
        View v = view;
        if (v.settling() != settling) {
            update(new View(v.live(), settling));
        }
    }

    private View view(List<String> live, boolean settling, String epoch) {
        if (!live.contains(me)) {
            live.add(me);
        }
        Collections.sort(live);
        View v = new View(live, settling);
        update(v);
        if (epoch != null && !epoch.isEmpty()) {
            knownEpoch = epoch;
        }
        return v;
    }

    private synchronized void update(View next) {
        View prev = view;
        if (next.settling() && !prev.settling()) {
            beforeSettle = prev;
        }
        view = next;
    }
}

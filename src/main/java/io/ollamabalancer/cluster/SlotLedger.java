package io.ollamabalancer.cluster;

import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The shared record of who holds which backend's slots, kept in Redis and changed only by one atomic script.
 *
 * <p>{@link #sync} does not add or subtract: it <em>sets</em> this replica's holding of one backend, so a reply
 * lost to a timeout leaves nothing to undo (the next sync states the truth again). Within the script, atomically:
 * <ol>
 *   <li>the caller's lease is renewed (and reported lost if it had expired);</li>
 *   <li>holders whose lease expired are dropped from the backend's hash — a dead replica's slots come back here;
 *   </li>
 *   <li>the waiting requests of other live replicas for the backend's models are counted: all of them, and those
 *       ranked better than the caller's best ({@link QueueScore}); but of each replica only as many as it is
 *       <em>short</em> of slots (its demand beyond its holding at its last sync). A request that waits on a
 *       replica with idle slots of its own (a scheduling stall, a choice of the local policy) is not waiting for
 *       anyone else's slots; counting it made idle replicas give their headroom back, so their next requests
 *       waited for Redis and were counted in turn: a loop that put Redis on the dispatch path under load;</li>
 *   <li>the new holding is {@code max(floor, wanted)}: {@code floor} is what the caller runs right now and is never
 *       taken away (the ledger must not undercount real work); more than it already holds is granted only out of
 *       slots nobody holds, and only after every better-ranked waiting request elsewhere could have one; while
 *       Redis settles after a restart, no more than the caller's fallback share;</li>
 *   <li>the caller's shortfall ({@code demand − held}) is recorded for the other replicas' next syncs;</li>
 *   <li>a release that leaves slots free publishes {@code freed <backend>}; a demand that found no free slot
 *       publishes {@code want <backend>} (so idle holders give theirs back).</li>
 * </ol>
 * Thread-safe (stateless apart from constants); stages complete on Lettuce's I/O threads.
 */
final class SlotLedger {
    static final LuaScript SYNC = new LuaScript("sync", LuaScript.PRELUDE + """
            local prefix, me, backend = ARGV[1], ARGV[2], ARGV[3]
            local limit, floor, need = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
            local ttl, my_score, share = tonumber(ARGV[7]), ARGV[8], tonumber(ARGV[9])
            local now = clock()
            local epoch, settling = ensure_epoch(KEYS[3], KEYS[4], me, now, ARGV[10], ARGV[11])
            local prev = redis.call('ZSCORE', KEYS[2], me)
            local lost = (not prev) or tonumber(prev) < now
            redis.call('ZADD', KEYS[2], now + ttl, me)
            local live = redis.call('ZRANGEBYSCORE', KEYS[2], now, '+inf')
            local mine, others = 0, 0
            local holders = redis.call('HGETALL', KEYS[1])
            for i = 1, #holders, 2 do
              local r, n = holders[i], tonumber(holders[i + 1]) or 0
              if r == me then
                mine = n
              else
                local exp = redis.call('ZSCORE', KEYS[2], r)
                if (not exp) or tonumber(exp) < now then
                  redis.call('HDEL', KEYS[1], r)
                  redis.call('HDEL', KEYS[5], r)
                else
                  others = others + n
                end
              end
            end
            for _, r in ipairs(redis.call('HKEYS', KEYS[5])) do
              local exp = redis.call('ZSCORE', KEYS[2], r)
              if r ~= me and ((not exp) or tonumber(exp) < now) then
                redis.call('HDEL', KEYS[5], r)
              end
            end
            local demand = tonumber(ARGV[13])
            local models = {}
            for i = 14, #ARGV do models[ARGV[i]] = true end
            local upper = (my_score == 'inf') and '+inf' or ('(' .. my_score)
            local better, waiting = 0, 0
            for _, r in ipairs(live) do
              local short = (r ~= me) and tonumber(redis.call('HGET', KEYS[5], r) or '0') or 0
              if short > 0 then
                local w, b = 0, 0
                for _, m in ipairs(redis.call('SMEMBERS', prefix .. 'qm:' .. r)) do
                  if models[m] then
                    local k = prefix .. 'q:' .. r .. ':' .. m
                    w = w + redis.call('ZCARD', k)
                    b = b + redis.call('ZCOUNT', k, '-inf', upper)
                  end
                end
                waiting = waiting + math.min(w, short)
                better = better + math.min(b, short)
              end
            end
            local room = limit - others
            local want = math.min(need, room)
            if want > mine then
              local free = room - mine
              want = mine + math.max(0, math.min(want - mine, free - better))
              if settling then want = math.min(want, math.max(mine, share)) end
            end
            local held = math.max(floor, want, 0)
            if held > 0 then
              redis.call('HSET', KEYS[1], me, held)
            else
              redis.call('HDEL', KEYS[1], me)
            end
            if demand > held then
              redis.call('HSET', KEYS[5], me, demand - held)
            else
              redis.call('HDEL', KEYS[5], me)
            end
            local free = limit - others - held
            if held < mine and free > 0 then
              redis.call('PUBLISH', prefix .. 'events', 'freed ' .. backend)
            end
            if held < demand and free <= 0 and ARGV[12] == '1' then
              redis.call('PUBLISH', prefix .. 'events', 'want ' .. backend)
            end
            return {held, others, free, better, waiting, #live, lost and 1 or 0, settling and 1 or 0, epoch}
            """);

    private final Keys keys;
    private final String me;
    private final long leaseTtlMillis;
    private final long settleMillis;

    SlotLedger(Keys keys, String replicaId, long leaseTtlMillis, long settleMillis) {
        this.keys = keys;
        this.me = replicaId;
        this.leaseTtlMillis = leaseTtlMillis;
        this.settleMillis = settleMillis;
    }

    /**
     * What one replica asks of one backend's slots.
     *
     * @param backend       the backend's name
     * @param limit         its configured slot limit (the config is the truth, never Redis)
     * @param floor         slots this replica is running on it right now
     * @param need          the holding it would like (its demand, plus idle headroom)
     * @param demand        what it runs plus what waits here for the backend's models: the part of {@code need}
     *                      that is not headroom
     * @param bestScore     its best waiting request for this backend ({@link QueueScore#NONE}: none waiting)
     * @param fallbackShare its share when Redis is down; the cap while Redis settles
     * @param announce      publish {@code want} if the slots are all held by others
     * @param models        the models (queue keys) the backend serves
     */
    record Request(String backend, int limit, int floor, int need, int demand, long bestScore, int fallbackShare,
                   boolean announce, Collection<String> models) {
    }

    /**
     * What Redis decided.
     *
     * @param held       this replica's holding now
     * @param others     held by other live replicas
     * @param free       held by nobody (negative when over-committed after a restart)
     * @param better     other replicas' waiting requests ranked better than the caller's best
     * @param waiting    other replicas' waiting requests for this backend's models
     * @param live       live replicas, the caller included
     * @param leaseLost  the caller's lease had expired (or Redis lost it) before this call
     * @param settling   Redis is settling after it lost its data
     * @param epoch      the current Redis incarnation
     */
    record Result(int held, int others, int free, int better, int waiting, int live, boolean leaseLost,
                  boolean settling, String epoch) {
    }

    CompletionStage<Result> sync(RedisClusterAsyncCommands<String, String> redis, Request r, String knownEpoch) {
        List<String> args = new ArrayList<>(12 + r.models().size());
        args.add(keys.prefix());
        args.add(me);
        args.add(r.backend());
        args.add(Integer.toString(r.limit()));
        args.add(Integer.toString(Math.max(0, r.floor())));
        args.add(Integer.toString(Math.max(0, r.need())));
        args.add(Long.toString(leaseTtlMillis));
        args.add(QueueScore.arg(r.bestScore()));
        args.add(Integer.toString(Math.max(0, r.fallbackShare())));
        args.add(knownEpoch == null ? "" : knownEpoch);
        args.add(Long.toString(settleMillis));
        args.add(r.announce() ? "1" : "0");
        args.add(Integer.toString(Math.max(0, r.demand())));
        args.addAll(r.models());
        String[] k = {keys.slots(r.backend()), keys.replicas(), keys.epoch(), keys.settle(),
                keys.shortOf(r.backend())};
        return SYNC.run(redis, k, args.toArray(String[]::new)).thenApply(SlotLedger::parse);
    }

    private static Result parse(List<Object> v) {
        return new Result((int) LuaScript.asLong(v.get(0)), (int) LuaScript.asLong(v.get(1)),
                (int) LuaScript.asLong(v.get(2)), (int) LuaScript.asLong(v.get(3)), (int) LuaScript.asLong(v.get(4)),
                (int) LuaScript.asLong(v.get(5)), LuaScript.asLong(v.get(6)) != 0, LuaScript.asLong(v.get(7)) != 0,
                LuaScript.asString(v.get(8)));
    }
}

package io.ollamabalancer.cluster;

import io.ollamabalancer.estimate.WeightedStats;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Learned statistics shared through Redis, so a replica that starts late starts warm. Each key is a hash of
 * replica → that replica's own {@link WeightedStats}; readers merge the other replicas' records by weight. Records
 * outlive their replica ({@link ClusterConfig#statsTtl()}, renewed on every publication): a backend's speed is
 * still true after the replica that measured it is gone.
 *
 * <p>Threading: {@link #publishChanges} and {@link #forgetPublished} on the cluster thread (they keep what was last
 * published, to send only changes); {@link #loadOthers} and {@link #publish} from any thread.
 */
final class SharedStats {
    static final LuaScript PUBLISH = new LuaScript("stats-publish", """
            local prefix, me, ttl = ARGV[1], ARGV[2], ARGV[3]
            for i = 4, #ARGV, 2 do
              local k = prefix .. 'stat:' .. ARGV[i]
              redis.call('HSET', k, me, ARGV[i + 1])
              redis.call('PEXPIRE', k, ttl)
              redis.call('SADD', KEYS[1], ARGV[i])
            end
            redis.call('PEXPIRE', KEYS[1], ttl)
            return {1}
            """);

    static final LuaScript LOAD = new LuaScript("stats-load", """
            local out = {}
            for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
              local h = redis.call('HGETALL', ARGV[1] .. 'stat:' .. key)
              if #h == 0 then
                redis.call('SREM', KEYS[1], key)
              else
                out[#out + 1] = key
                out[#out + 1] = h
              end
            end
            return out
            """);

    private final Keys keys;
    private final String me;
    private final String ttlMillis;
    private Map<String, WeightedStats> published = Map.of();

    SharedStats(Keys keys, String replicaId, long ttlMillis) {
        this.keys = keys;
        this.me = replicaId;
        this.ttlMillis = Long.toString(ttlMillis);
    }

    /** Publishes these records as this replica's (all of them). */
    CompletionStage<Void> publish(RedisClusterAsyncCommands<String, String> redis, Map<String, WeightedStats> own) {
        if (own.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        List<String> args = new ArrayList<>(3 + 2 * own.size());
        args.add(keys.prefix());
        args.add(me);
        args.add(ttlMillis);
        own.forEach((k, v) -> {
            args.add(k);
            args.add(WeightedStatsCodec.encode(v));
        });
        return PUBLISH.run(redis, new String[] {keys.statsIndex()}, args.toArray(String[]::new))
                .thenApply(r -> null);
    }

    /** Publishes the records that changed since the last successful call. Cluster thread. */
    CompletionStage<Void> publishChanges(RedisClusterAsyncCommands<String, String> redis,
                                         Map<String, WeightedStats> own) {
        Map<String, WeightedStats> changed = new HashMap<>();
        own.forEach((k, v) -> {
            if (!v.equals(published.get(k))) {
                changed.put(k, v);
            }
        });
        Map<String, WeightedStats> snapshot = Map.copyOf(own);
        return publish(redis, changed).thenApply(r -> {
            published = snapshot;
            return null;
        });
    }

    /** The next {@link #publishChanges} sends everything (Redis may have lost it). Cluster thread. */
    void forgetPublished() {
        published = Map.of();
    }

    /** The other replicas' records, merged by key; malformed records are skipped. */
    CompletionStage<Map<String, WeightedStats>> loadOthers(RedisClusterAsyncCommands<String, String> redis) {
        return LOAD.run(redis, new String[] {keys.statsIndex()}, keys.prefix()).thenApply(v -> {
            Map<String, WeightedStats> out = new HashMap<>();
            for (int i = 0; i + 1 < v.size(); i += 2) {
                String key = v.get(i).toString();
                List<?> fields = (List<?>) v.get(i + 1);
                List<WeightedStats> records = new ArrayList<>();
                for (int j = 0; j + 1 < fields.size(); j += 2) {
                    if (me.equals(fields.get(j).toString())) {
                        continue;
                    }
                    WeightedStats w = WeightedStatsCodec.decode(String.valueOf(fields.get(j + 1)));
                    if (w != null) {
                        records.add(w);
                    }
                }
                if (!records.isEmpty()) {
                    out.put(key, WeightedStats.merge(records));
                }
            }
            return out;
        });
    }
}

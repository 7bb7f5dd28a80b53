package io.ollamabalancer.cluster;

import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Backend ejections shared through Redis: one key per ejected backend, holding who ejected it and why, with the
 * ejection time as its TTL — so an ejection ends by itself everywhere at once, even if the ejecting replica died.
 * Changes are also announced on the events channel ({@code down b}, {@code up b}) so others poll at once; the
 * periodic poll is the backstop for lost messages.
 *
 * <p>This replica's own live ejections are remembered locally and written again on rejoin, because a restarted
 * Redis has forgotten them. Replicas never trust a poll result blindly: a remote ejection only makes the listener
 * treat a backend as down for the remaining TTL, and keys that vanish right after a rejoin (Redis lost them) are
 * not reported as recoveries.
 *
 * <p>Threading: {@link #ejected}/{@link #recovered} record from any thread; the rest runs on the cluster thread.
 */
final class SharedHealth {
    static final LuaScript EJECT = new LuaScript("health-eject", """
            redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
            redis.call('PUBLISH', ARGV[3] .. 'events', 'down ' .. ARGV[4])
            return {1}
            """);

    static final LuaScript RECOVER = new LuaScript("health-recover", """
            if redis.call('DEL', KEYS[1]) == 1 then
              redis.call('PUBLISH', ARGV[1] .. 'events', 'up ' .. ARGV[2])
            end
            return {1}
            """);

    static final LuaScript POLL = new LuaScript("health-poll", """
            local out = {}
            for i = 2, #ARGV do
              local k = ARGV[1] .. 'down:' .. ARGV[i]
              local v = redis.call('GET', k)
              if v then
                out[#out + 1] = ARGV[i]
                out[#out + 1] = v
                out[#out + 1] = redis.call('PTTL', k)
              end
            end
            return out
            """);

    /** A remote ejection longer than this is capped: Redis's data is not trusted blindly. */
    static final long MAX_EJECTION_MILLIS = Duration.ofHours(1).toMillis();

    private record Own(long untilMillis, String reason) {
    }

    private final Keys keys;
    private final String me;
    private final LongSupplier clock;
    private final Map<String, Own> own = new ConcurrentHashMap<>();
    private Map<String, Long> seen = new HashMap<>();
    private boolean trustVanishing;

    SharedHealth(Keys keys, String replicaId, LongSupplier epochMillis) {
        this.keys = keys;
        this.me = replicaId;
        this.clock = epochMillis;
    }

    /** Records an ejection by this replica (any thread). */
    void ejected(String backend, Duration duration, String reason) {
        own.put(backend, new Own(clock.getAsLong() + duration.toMillis(), reason == null ? "" : reason));
    }

    /** Records a recovery seen by this replica (any thread). */
    void recovered(String backend) {
        own.remove(backend);
    }

    CompletionStage<List<Object>> sendEjection(RedisClusterAsyncCommands<String, String> redis, String backend) {
        Own o = own.get(backend);
        long ms = o == null ? 0 : o.untilMillis - clock.getAsLong();
        if (ms <= 0) {
            return sendRecovery(redis, backend);
        }
        return EJECT.run(redis, new String[] {keys.down(backend)}, me + "|" + o.reason, Long.toString(ms),
                keys.prefix(), backend);
    }

    CompletionStage<List<Object>> sendRecovery(RedisClusterAsyncCommands<String, String> redis, String backend) {
        return RECOVER.run(redis, new String[] {keys.down(backend)}, keys.prefix(), backend);
    }

    /** Backends this replica currently holds ejected (for republishing after a rejoin). */
    Collection<String> ownEjections() {
        long now = clock.getAsLong();
        own.entrySet().removeIf(e -> e.getValue().untilMillis <= now);
        return new ArrayList<>(own.keySet());
    }

    /** After a rejoin: keys missing from the next poll may just be lost by Redis, not recovered. */
    void rejoined() {
        trustVanishing = false;
    }

    /** Reads the ejection keys of these backends and reports changes. Cluster thread. */
    CompletionStage<Void> poll(RedisClusterAsyncCommands<String, String> redis, Collection<String> backends,
                               HealthListener listener) {
        List<String> args = new ArrayList<>(1 + backends.size());
        args.add(keys.prefix());
        args.addAll(backends);
        return POLL.run(redis, new String[] {keys.replicas()}, args.toArray(String[]::new))
                .thenAccept(v -> apply(v, listener));
    }

    private void apply(List<Object> v, HealthListener listener) {
        long now = clock.getAsLong();
        Map<String, Long> next = new HashMap<>();
        for (int i = 0; i + 2 < v.size(); i += 3) {
            String backend = v.get(i).toString();
            String value = v.get(i + 1).toString();
            long pttl = Math.min(MAX_EJECTION_MILLIS, LuaScript.asLong(v.get(i + 2)));
            if (pttl <= 0) {
                continue;
            }
            int bar = value.indexOf('|');
            String by = bar < 0 ? value : value.substring(0, bar);
            String reason = bar < 0 ? "" : value.substring(bar + 1);
            long until = now + pttl;
            next.put(backend, until);
            Long known = seen.get(backend);
            // Report new ejections and ones extended by more than a poll's jitter.
            if (!by.equals(me) && (known == null || until > known + 1000)) {
                listener.ejectedElsewhere(backend, Duration.ofMillis(pttl), by, reason);
            }
        }
        if (trustVanishing) {
            for (Map.Entry<String, Long> e : seen.entrySet()) {
                if (!next.containsKey(e.getKey()) && e.getValue() - now > 1000) {
                    listener.recoveredElsewhere(e.getKey());
                }
            }
        }
        seen = next;
        trustVanishing = true;
    }
}

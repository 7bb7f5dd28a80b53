package io.ollamabalancer.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the balancer replicas have written to a test Redis, read the way an operator would with {@code redis-cli}:
 * the live replicas, who holds a backend's slots, and the mirrored queues. Key names follow the table in
 * {@code cluster/Keys} for the default namespace. Each call is one or a few blocking commands over a fresh
 * connection ({@link RedisServerProcess#command}); a stopped Redis makes them throw {@link IOException}.
 * Stateless apart from the server it reads; use from the test thread (or an awaitility poll).
 */
public final class ClusterLedger {
    private static final String PREFIX = "{ollama-balancer}:";

    private final RedisServerProcess redis;

    public ClusterLedger(RedisServerProcess redis) {
        this.redis = redis;
    }

    /** Replicas whose lease is still ahead of Redis's clock, sorted by id. */
    public List<String> liveReplicas() throws IOException {
        String[] time = redis.command("TIME").split("\n");
        long nowMillis = Long.parseLong(time[0]) * 1000 + Long.parseLong(time[1]) / 1000;
        List<String> live = lines(redis.command("ZRANGEBYSCORE", PREFIX + "replicas", "(" + nowMillis, "+inf"));
        live.sort(null);
        return live;
    }

    /** Replica → slots of {@code backend} it holds in the ledger ({@code {ns}:slots:<backend>}). */
    public Map<String, Integer> holdings(String backend) throws IOException {
        return intHash(PREFIX + "slots:" + backend);
    }

    /** Replica → requests it could not place on {@code backend} at its last sync ({@code {ns}:short:<backend>}). */
    public Map<String, Integer> shortfalls(String backend) throws IOException {
        return intHash(PREFIX + "short:" + backend);
    }

    /** Replica → number of its waiting requests for {@code model} mirrored in Redis ({@code {ns}:q:<r>:<model>}). */
    public Map<String, Integer> mirroredQueues(String model) throws IOException {
        Map<String, Integer> out = new TreeMap<>();
        String suffix = ":" + model;
        for (String key : lines(redis.command("KEYS", PREFIX + "q:*"))) {
            if (key.endsWith(suffix)) {
                String replica = key.substring(PREFIX.length() + 2, key.length() - suffix.length());
                out.put(replica, Integer.parseInt(redis.command("ZCARD", key)));
            }
        }
        return out;
    }

    /** Whether Redis still holds back grants after losing its data ({@code {ns}:settle}). */
    public boolean settling() throws IOException {
        return "1".equals(redis.command("EXISTS", PREFIX + "settle"));
    }

    private Map<String, Integer> intHash(String key) throws IOException {
        List<String> kv = lines(redis.command("HGETALL", key));
        Map<String, Integer> out = new TreeMap<>();
        for (int i = 0; i + 1 < kv.size(); i += 2) {
            out.put(kv.get(i), Integer.parseInt(kv.get(i + 1)));
        }
        return out;
    }

    private static List<String> lines(String reply) {
        List<String> out = new ArrayList<>();
        for (String s : reply.split("\n")) {
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }
}

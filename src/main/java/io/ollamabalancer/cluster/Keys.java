package io.ollamabalancer.cluster;

/**
 * The names of every Redis key the cluster uses, in one place. All start with {@code {namespace}:} — the braces
 * make the namespace the Redis Cluster hash tag, so every key lands in one slot and one script may touch any of
 * them. Scripts build the per-replica queue keys themselves from {@link #prefix()} with the same patterns as here.
 * Immutable.
 *
 * <pre>
 * {ns}:replicas              ZSET   replica → lease expiry (ms, Redis clock)
 * {ns}:epoch                 STRING id of the current Redis incarnation (gone after a restart without disk)
 * {ns}:owner:&lt;replica&gt;       STRING token of the process that last renewed that replica's lease (id clashes)
 * {ns}:settle                STRING present (with a TTL) while replicas re-register after a restart
 * {ns}:slots:&lt;backend&gt;       HASH   replica → slots of that backend it holds
 * {ns}:short:&lt;backend&gt;       HASH   replica → requests it could not place on that backend at its last sync
 * {ns}:qm:&lt;replica&gt;          SET    models the replica has waiting requests for
 * {ns}:q:&lt;replica&gt;:&lt;model&gt;    ZSET   the replica's waiting requests: member "id|promptTokens|outputTokens",
 *                                   score {@link QueueScore}
 * {ns}:stats:index           SET    keys of shared statistics
 * {ns}:stat:&lt;key&gt;            HASH   replica → its observations under that key ({@link WeightedStatsCodec#encode})
 * {ns}:down:&lt;backend&gt;        STRING "replica|reason" while that backend is ejected (TTL = ejection time)
 * {ns}:events                channel "freed b", "want b", "down b", "up b"
 * {ns}:pull:&lt;backend&gt;:&lt;model&gt; STRING the replica pulling that declared model onto that backend ({@link PullLeases})
 * {ns}:kb:&lt;key name&gt;:rpm|tpm  HASH   an API key's shared bucket: level, at (ms, Redis clock) ({@link KeyBuckets})
 * </pre>
 */
final class Keys {
    private final String prefix;

    Keys(String namespace) {
        this.prefix = "{" + namespace + "}:";
    }

    String prefix() {
        return prefix;
    }

    String replicas() {
        return prefix + "replicas";
    }

    String epoch() {
        return prefix + "epoch";
    }

    String owner(String replica) {
        return prefix + "owner:" + replica;
    }

    String settle() {
        return prefix + "settle";
    }

    String slots(String backend) {
        return prefix + "slots:" + backend;
    }

    String shortOf(String backend) {
        return prefix + "short:" + backend;
    }

    String waitingModels(String replica) {
        return prefix + "qm:" + replica;
    }

    String queue(String replica, String model) {
        return prefix + "q:" + replica + ":" + model;
    }

    String pull(String backend, String model) {
        return prefix + "pull:" + backend + ":" + model;
    }

    String keyBucket(String bucket) {
        return prefix + "kb:" + bucket;
    }

    String statsIndex() {
        return prefix + "stats:index";
    }

    String stat(String key) {
        return prefix + "stat:" + key;
    }

    String down(String backend) {
        return prefix + "down:" + backend;
    }

    String events() {
        return prefix + "events";
    }
}

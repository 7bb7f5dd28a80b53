package io.ollamabalancer.cluster;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.ollamabalancer.fleetops.PullClaims;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@link PullClaims} shared through Redis, so that one replica pulls a declared model onto a backend and the others
 * do not: a claim is {@code SET {ns}:pull:<backend>:<model> <replica> NX PX <lease>}, renewed every third of the
 * lease while the pull runs (only by its holder); when the pull ends its holder deletes it after a failure, or lets
 * it expire half a minute after a success (so that a replica whose model list is still old does not pull again); a
 * holder that dies leaves it to expire after one lease. While Redis is unreachable every claim is granted (a duplicate pull is safe).
 *
 * <p>Threading: renewals run on the cluster thread; {@link #claim} may be called from any thread and never blocks.
 */
final class PullLeases implements PullClaims {
    /** Renews the lease only for its holder. */
    private static final String RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then "
            + "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
    /** Deletes the lease only for its holder. */
    private static final String RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then "
            + "return redis.call('del', KEYS[1]) else return 0 end";
    /** After a successful pull the claim stays this long, while the other replicas' model lists catch up. */
    private static final long AFTER_SUCCESS_MILLIS = 30_000;

    private final Keys keys;
    private final String me;
    private final long leaseMillis;
    private final RedisAccess access;
    private final ClusterThread thread;

    PullLeases(Keys keys, String me, long leaseMillis, RedisAccess access, ClusterThread thread) {
        this.keys = keys;
        this.me = me;
        this.leaseMillis = leaseMillis;
        this.access = access;
        this.thread = thread;
    }

    @Override
    public CompletionStage<Claim> claim(String backend, String model) {
        RedisClusterAsyncCommands<String, String> redis = access.joinedOrNull();
        if (redis == null) {
            return CompletableFuture.completedFuture(Claim.MINE);
        }
        String key = keys.pull(backend, model);
        return redis.set(key, me, SetArgs.Builder.nx().px(leaseMillis))
                .thenCompose(ok -> "OK".equals(ok)
                        ? CompletableFuture.completedFuture((Claim) new Held(key))
                        : redis.get(key).thenApply(holder -> holder == null || holder.equals(me)
                                ? (Claim) new Held(key) : new Elsewhere(holder)))
                .exceptionally(t -> {
                    access.failed("pull lease", t);
                    return Claim.MINE;
                });
    }

    /** A lease this replica holds: renewed until released. */
    private final class Held implements Claim {
        private final String key;
        private final ScheduledFuture<?> renewal;

        Held(String key) {
            this.key = key;
            long every = Math.max(1, leaseMillis / 3);
            this.renewal = thread.every(() -> run(RENEW, String.valueOf(leaseMillis)),
                    TimeUnit.MILLISECONDS.toNanos(every));
        }

        @Override
        public boolean mine() {
            return true;
        }

        @Override
        public String holder() {
            return "";
        }

        @Override
        public void release(boolean pulled) {
            renewal.cancel(false);
            if (pulled) {
                run(RENEW, String.valueOf(AFTER_SUCCESS_MILLIS));
            } else {
                run(RELEASE);
            }
        }

        private void run(String script, String... more) {
            RedisScriptingAsyncCommands<String, String> redis = access.joinedOrNull();
            if (redis == null) {
                return; // the lease expires on its own
            }
            String[] args = new String[more.length + 1];
            args[0] = me;
            System.arraycopy(more, 0, args, 1, more.length);
            redis.<Long>eval(script, ScriptOutputType.INTEGER, new String[] {key}, args)
                    .exceptionally(t -> {
                        access.failed("pull lease", t);
                        return 0L;
                    });
        }
    }

    /** Another replica's lease. */
    private record Elsewhere(String holder) implements Claim {
        @Override
        public boolean mine() {
            return false;
        }

        @Override
        public void release(boolean pulled) {
        }
    }
}

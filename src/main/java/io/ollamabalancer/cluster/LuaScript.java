package io.ollamabalancer.cluster;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * One Lua script, run by {@code EVALSHA} and, when Redis does not know it (first use, or a restarted Redis with an
 * empty script cache), by {@code EVAL}, which also caches it. Every script returns a Lua table (a Redis array).
 * Immutable and thread-safe; the returned stage completes on a Lettuce I/O thread.
 */
final class LuaScript {
    /**
     * Shared by scripts that register a replica: reads Redis's clock into {@code now} (ms), and makes sure the
     * epoch key exists. When it does not and the caller knew an epoch (ARGV[epochArg]), Redis lost its data: the
     * settle key is set for ARGV[epochArg+1] ms, during which grants stay within fallback shares.
     */
    static final String PRELUDE = """
            local function clock()
              local t = redis.call('TIME')
              return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            end
            local function ensure_epoch(epoch_key, settle_key, me, now, known, settle_ms)
              local epoch = redis.call('GET', epoch_key)
              if not epoch then
                epoch = me .. '@' .. now
                redis.call('SET', epoch_key, epoch)
                if known ~= '' then
                  redis.call('SET', settle_key, '1', 'PX', settle_ms)
                end
              end
              return epoch, redis.call('EXISTS', settle_key) == 1
            end
            """;

    private final String name;
    private final String source;
    private final String sha;

    LuaScript(String name, String source) {
        this.name = name;
        this.source = source;
        this.sha = sha1(source);
    }

    String name() {
        return name;
    }

    /** Runs the script; the stage fails with the Lettuce exception when Redis failed or is unreachable. */
    CompletionStage<List<Object>> run(RedisClusterAsyncCommands<String, String> redis, String[] keys,
                                      String... args) {
        CompletableFuture<List<Object>> out = new CompletableFuture<>();
        redis.<List<Object>>evalsha(sha, ScriptOutputType.MULTI, keys, args).whenComplete((r, e) -> {
            if (e == null) {
                out.complete(r);
            } else if (unwrap(e) instanceof RedisNoScriptException) {
                redis.<List<Object>>eval(source, ScriptOutputType.MULTI, keys, args).whenComplete((r2, e2) -> {
                    if (e2 == null) {
                        out.complete(r2);
                    } else {
                        out.completeExceptionally(unwrap(e2));
                    }
                });
            } else {
                out.completeExceptionally(unwrap(e));
            }
        });
        return out;
    }

    static Throwable unwrap(Throwable e) {
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    /**
     * The failure as one log line: the outer exception and, when it wraps one, the root cause — Lettuce reports a
     * rejected password or a TLS failure as "Unable to connect", with the reason only in the cause.
     */
    static String describe(Throwable e) {
        Throwable outer = unwrap(e);
        Throwable root = outer;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == outer ? outer.toString() : outer + " (cause: " + root + ")";
    }

    static long asLong(Object o) {
        if (o instanceof Number n) {
            return n.longValue();
        }
        if (o instanceof String s) {
            return Long.parseLong(s);
        }
        throw new IllegalStateException("unexpected script value " + o);
    }

    static String asString(Object o) {
        return o == null ? null : o.toString();
    }

    private static String sha1(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "LuaScript[" + name + "]";
    }
}

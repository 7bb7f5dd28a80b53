package io.ollamabalancer.cluster;

import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Mirrors this replica's waiting requests into Redis, so the slot ledger can rank them against other replicas'.
 *
 * <p>The local queue stays the truth and the fast path; the mirror trails it. {@link #added}/{@link #removed}
 * (any thread, lock-free, no I/O) record the change and wake a flush after {@link ClusterConfig#mirrorFlushDelay()}.
 * A request that leaves its queue before the flush never reaches Redis at all — most requests, when slots are
 * free. The flush sends the batched changes as one script call (at most {@value #MAX_BATCH} changes each, at most
 * {@value #MAX_IN_FLIGHT} calls outstanding); whatever cannot be sent (Redis down, too many changes queued, a
 * failed call) is dropped and the mirror is instead rebuilt whole from the local truth ({@link #flush} sees
 * {@code resyncNeeded}), which is also how it rejoins a restarted, empty Redis.
 *
 * <p>Each entry moves {@code NEW → PUBLISHED → GONE} or {@code NEW → GONE} by CAS, so an add and a remove racing
 * with a flush can never leave an entry in Redis that the local queue no longer has: only the remover of a
 * PUBLISHED entry sends a removal, and it is queued behind the addition on the same connection.
 *
 * <p>Threading: {@link #added}, {@link #removed} from any thread; everything else on the cluster thread.
 */
final class QueueMirror {
    static final int MAX_BATCH = 256;
    static final int MAX_IN_FLIGHT = 4;
    static final int MAX_QUEUED = 100_000;
    private static final int NEW = 0;
    private static final int PUBLISHED = 1;
    private static final int GONE = 2;

    static final LuaScript APPLY = new LuaScript("mirror-apply", """
            local prefix, me, kt = ARGV[1], ARGV[2], ARGV[3]
            local touched = {}
            for i = 4, #ARGV, 4 do
              local k = prefix .. 'q:' .. me .. ':' .. ARGV[i + 1]
              if ARGV[i] == '+' then
                redis.call('ZADD', k, ARGV[i + 3], ARGV[i + 2])
              else
                redis.call('ZREM', k, ARGV[i + 2])
              end
              touched[ARGV[i + 1]] = k
            end
            for m, k in pairs(touched) do
              if redis.call('EXISTS', k) == 1 then
                redis.call('SADD', KEYS[1], m)
                redis.call('PEXPIRE', k, kt)
              else
                redis.call('SREM', KEYS[1], m)
              end
            end
            redis.call('PEXPIRE', KEYS[1], kt)
            return {1}
            """);

    static final LuaScript REPLACE = new LuaScript("mirror-replace", """
            local prefix, me, kt = ARGV[1], ARGV[2], ARGV[3]
            for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
              redis.call('DEL', prefix .. 'q:' .. me .. ':' .. m)
            end
            redis.call('DEL', KEYS[1])
            for i = 4, #ARGV, 3 do
              local k = prefix .. 'q:' .. me .. ':' .. ARGV[i]
              redis.call('ZADD', k, ARGV[i + 2], ARGV[i + 1])
              redis.call('SADD', KEYS[1], ARGV[i])
              redis.call('PEXPIRE', k, kt)
            end
            redis.call('PEXPIRE', KEYS[1], kt)
            return {1}
            """);

    static final LuaScript VIEW = new LuaScript("mirror-view", LuaScript.PRELUDE + """
            local now = clock()
            local out = {}
            for _, r in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')) do
              local e = redis.call('ZRANGE', ARGV[1] .. 'q:' .. r .. ':' .. ARGV[2], 0, tonumber(ARGV[3]) - 1,
                                   'WITHSCORES')
              for i = 1, #e, 2 do
                out[#out + 1] = r
                out[#out + 1] = e[i]
                out[#out + 1] = e[i + 1]
              end
            end
            return out
            """);

    private static final class Entry {
        final String model;
        final long requestId;
        final int promptTokens;
        final int outputTokens;
        final long score;
        final AtomicInteger state = new AtomicInteger(NEW);

        Entry(String model, long requestId, int promptTokens, int outputTokens, long score) {
            this.model = model;
            this.requestId = requestId;
            this.promptTokens = promptTokens;
            this.outputTokens = outputTokens;
            this.score = score;
        }

        /** Built only for entries that reach Redis: most requests leave their queue before any flush. */
        String member() {
            return MirroredRequest.member(requestId, promptTokens, outputTokens);
        }
    }

    private record Op(boolean add, Entry entry) {
    }

    private record Scored(long score, MirroredRequest request) {
    }

    private final Keys keys;
    private final String me;
    private final String keyTtlMillis;
    private final ClusterThread thread;
    private final long flushDelayNanos;
    private final RedisAccess access;
    private final Runnable onPublished;
    private final Map<Long, Entry> live = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Op> ops = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicBoolean flushScheduled = new AtomicBoolean();
    private volatile boolean resyncNeeded;
    private int inFlight;

    /**
     * @param onPublished run on the cluster thread after a flush sent requests that are still waiting: they waited
     *                    a whole flush delay, so the slot broker should look at this replica's demand now
     */
    QueueMirror(Keys keys, String replicaId, long keyTtlMillis, ClusterThread thread, long flushDelayNanos,
                RedisAccess access, Runnable onPublished) {
        this.keys = keys;
        this.me = replicaId;
        this.keyTtlMillis = Long.toString(keyTtlMillis);
        this.thread = thread;
        this.flushDelayNanos = flushDelayNanos;
        this.access = access;
        this.onPublished = onPublished;
    }

    /** A request started waiting. Any thread; no I/O. */
    void added(String model, long requestId, long score, int promptTokens, int outputTokens) {
        Entry e = new Entry(model, requestId, promptTokens, outputTokens, score);
        Entry old = live.put(requestId, e);
        if (old != null) {
            retire(old);
        }
        enqueue(new Op(true, e));
    }

    /** A request stopped waiting. Any thread; no I/O. */
    void removed(long requestId) {
        Entry e = live.remove(requestId);
        if (e != null) {
            retire(e);
        }
    }

    /** Entries waiting locally (mirrored or not yet). */
    int size() {
        return live.size();
    }

    /** The next flush rebuilds the whole mirror (after a rejoin or a lost lease). */
    void markResync() {
        resyncNeeded = true;
        scheduleFlush(0);
    }

    private void retire(Entry e) {
        if (e.state.compareAndSet(NEW, GONE)) {
            return;
        }
        e.state.set(GONE);
        enqueue(new Op(false, e));
    }

    private void enqueue(Op op) {
        if (queued.incrementAndGet() > MAX_QUEUED) {
            queued.decrementAndGet();
            resyncNeeded = true;
        } else {
            ops.add(op);
        }
        scheduleFlush(flushDelayNanos);
    }

    private void scheduleFlush(long delayNanos) {
        if (flushScheduled.compareAndSet(false, true)) {
            thread.schedule(this::flush, delayNanos);
        }
    }

    /** Sends what changed (or everything, when a resync is due). Cluster thread. */
    void flush() {
        flushScheduled.set(false);
        RedisClusterAsyncCommands<String, String> redis = access.joinedOrNull();
        if (redis == null) {
            if (dropQueued() > 0) {
                resyncNeeded = true;
            }
            return;
        }
        if (resyncNeeded) {
            if (inFlight == 0) {
                resync(redis);
            }
            return;
        }
        int added = 0;
        while (inFlight < MAX_IN_FLIGHT && !ops.isEmpty()) {
            List<String> args = new ArrayList<>(3 + 4 * Math.min(MAX_BATCH, queued.get()));
            args.add(keys.prefix());
            args.add(me);
            args.add(keyTtlMillis);
            int n = 0;
            Op op;
            while (n < MAX_BATCH && (op = ops.poll()) != null) {
                queued.decrementAndGet();
                Entry e = op.entry();
                if (op.add() && !e.state.compareAndSet(NEW, PUBLISHED)) {
                    continue;
                }
                args.add(op.add() ? "+" : "-");
                args.add(e.model);
                args.add(e.member());
                args.add(op.add() ? Long.toString(e.score) : "");
                n++;
                if (op.add()) {
                    added++;
                }
            }
            if (n == 0) {
                break;
            }
            send(APPLY.run(redis, new String[] {keys.waitingModels(me)}, args.toArray(String[]::new)));
        }
        if (added > 0) {
            onPublished.run();
        }
    }

    private void resync(RedisClusterAsyncCommands<String, String> redis) {
        resyncNeeded = false;
        dropQueued();
        List<String> args = new ArrayList<>(3 + 3 * live.size());
        args.add(keys.prefix());
        args.add(me);
        args.add(keyTtlMillis);
        for (Entry e : live.values()) {
            if (e.state.compareAndSet(NEW, PUBLISHED) || e.state.get() == PUBLISHED) {
                args.add(e.model);
                args.add(e.member());
                args.add(Long.toString(e.score));
            }
        }
        send(REPLACE.run(redis, new String[] {keys.waitingModels(me)}, args.toArray(String[]::new)));
        if (args.size() > 3) {
            onPublished.run();
        }
    }

    private void send(CompletionStage<List<Object>> call) {
        inFlight++;
        call.whenCompleteAsync((r, e) -> {
            inFlight--;
            if (e != null) {
                resyncNeeded = true;
                access.failed("queue mirror", e);
            }
            if (!ops.isEmpty() || resyncNeeded) {
                scheduleFlush(0);
            }
        }, thread);
    }

    private int dropQueued() {
        int n = 0;
        while (ops.poll() != null) {
            queued.decrementAndGet();
            n++;
        }
        return n;
    }

    /**
     * The mirrored queue of one model across all live replicas, best first (reads Redis; for status and tests).
     *
     * @param perReplica at most this many entries from each replica
     */
    CompletionStage<List<MirroredRequest>> globalQueue(RedisClusterAsyncCommands<String, String> redis, String model,
                                                       int perReplica) {
        return VIEW.run(redis, new String[] {keys.replicas()}, keys.prefix(), model, Integer.toString(perReplica))
                .thenApply(v -> {
                    List<Scored> all = new ArrayList<>(v.size() / 3);
                    for (int i = 0; i + 2 < v.size(); i += 3) {
                        long score = (long) Double.parseDouble(v.get(i + 2).toString());
                        all.add(new Scored(score, MirroredRequest.parse(v.get(i).toString(), v.get(i + 1).toString(),
                                score)));
                    }
                    all.sort(Comparator.comparingLong(Scored::score)
                            .thenComparing(x -> x.request().replica())
                            .thenComparingLong(x -> x.request().requestId()));
                    List<MirroredRequest> out = new ArrayList<>(all.size());
                    for (Scored x : all) {
                        out.add(x.request());
                    }
                    return out;
                });
    }
}

package io.ollamabalancer.auth;

import io.ollamabalancer.estimate.TimingSample;
import io.ollamabalancer.metrics.CompletedRequest;
import io.ollamabalancer.metrics.CounterFamily;
import io.ollamabalancer.metrics.PrometheusText;
import io.ollamabalancer.metrics.RequestObserver;
import io.ollamabalancer.metrics.TokenGaps;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The API keys in force in this replica and what each key has used: authenticates a request's bearer key, admits
 * it under the key's limits, and (as a {@link RequestObserver}) corrects the tokens charged with the real counts and
 * counts usage when it completes.
 *
 * <p>A presented key is hashed (SHA-256) and compared with every stored digest through
 * {@link MessageDigest#isEqual} (constant time), without stopping at a match; keys are never logged, and the file
 * holds digests only if the operator wants. {@link #replace} swaps the key set atomically (a reload): an unchanged
 * entry keeps its buckets; a removed key is refused on its next request while its requests in progress run on.
 *
 * <p>Threading: called from every client event loop and from the config watcher; the key set is one volatile
 * snapshot, limits synchronise per key (see {@link TokenBucket}), counters are lock-free. No I/O.
 */
public final class ApiKeys implements RequestObserver {
    /** Series per counter family, at most: the names come from the keys file, so this only guards a huge file. */
    private static final int MAX_SERIES = 4096;
    private static final String BEARER = "bearer ";

    private final LongSupplier clock;
    private volatile BucketLeases shared;
    private volatile Entry[] entries;
    private final Map<Long, Admission> open = new ConcurrentHashMap<>();
    private final CounterFamily requests = new CounterFamily(MAX_SERIES, "key");
    private final CounterFamily promptTokens = new CounterFamily(MAX_SERIES, "key");
    private final CounterFamily generatedTokens = new CounterFamily(MAX_SERIES, "key");
    private final CounterFamily rejected = new CounterFamily(MAX_SERIES, "key", "reason");
    private final CounterFamily unauthorized = new CounterFamily(1);
    private final CounterFamily queueWaitNanos = new CounterFamily(MAX_SERIES, "key");
    private final UsageLedger usage;

    private record Entry(byte[] digest, KeyState state) {
    }

    /**
     * @param keys  the keys file's entries
     * @param clock nanoseconds, for the buckets ({@code System::nanoTime} in production)
     */
    public ApiKeys(List<ApiKey> keys, LongSupplier clock) {
        this(keys, clock, System::currentTimeMillis);
    }

    /**
     * @param wallMillis the wall clock in milliseconds, for the usage history ({@link #usage()})
     */
    public ApiKeys(List<ApiKey> keys, LongSupplier clock, LongSupplier wallMillis) {
        this.clock = clock;
        this.entries = build(keys, new Entry[0]);
        this.usage = new UsageLedger(wallMillis);
    }

    /** What each key used, minute by minute over the last day and since start. */
    public UsageLedger usage() {
        return usage;
    }

    /** The names of the keys in force, in file order. */
    public List<String> names() {
        return keys().stream().map(ApiKey::name).toList();
    }

    /**
     * Shares the keys' requests and tokens buckets with the other replicas through {@code leases} (cluster mode):
     * from now on every key's buckets are leases of shared ones ({@link LeasedBucket}), and while the store is
     * unreachable each replica holds its share. Call once, before serving; the buckets start afresh.
     */
    public synchronized void shareBuckets(BucketLeases leases) {
        shared = leases;
        Entry[] before = entries;
        entries = build(keys(), new Entry[0]);
        for (Entry e : before) {
            e.state().close();
        }
    }

    /** Puts a new key set in force (a reload of the keys file); unchanged entries keep their state. */
    public synchronized void replace(List<ApiKey> keys) {
        Entry[] before = entries;
        entries = build(keys, before);
        List<KeyState> kept = new ArrayList<>();
        for (Entry e : entries) {
            kept.add(e.state());
        }
        for (Entry e : before) {
            if (!kept.contains(e.state())) {
                // A changed or removed key: its leases go back to the shared buckets (a no-op for local ones).
                e.state().close();
            }
        }
    }

    /** The keys in force, in file order. */
    public List<ApiKey> keys() {
        Entry[] now = entries;
        ApiKey[] out = new ApiKey[now.length];
        for (int i = 0; i < now.length; i++) {
            out[i] = now[i].state().key();
        }
        return List.of(out);
    }

    private Entry[] build(List<ApiKey> keys, Entry[] before) {
        Map<ApiKey, KeyState> kept = new HashMap<>();
        for (Entry e : before) {
            kept.put(e.state().key(), e.state());
        }
        Entry[] out = new Entry[keys.size()];
        for (int i = 0; i < out.length; i++) {
            ApiKey k = keys.get(i);
            KeyState s = kept.get(k);
            out[i] = new Entry(HexFormat.of().parseHex(k.digestHex()),
                    s != null ? s : new KeyState(k, clock, shared));
        }
        return out;
    }

    /**
     * The key an {@code Authorization} header value presents ({@code Bearer <key>}), or {@code null} when it is
     * missing, malformed or unknown (counted as unauthorized).
     */
    public KeyState authenticate(String authorization) {
        KeyState found = null;
        if (authorization != null && authorization.length() > BEARER.length()
                && authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            byte[] presented = ApiKeysFile.sha256(authorization.substring(BEARER.length()).trim());
            for (Entry e : entries) {
                // Every digest is compared, in constant time each, so the time taken says nothing of which matched.
                if (MessageDigest.isEqual(e.digest(), presented)) {
                    found = e.state();
                }
            }
        }
        if (found == null) {
            unauthorized.add(1);
        }
        return found;
    }

    /**
     * Admits request {@code requestId} under {@code key}: the model must be allowed, a concurrency place free, and the
     * requests and tokens buckets hold a request and {@code promptTokens}. Nothing is taken unless all pass. Refusals
     * are counted; an admission's {@link Admission#release()} must be called when the exchange ends.
     *
     * @param modelKey     the normalised model, {@code null} for a route without one
     * @param promptTokens the prompt estimate charged to the tokens bucket now (0 for routes without a prompt)
     */
    public Admission admit(KeyState key, String modelKey, long promptTokens, long requestId) {
        ApiKey k = key.key();
        if (!k.allows(modelKey)) {
            return refuse(key, Refusal.MODEL_NOT_ALLOWED, 0);
        }
        if (!key.enter()) {
            // A place frees when a request ends: a second is a fair guess at when to come back.
            return refuse(key, Refusal.OVER_CONCURRENCY, 1);
        }
        if (key.requests() != null) {
            long wait = key.requests().take(1);
            if (wait > 0) {
                key.leave();
                return refuse(key, Refusal.OVER_RPM, seconds(wait));
            }
        }
        long charged = Math.max(0, promptTokens);
        if (key.tokens() != null) {
            long wait = key.tokens().take(charged);
            if (wait > 0) {
                key.leave();
                if (key.requests() != null) {
                    key.requests().adjust(1); // the request was not sent: its place in the minute comes back
                }
                return refuse(key, Refusal.OVER_TPM, seconds(wait));
            }
        }
        requests.add(1, k.name());
        usage.admitted(k.name());
        Admission a = Admission.admitted(key, charged, () -> open.remove(requestId));
        open.put(requestId, a);
        return a;
    }

    private Admission refuse(KeyState key, Refusal why, long retryAfter) {
        rejected.add(1, key.name(), why.label());
        usage.refused(key.name(), why);
        return Admission.refused(key, why, retryAfter);
    }

    private static long seconds(long nanos) {
        return Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L);
    }

    /** Corrects the tokens charged at admission with the real counts, and counts the key's tokens. */
    @Override
    public void requestCompleted(CompletedRequest request) {
        Admission a = open.remove(request.id());
        if (a == null) {
            return;
        }
        KeyState key = a.key();
        TimingSample t = request.timing();
        long used = t == null ? 0 : t.promptEvalCount() + t.evalCount();
        if (t != null) {
            promptTokens.add(t.promptEvalCount(), key.name());
            generatedTokens.add(t.evalCount(), key.name());
        }
        queueWaitNanos.add(Math.max(0, request.queueWaitNs()), key.name());
        usage.completed(key.name(), t == null ? 0 : t.promptEvalCount(), t == null ? 0 : t.evalCount(),
                request.queueWaitNs());
        if (key.tokens() != null && (used > 0 || request.status() >= 400)) {
            // Without counts, a refused or failed request used nothing; any other (a stream the client left) keeps its
            // estimate, so leaving early is no way around the limit.
            key.tokens().adjust(a.charged() - used);
        }
    }

    @Override
    public TokenGaps tokenGaps(String model, String backend) {
        return TokenGaps.NONE;
    }

    /** Adds the per-key usage counters to {@code /metrics}; call once, before rendering starts. */
    public void exportTo(PrometheusText prometheus) {
        prometheus.counter("key_requests_total", "Requests admitted under each API key.", requests)
                .counter("key_prompt_tokens_total", "Prompt tokens evaluated for each API key.", promptTokens)
                .counter("key_generated_tokens_total", "Tokens generated for each API key.", generatedTokens)
                .counter("key_rejected_total", "Requests refused under an API key, by reason (over_rpm, over_tpm, "
                        + "over_concurrency, model_not_allowed).", rejected)
                .counter("key_queue_wait_seconds_total", "Time the requests of each API key waited in the queue.",
                        queueWaitNanos, 1e-9)
                .counter("unauthorized_requests_total", "Requests refused with 401 for a missing or unknown API key.",
                        unauthorized);
    }

    /** Requests admitted, per key. */
    public CounterFamily requests() {
        return requests;
    }

    /** Prompt tokens evaluated, from Ollama's final chunk, per key. */
    public CounterFamily promptTokens() {
        return promptTokens;
    }

    /** Tokens generated, from Ollama's final chunk, per key. */
    public CounterFamily generatedTokens() {
        return generatedTokens;
    }

    /** Requests refused under a key, per key and reason. */
    public CounterFamily rejected() {
        return rejected;
    }

    /** Requests refused for a missing or unknown key (no label: there is no key to name). */
    public CounterFamily unauthorized() {
        return unauthorized;
    }
}

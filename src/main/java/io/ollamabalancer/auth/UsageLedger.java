package io.ollamabalancer.auth;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * What each API key used, minute by minute over the last {@value #MINUTES} minutes and in total since start: requests
 * admitted and refused (by reason), prompt and generated tokens, and the time its requests waited in the queue. It
 * answers "what did key X use since T" for {@code GET /balancer/usage?since=}.
 *
 * <p>Memory: one ring of {@value #MINUTES} minute buckets per key name that has been used (about 100 KiB each),
 * allocated on the key's first request; names come from the keys file, and at most {@value #MAX_KEYS} are kept.
 *
 * <p>Threading: written from every client event loop when a request is admitted, refused or completes (once per
 * request, never per chunk), read by the metrics renderer. Each key's ring is guarded by its own monitor, held for a
 * few array stores; keys do not contend with each other. No I/O.
 */
public final class UsageLedger {
    /** Minutes of history kept: a day. */
    public static final int MINUTES = 24 * 60;
    private static final int MAX_KEYS = 4096;
    private static final long MINUTE_MILLIS = 60_000L;

    /** The fields of one bucket, in order; refusals follow, one per {@link Refusal} with a key. */
    private static final int ADMITTED = 0;
    private static final int COMPLETED = 1;
    private static final int PROMPT = 2;
    private static final int GENERATED = 3;
    private static final int WAIT_NANOS = 4;
    private static final int REFUSED = 5;
    private static final Refusal[] KEYED = {Refusal.OVER_RPM, Refusal.OVER_TPM, Refusal.OVER_CONCURRENCY,
            Refusal.MODEL_NOT_ALLOWED};
    private static final int FIELDS = REFUSED + KEYED.length;

    private final LongSupplier wallMillis;
    private final long startedMillis;
    private final Map<String, Ring> rings = new ConcurrentHashMap<>();

    /** @param wallMillis the wall clock in milliseconds ({@code System::currentTimeMillis} in production) */
    public UsageLedger(LongSupplier wallMillis) {
        this.wallMillis = wallMillis;
        this.startedMillis = wallMillis.getAsLong();
    }

    /** When counting began (the process start, for a usage report without {@code since}). */
    public long startedMillis() {
        return startedMillis;
    }

    void admitted(String key) {
        add(key, ADMITTED, 1);
    }

    void refused(String key, Refusal why) {
        for (int i = 0; i < KEYED.length; i++) {
            if (KEYED[i] == why) {
                add(key, REFUSED + i, 1);
                return;
            }
        }
    }

    /** A request admitted under {@code key} ended: its real token counts and how long it waited in the queue. */
    void completed(String key, long promptTokens, long generatedTokens, long queueWaitNanos) {
        Ring r = ring(key);
        if (r != null) {
            r.add(minute(), COMPLETED, 1, PROMPT, promptTokens, GENERATED, generatedTokens, WAIT_NANOS,
                    Math.max(0, queueWaitNanos));
        }
    }

    private void add(String key, int field, long delta) {
        Ring r = ring(key);
        if (r != null) {
            r.add(minute(), field, delta, -1, 0, -1, 0, -1, 0);
        }
    }

    private Ring ring(String key) {
        Ring r = rings.get(key);
        if (r == null && rings.size() < MAX_KEYS) {
            r = rings.computeIfAbsent(key, k -> new Ring());
        }
        return r;
    }

    private long minute() {
        return Math.floorDiv(wallMillis.getAsLong(), MINUTE_MILLIS);
    }

    /**
     * Each key's use from {@code sinceMillis} (rounded down to its minute) until now, or since start when
     * {@code sinceMillis} is before it. History goes back {@value #MINUTES} minutes: an older {@code since} is
     * answered from as far back as is kept, and the report says from when ({@link Report#fromMillis()}).
     *
     * @param keys the key names to report, in order (those of the keys file), used or not
     */
    public Report since(long sinceMillis, List<String> keys) {
        long now = wallMillis.getAsLong();
        long nowMinute = Math.floorDiv(now, MINUTE_MILLIS);
        boolean whole = sinceMillis <= startedMillis;
        long first = whole ? Long.MIN_VALUE : Math.max(Math.floorDiv(sinceMillis, MINUTE_MILLIS), nowMinute - MINUTES + 1);
        List<KeyUsage> out = new ArrayList<>(keys.size());
        for (String name : keys) {
            Ring r = rings.get(name);
            long[] sum = r == null ? new long[FIELDS] : r.sum(first, nowMinute);
            Map<Refusal, Long> refused = new EnumMap<>(Refusal.class);
            for (int i = 0; i < KEYED.length; i++) {
                refused.put(KEYED[i], sum[REFUSED + i]);
            }
            out.add(new KeyUsage(name, sum[ADMITTED], refused, sum[COMPLETED], sum[PROMPT], sum[GENERATED],
                    sum[WAIT_NANOS]));
        }
        long from = whole ? startedMillis : Math.max(first * MINUTE_MILLIS, startedMillis);
        return new Report(from, now, out);
    }

    /**
     * One key's use over a report's span.
     *
     * @param requests        requests admitted
     * @param refused         requests refused, by reason (every keyed reason present, zero or not)
     * @param completed       admitted requests that ended (their tokens and queue wait are counted)
     * @param promptTokens    prompt tokens evaluated, from Ollama's final chunks
     * @param generatedTokens tokens generated, from Ollama's final chunks
     * @param queueWaitNanos  time the completed requests waited in the queue, summed
     */
    public record KeyUsage(String name, long requests, Map<Refusal, Long> refused, long completed, long promptTokens,
                           long generatedTokens, long queueWaitNanos) {
        public KeyUsage {
            refused = Map.copyOf(refused);
        }
    }

    /** Every key's use from {@code fromMillis} to {@code untilMillis} (epoch milliseconds). */
    public record Report(long fromMillis, long untilMillis, List<KeyUsage> keys) {
        public Report {
            keys = List.copyOf(keys);
        }
    }

    /** One key's minute buckets and its totals since start. Guarded by its own monitor. */
    private static final class Ring {
        private final long[] buckets = new long[MINUTES * FIELDS];
        private final long[] stamps = new long[MINUTES];
        private final long[] totals = new long[FIELDS];

        Ring() {
            java.util.Arrays.fill(stamps, Long.MIN_VALUE);
        }

        /** Adds up to four (field, delta) pairs to minute {@code m}'s bucket; a field of -1 is no pair. */
        synchronized void add(long m, int f1, long d1, int f2, long d2, int f3, long d3, int f4, long d4) {
            int slot = (int) Math.floorMod(m, (long) MINUTES);
            int base = slot * FIELDS;
            if (stamps[slot] != m) {
                // The bucket last held a minute a day ago (or none): it starts again for this one.
                java.util.Arrays.fill(buckets, base, base + FIELDS, 0L);
                stamps[slot] = m;
            }
            bump(base, f1, d1);
            bump(base, f2, d2);
            bump(base, f3, d3);
            bump(base, f4, d4);
        }

        private void bump(int base, int field, long delta) {
            if (field >= 0) {
                buckets[base + field] += delta;
                totals[field] += delta;
            }
        }

        /** The sum of the buckets of minutes {@code first..last}, or the totals when {@code first} is MIN_VALUE. */
        synchronized long[] sum(long first, long last) {
            if (first == Long.MIN_VALUE) {
                return totals.clone();
            }
            long[] out = new long[FIELDS];
            for (int slot = 0; slot < MINUTES; slot++) {
                long m = stamps[slot];
                if (m >= first && m <= last) {
                    int base = slot * FIELDS;
                    for (int f = 0; f < FIELDS; f++) {
                        out[f] += buckets[base + f];
                    }
                }
            }
            return out;
        }
    }
}

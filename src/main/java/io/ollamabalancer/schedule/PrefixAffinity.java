package io.ollamabalancer.schedule;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which backend last served a chat whose messages before the last one hash to a given value, so the next request
 * with that prefix can reuse the backend's prompt cache. Entries expire after a TTL; the map is bounded by
 * dropping expired entries, then everything, when it grows past its cap. Thread-safe (a concurrent map).
 */
final class PrefixAffinity {
    private static final int MAX_ENTRIES = 65_536;

    private final long ttlNanos;
    private final Map<Long, Served> served = new ConcurrentHashMap<>();

    private record Served(String backend, long atNanos) {
    }

    PrefixAffinity(long ttlNanos) {
        this.ttlNanos = ttlNanos;
    }

    void record(String modelKey, long prefixHash, String backend, long now) {
        if (prefixHash == 0) {
            return;
        }
        if (served.size() >= MAX_ENTRIES) {
            served.values().removeIf(s -> now - s.atNanos > ttlNanos);
            if (served.size() >= MAX_ENTRIES) {
                served.clear();
            }
        }
        served.put(key(modelKey, prefixHash), new Served(backend, now));
    }

    /** The backend that served this prefix within the TTL, or {@code null}. */
    String lookup(String modelKey, long prefixHash, long now) {
        if (prefixHash == 0) {
            return null;
        }
        Served s = served.get(key(modelKey, prefixHash));
        return s == null || now - s.atNanos > ttlNanos ? null : s.backend;
    }

    private static Long key(String modelKey, long prefixHash) {
        return prefixHash * 31 + modelKey.hashCode();
    }
}

package io.ollamabalancer.backend;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * Which backend holds which blob, as far as this balancer has seen: a blob uploaded through it ({@code 201}, or
 * {@code 200} when it was already there) or found by {@code HEAD} ({@code 200}) is remembered on that backend, and a
 * {@code HEAD} answered 404 there forgets it. Ollama needs the blobs an {@code /api/create} names on the server that
 * runs it, so this is what routes the create after the uploads.
 *
 * <p>Bounded: beyond {@code capacity} the least recently used entry is dropped, and an entry expires {@code ttl}
 * after it was last confirmed. Digests are Ollama's: {@code sha256:<hex>} and {@code sha256-<hex>} name the same
 * file; anything else is not remembered. Backends are kept by name, so a reloaded backends file keeps working.
 * Thread-safe (one lock: blob requests are rare); time comes from the injected clock.
 */
public final class BlobLocations {
    public static final int DEFAULT_CAPACITY = 4096;
    public static final Duration DEFAULT_TTL = Duration.ofHours(24);
    private static final Pattern DIGEST = Pattern.compile("^sha256[:-][0-9a-fA-F]{64}$");

    private record Entry(String backend, long confirmedNanos) {
    }

    private final long ttlNanos;
    private final LongSupplier nanoTime;
    private final Map<String, Entry> entries;

    public BlobLocations(int capacity, Duration ttl, LongSupplier nanoTime) {
        if (capacity < 1 || ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("capacity and ttl must be positive: " + capacity + ", " + ttl);
        }
        this.ttlNanos = ttl.toNanos();
        this.nanoTime = nanoTime;
        this.entries = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
                return size() > capacity;
            }
        };
    }

    /** {@value #DEFAULT_CAPACITY} entries, kept a day, on the system clock. */
    public static BlobLocations withDefaults() {
        return new BlobLocations(DEFAULT_CAPACITY, DEFAULT_TTL, System::nanoTime);
    }

    /** {@code backend} has the blob now (it stored it, or said it has it). */
    public synchronized void stored(String digest, String backend) {
        String key = key(digest);
        if (key != null) {
            entries.put(key, new Entry(backend, nanoTime.getAsLong()));
        }
    }

    /** {@code backend} said it does not have the blob: forget it if it was remembered there. */
    public synchronized void missing(String digest, String backend) {
        String key = key(digest);
        Entry e = key == null ? null : entries.get(key);
        if (e != null && e.backend().equals(backend)) {
            entries.remove(key);
        }
    }

    /** The name of the backend that holds the blob, or null when unknown (never seen, expired, or not a digest). */
    public synchronized String holder(String digest) {
        String key = key(digest);
        Entry e = key == null ? null : entries.get(key);
        if (e == null) {
            return null;
        }
        if (nanoTime.getAsLong() - e.confirmedNanos() > ttlNanos) {
            entries.remove(key);
            return null;
        }
        return e.backend();
    }

    /** Entries held now, expired ones included until they are next looked up or pushed out. */
    public synchronized int size() {
        return entries.size();
    }

    /** The file name Ollama keeps the blob under, which both spellings share; null for anything else. */
    private static String key(String digest) {
        return digest != null && DIGEST.matcher(digest).matches() ? "sha256-" + digest.substring(7) : null;
    }
}

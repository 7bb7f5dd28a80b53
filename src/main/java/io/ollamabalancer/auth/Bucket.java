package io.ollamabalancer.auth;

/**
 * What admission needs of a per-minute limit: take units if they are there, and correct a charge afterwards. A
 * replica on its own uses a {@link TokenBucket}; in cluster mode a {@link LeasedBucket} spends a lease of a bucket
 * shared through Redis. Implementations are thread-safe and never block or do I/O on the caller's thread.
 */
interface Bucket {
    /** Takes {@code n} units; returns 0 when taken, or else the nanoseconds until a retry could pass. */
    long take(long n);

    /** Adds {@code delta} units (a refund when positive, a charge when negative). */
    void adjust(long delta);

    /** Units available here now (negative in debt); for tests and metrics. */
    double level();

    /** Gives back whatever this bucket holds on loan (a reload replaced it); a no-op for a local bucket. */
    default void close() {
    }
}

package io.ollamabalancer.auth;

/**
 * Where a key's requests-per-minute and tokens-per-minute buckets live when several replicas share them (cluster
 * mode): one bucket per key and limit in a shared store, from which each replica leases units in chunks and spends
 * them locally ({@link LeasedBucket}). The cluster package implements it over Redis.
 *
 * <p>Threading: every method may be called from any thread, event loops included, and must not block: {@link
 * #lease} only hands the ask over; the answer comes later, on another thread, through the {@link Holder}.
 */
public interface BucketLeases {
    /** Whether the shared store is reachable now; while not, each replica enforces its share on its own. */
    boolean shared();

    /** Replicas last seen alive, this one included (at least 1): what a limit is divided by while not shared. */
    int replicas();

    /**
     * Asks the shared bucket for units and/or gives unused ones back, in one atomic step: the bucket refills by the
     * time elapsed, takes back {@code giveBack}, and grants {@code min(ask, whole units it holds)}. The holder then
     * hears {@link Holder#granted} or {@link Holder#failed} (once; never for a give-back alone, whose
     * {@code generation} is negative).
     */
    void lease(Ask ask, Holder holder);

    /**
     * One lease request.
     *
     * @param bucket     the shared bucket's name ({@code <key name>:rpm} or {@code :tpm}), the same on every replica
     * @param perMinute  the limit: the bucket's refill per minute and its capacity (a reload may change it)
     * @param ask        units wanted
     * @param giveBack   unused units returned
     * @param need       units the holder's next request lacks: the answer says how long until the bucket holds them
     * @param generation the holder's generation when it asked (an answer for an older one is ignored); negative for
     *                   a give-back that needs no answer
     */
    record Ask(String bucket, long perMinute, long ask, long giveBack, long need, long generation) {
    }

    /** The local side of a lease: what the shared store's answers go to. */
    interface Holder {
        /**
         * The store granted {@code units} of {@code ask.ask()}; {@code waitMillis} is how long until it holds what
         * was {@code need}ed beyond the grant (0 when the grant covers it).
         */
        void granted(Ask ask, long units, long waitMillis);

        /** The ask got no answer (the store is unreachable); nothing was granted as far as the holder knows. */
        void failed(Ask ask);

        /**
         * Called now and then by the store's side: when the holder has not drawn on its lease for a while, it gives
         * the unused lease up and returns the give-back to send (its lease is then empty), or {@code null} while it
         * is in use.
         */
        Ask idleReturn();
    }
}

package io.ollamabalancer.cluster;

import java.util.List;

/**
 * Splits a backend's slots among the replicas last seen alive so that the shares add up to exactly the limit:
 * each gets {@code limit / n}, and the {@code limit % n} left over go to consecutive ranks starting at a per-backend
 * offset, so different backends favour different replicas. Every replica computes the same split from the same
 * sorted list. Stateless.
 *
 * <p>This share is both what a replica uses on its own while Redis is unreachable, and the idle headroom it keeps
 * when nobody else is waiting (so the first requests after a quiet spell never wait for Redis). With fewer slots
 * than replicas some replicas get 0 of that backend while Redis is down: their requests for models only it serves
 * wait in the queue rather than overload it; the concurrency limit is never broken to serve them.
 */
final class FairShare {
    private FairShare() {
    }

    /**
     * @param limit       the backend's slot limit
     * @param liveSorted  live replica ids, sorted (this one included)
     * @param me          this replica's id
     * @param backend     the backend's name (picks who gets the remainder)
     * @param minReplicas divide by at least this many replicas (0 or 1: no minimum)
     */
    static int of(int limit, List<String> liveSorted, String me, String backend, int minReplicas) {
        if (limit <= 0) {
            return 0;
        }
        int n = Math.max(Math.max(1, minReplicas), liveSorted.size());
        int rank = Math.max(0, liveSorted.indexOf(me));
        int base = limit / n;
        int rest = limit % n;
        int pos = Math.floorMod(rank - Math.floorMod(backend.hashCode(), n), n);
        return base + (pos < rest ? 1 : 0);
    }
}

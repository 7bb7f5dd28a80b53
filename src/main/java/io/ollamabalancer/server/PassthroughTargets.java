package io.ollamabalancer.server;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BlobLocations;
import io.ollamabalancer.backend.Fleet;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Picks the backend for a request the balancer forwards as it is (blobs, create, pull, copy, delete, …), in this
 * order: the available backend holding the blobs the request names, when {@link BlobLocations} knows one (the one
 * holding most of them; on a tie, the holder of the first named); else the backend named by
 * {@code X-Ollama-Backend}; else the first available backend. Thread-safe (reads the fleet and the locations).
 */
final class PassthroughTargets {
    /** The backend, or why there is none: an error status, its message and a Retry-After in seconds (0: none). */
    record Choice(Backend backend, int status, String error, long retryAfterSeconds) {
    }

    private final Fleet fleet;
    private final BlobLocations blobs;

    PassthroughTargets(Fleet fleet, BlobLocations blobs) {
        this.fleet = fleet;
        this.blobs = blobs;
    }

    /**
     * @param digests the blobs the request names (a blob route's digest, a create's files and adapters), maybe none
     * @param named   the {@code X-Ollama-Backend} header, or null
     */
    Choice choose(List<String> digests, String named) {
        Backend holder = holderOf(digests);
        if (holder != null) {
            return new Choice(holder, 0, null, 0);
        }
        if (named != null) {
            Backend b = fleet.byName(named);
            return b != null ? new Choice(b, 0, null, 0)
                    : new Choice(null, 400, "unknown backend '" + named + "'", 0);
        }
        List<Backend> up = fleet.available();
        return up.isEmpty() ? new Choice(null, 503, "no healthy backend available", 1)
                : new Choice(up.get(0), 0, null, 0);
    }

    private Backend holderOf(List<String> digests) {
        Map<Backend, Integer> held = new LinkedHashMap<>();
        for (String d : digests) {
            String name = blobs.holder(d);
            Backend b = name == null ? null : fleet.byName(name);
            if (b != null && b.isAvailable()) {
                held.merge(b, 1, Integer::sum);
            }
        }
        Backend best = null;
        int most = 0;
        for (Map.Entry<Backend, Integer> e : held.entrySet()) {
            if (e.getValue() > most) {
                best = e.getKey();
                most = e.getValue();
            }
        }
        return best;
    }
}

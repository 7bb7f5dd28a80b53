package io.ollamabalancer.fleetops;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;

import java.util.ArrayList;
import java.util.List;

/**
 * Which backends a fleet operation reaches: those named in {@code X-Ollama-Backend: a,b} (as named, whatever their
 * health: the caller asked for them), else a default set (every available backend for a pull, the holders of a model
 * for delete, copy and create). Thread-safe (reads the fleet).
 */
final class FleetTargets {
    /** The backends, or why there are none: an error status, its message and a Retry-After in seconds (0: none). */
    record Choice(List<Backend> backends, int status, String error, long retryAfterSeconds) {
        static Choice of(List<Backend> backends) {
            return new Choice(backends, 0, null, 0);
        }
    }

    private final Fleet fleet;

    FleetTargets(Fleet fleet) {
        this.fleet = fleet;
    }

    /** Every available backend unless {@code named} names some. */
    Choice all(String named) {
        return named != null ? named(named) : available();
    }

    /**
     * The available backends whose model lists hold {@code modelKey} unless {@code named} names some; when none is
     * known to hold it, every available backend (a list may lag behind a change made on the backend directly, and
     * each backend answers for itself).
     */
    Choice holders(String named, String modelKey) {
        if (named != null) {
            return named(named);
        }
        List<Backend> holders = fleet.candidates(modelKey, null);
        return holders.isEmpty() ? available() : Choice.of(holders);
    }

    /** The first backend of a choice (an invalid request: one backend answers it as Ollama would). */
    static Choice first(Choice c) {
        return c.backends().size() > 1 ? Choice.of(c.backends().subList(0, 1)) : c;
    }

    /** The available backends holding {@code modelKey}, by the fleet's lists; maybe none. */
    List<Backend> knownHolders(String modelKey) {
        return fleet.candidates(modelKey, null);
    }

    /** The enabled backends a choice leaves out (unavailable when it was made), by name. */
    List<String> missedBy(Choice c) {
        List<String> out = new ArrayList<>();
        for (Backend b : fleet.all()) {
            if (b.config().enabled() && !c.backends().contains(b)) {
                out.add(b.name());
            }
        }
        return out;
    }

    private Choice available() {
        List<Backend> up = fleet.available();
        return up.isEmpty() ? new Choice(List.of(), 503, "no healthy backend available", 1) : Choice.of(up);
    }

    private Choice named(String header) {
        List<Backend> out = new ArrayList<>();
        for (String part : header.split(",")) {
            String name = part.trim();
            if (name.isEmpty()) {
                continue;
            }
            Backend b = fleet.byName(name);
            if (b == null) {
                return new Choice(List.of(), 400, "unknown backend '" + name + "'", 0);
            }
            if (!out.contains(b)) {
                out.add(b);
            }
        }
        return out.isEmpty() ? available() : Choice.of(out);
    }
}

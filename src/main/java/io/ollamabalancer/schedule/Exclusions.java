package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.FailureKind;
import io.ollamabalancer.backend.Fleet;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The backends one request has failed on, each with the {@link FailureKind} that made it move on. A kind that
 * {@linkplain FailureKind#excludesBackend() excludes the backend} (it refused, timed out, reset a fresh connection,
 * said it is busy) keeps the request away from it for good; the others (the balancer's own connection bound, a
 * keep-alive connection the backend closed while idle) say nothing against the backend, so the request only prefers
 * other backends: when the failed one is the only candidate, it goes back there rather than being refused for want
 * of a backend. A later hard reason on the same backend replaces a soft one, never the reverse.
 *
 * <p>Thread-safe: written on the exchange's event loop, read by whichever thread plans.
 */
public final class Exclusions {
    private final Map<Backend, FailureKind> reasons = new ConcurrentHashMap<>();

    /** The request failed on {@code backend} with {@code kind}. */
    public void add(Backend backend, FailureKind kind) {
        reasons.merge(backend, kind, (old, now) -> old.excludesBackend() ? old : now);
    }

    /** Whether the request has failed nowhere yet. */
    public boolean isEmpty() {
        return reasons.isEmpty();
    }

    /** Every backend the request failed on, whatever the reason (what to avoid while another can serve). */
    public Set<Backend> all() {
        return reasons.keySet();
    }

    /** The backends the request must never go back to. */
    public Set<Backend> hard() {
        Set<Backend> hard = new HashSet<>();
        reasons.forEach((b, kind) -> {
            if (kind.excludesBackend()) {
                hard.add(b);
            }
        });
        return hard;
    }

    /** Why the request left {@code backend}, or {@code null} if it never failed there. */
    public FailureKind reason(Backend backend) {
        return reasons.get(backend);
    }

    /**
     * The request's candidates for {@code modelKey}: those it has not failed on, or, when that leaves none, those
     * it has not failed on for a reason that excludes a backend.
     */
    public List<Backend> candidates(Fleet fleet, String modelKey) {
        if (reasons.isEmpty()) {
            return fleet.candidates(modelKey, null); // the common case: no lookup in an empty set per backend
        }
        List<Backend> preferred = fleet.candidates(modelKey, reasons.keySet());
        if (!preferred.isEmpty() || reasons.isEmpty()) {
            return preferred;
        }
        Set<Backend> hard = hard();
        return hard.size() == reasons.size() ? preferred : fleet.candidates(modelKey, hard);
    }
}

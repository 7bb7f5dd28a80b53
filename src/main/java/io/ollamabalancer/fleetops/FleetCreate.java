package io.ollamabalancer.fleetops;

import io.ollamabalancer.backend.ModelNames;

/**
 * {@code POST /api/create} from an installed model ({@code from} without {@code files} or {@code adapters}): the
 * same create on every backend holding the base model, so the new model exists wherever its base does, answered as
 * one merged progress stream ({@link ProgressFanout}). A create that names blobs goes where the blobs are instead
 * (the server's passthrough rule), and so does one whose base no backend is known to hold (Ollama would pull it
 * first: one backend does). Stateless and thread-safe.
 */
final class FleetCreate {
    private FleetCreate() {
    }

    /**
     * Where the create goes on the fleet, or null when it is not a fleet create (it names blobs, has no
     * {@code from}, or no backend is known to hold the base and none is named).
     */
    static FleetTargets.Choice targets(FleetTargets fleet, String named, OperationFields fields) {
        if (!fields.readable() || fields.from().isBlank() || fields.hasBlobs()) {
            return null;
        }
        if (named != null) {
            return fleet.all(named);
        }
        var holders = fleet.knownHolders(ModelNames.normalize(fields.from()));
        return holders.isEmpty() ? null : FleetTargets.Choice.of(holders);
    }
}

package io.ollamabalancer.fleetops;

import io.ollamabalancer.api.ErrorBodies;
import io.ollamabalancer.backend.ModelNames;

import java.util.List;

/**
 * {@code DELETE /api/delete} over the fleet: sent to every backend holding the model (by the fleet's model lists;
 * every available backend when none is known to), answered 200 when any deleted it, Ollama's 404
 * {@code model '<name>' not found} when every backend answered 404, else the first other failure with its status,
 * naming the backend. Stateless and thread-safe.
 */
final class FleetDelete implements ReplyFanout.Verdict {
    private final String model;

    /** @param model the model as the client named it (for Ollama's 404 text) */
    FleetDelete(String model) {
        this.model = model;
    }

    /** Where the delete goes; a body naming no model goes to one backend, which answers for it. */
    static FleetTargets.Choice targets(FleetTargets fleet, String named, OperationFields fields) {
        return fields.model().isBlank() ? FleetTargets.first(fleet.all(named))
                : fleet.holders(named, ModelNames.normalize(fields.model()));
    }

    @Override
    public ReplyFanout.Answer decide(List<ReplyFanout.Outcome> outcomes) {
        ReplyFanout.Outcome problem = null;
        for (ReplyFanout.Outcome o : outcomes) {
            if (o.ok()) {
                return ReplyFanout.Answer.ok();
            }
            if (problem == null && o.status() != 404) {
                problem = o;
            }
        }
        return problem == null ? ReplyFanout.Answer.error(404, ErrorBodies.modelNotFound(model))
                : ReplyFanout.Answer.error(problem.status(), problem.named());
    }
}

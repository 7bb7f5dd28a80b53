package io.ollamabalancer.fleetops;

import io.ollamabalancer.backend.ModelNames;

import java.util.List;

/**
 * {@code POST /api/copy} over the fleet: sent to every backend holding the source (by the fleet's model lists; every
 * available backend when none is known to), so the copy exists wherever the source does. Answered 200 when every
 * backend copied, else with the first failure's status and error, naming the backend. Stateless and thread-safe.
 */
final class FleetCopy implements ReplyFanout.Verdict {
    static final FleetCopy INSTANCE = new FleetCopy();

    private FleetCopy() {
    }

    /** Where the copy goes; a body naming no source goes to one backend, which answers for it. */
    static FleetTargets.Choice targets(FleetTargets fleet, String named, OperationFields fields) {
        return fields.source().isBlank() ? FleetTargets.first(fleet.all(named))
                : fleet.holders(named, ModelNames.normalize(fields.source()));
    }

    @Override
    public ReplyFanout.Answer decide(List<ReplyFanout.Outcome> outcomes) {
        for (ReplyFanout.Outcome o : outcomes) {
            if (!o.ok()) {
                return ReplyFanout.Answer.error(o.status(), o.named());
            }
        }
        return ReplyFanout.Answer.ok();
    }
}

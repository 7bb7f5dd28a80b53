package io.ollamabalancer.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Observations computed from the discrete-event figures, for the notes of the report. Stateless. */
final class BenchNotes {
    private static final String LATE = "least-connections-late";

    /** Why the memory-limited fleets have two oracle rows. */
    static final String TWO_ORACLES = "The `no-swap oracle` of a memory-limited fleet (every model loaded "
            + "everywhere) is the issue's reference, and may be out of reach for a fleet that must swap models. The "
            + "`placement oracle` knows every length too and picks the best fixed placement of the models that "
            + "fits each backend's memory in hindsight, but never swaps, so eft can beat it when swapping pays.";

    private BenchNotes() {
    }

    static List<String> computed(List<DesMatrix.FleetRuns> fleets) {
        List<String> out = new ArrayList<>();
        if (fleets.stream().anyMatch(f -> f.loads().stream()
                .anyMatch(l -> l.find(DesMatrix.PLACEMENT_ORACLE) != null))) {
            out.add(TWO_ORACLES);
        }
        for (DesMatrix.FleetRuns f : fleets) {
            DesMatrix.LoadRuns l = f.at(0.7);
            if (l == null) {
                continue;
            }
            Summary eft = l.find(TargetCheck.EFT);
            Summary lc = l.find(TargetCheck.LC);
            Summary late = l.find(LATE);
            Summary oracle = l.find(DesMatrix.ORACLE);
            if (eft == null || lc == null) {
                continue;
            }
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                    "%s at 70 %%: eft mean %.2f s, p99 %.2f s; least-connections (bound at arrival) %.2f s, %.2f s",
                    f.fleet().name(), eft.e2eMean(), eft.e2eP99(), lc.e2eMean(), lc.e2eP99()));
            if (late != null) {
                sb.append(String.format(Locale.ROOT, "; least-connections-late %.2f s, %.2f s", late.e2eMean(),
                        late.e2eP99()));
            }
            if (oracle != null) {
                sb.append(String.format(Locale.ROOT, "; oracle %.2f s, %.2f s", oracle.e2eMean(), oracle.e2eP99()));
            }
            sb.append(". Share of requests on the first backend (`").append(f.fleet().sims().get(0).name())
                    .append("`): eft ").append(share(eft, f)).append(", least-connections ").append(share(lc, f));
            if (oracle != null) {
                sb.append(", oracle ").append(share(oracle, f));
            }
            sb.append('.');
            out.add(sb.toString());
        }
        return out;
    }

    private static String share(Summary s, DesMatrix.FleetRuns f) {
        String first = f.fleet().sims().get(0).name();
        int total = 0;
        for (Map.Entry<String, Integer> e : s.perBackend().entrySet()) {
            total += e.getValue();
        }
        int on = s.perBackend().getOrDefault(first, 0);
        return total == 0 ? "–" : Math.round(100.0 * on / total) + " %";
    }
}

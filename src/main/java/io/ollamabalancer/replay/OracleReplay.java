package io.ollamabalancer.replay;

import io.ollamabalancer.backend.ModelNames;
import io.ollamabalancer.sim.SimulatorConfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The offline oracle: knows every request's true prompt and answer length, and puts each request, in arrival
 * order, on the slot where it would finish earliest (counting the wait for that slot and a model load if the
 * model is not loaded there yet), never moving it afterwards: FIFO per slot, no reordering. It is a strong
 * reference, not a lower bound: a scheduler that reorders the queue (shortest job first) can beat it on the mean.
 * On a multi-slot simulator a request decodes at the rate of the streams running when it starts (the slots still
 * busy then, plus itself), kept to its end: an approximation of the simulator's decode slowdown (which the
 * discrete-event replay follows exactly, each stream's rate changing as streams come and go) that lets the oracle
 * place requests one at a time; without it a two-slot CPU backend would count as twice its real capacity. Memory limits are ignored: a
 * model once loaded stays loaded (run it on {@link SimFleet#noSwap()} for the no-swap reference of a
 * memory-limited fleet). Each outcome reports its wait for the model and whether it started the load. Stateless.
 */
public final class OracleReplay {
    private OracleReplay() {
    }

    public static List<Outcome> run(SimFleet fleet, Trace trace) {
        List<SimulatorConfig> sims = fleet.sims();
        List<double[]> free = new ArrayList<>();
        List<Map<String, Double>> readyAt = new ArrayList<>();
        for (SimulatorConfig c : sims) {
            free.add(new double[c.slots()]);
            Map<String, Double> ready = new HashMap<>();
            for (String m : SimFleet.loadedAtStart(c)) {
                ready.put(m, Double.NEGATIVE_INFINITY);
            }
            readyAt.add(ready);
        }
        List<Outcome> out = new ArrayList<>(trace.size());
        for (TraceRequest r : trace.requests()) {
            String key = ModelNames.normalize(r.model());
            int best = -1;
            int bestSlot = 0;
            double bestStart = 0;
            double bestReady = 0;
            double bestFinish = Double.MAX_VALUE;
            boolean bestLoads = false;
            int bestStreams = 1;
            for (int b = 0; b < sims.size(); b++) {
                SimulatorConfig sim = sims.get(b);
                if (!SimFleet.has(sim, r.model())) {
                    continue;
                }
                double[] slots = free.get(b);
                int s = argMin(slots);
                double start = Math.max(r.at(), slots[s]);
                Double ready = readyAt.get(b).get(key);
                double modelReady = ready == null ? start + sim.loadTimeMillis() / 1000.0 : Math.max(start, ready);
                int streams = 1 + busyAt(slots, s, modelReady);
                double finish = modelReady + SimFleet.serviceSeconds(r, sim, false, streams);
                if (finish < bestFinish) {
                    bestStreams = streams;
                    best = b;
                    bestSlot = s;
                    bestStart = start;
                    bestReady = modelReady;
                    bestFinish = finish;
                    bestLoads = ready == null;
                }
            }
            if (best < 0) {
                out.add(Outcome.failed(r.id(), r.priority(), 0, "404 no simulator has " + r.model()));
                continue;
            }
            SimulatorConfig sim = sims.get(best);
            free.get(best)[bestSlot] = bestFinish;
            readyAt.get(best).merge(key, bestReady, Math::min);
            double ttft = bestReady + SimFleet.WARM_SECONDS + SimFleet.prefillSeconds(r, sim)
                    + SimFleet.tokenSeconds(sim, bestStreams) - r.at();
            out.add(new Outcome(r.id(), r.priority(), sim.name(), bestFinish - r.at(), ttft, bestStart - r.at(), null,
                    r.promptTokens(), r.promptTokens(), r.outputTokens(), 0,
                    bestReady - bestStart + SimFleet.WARM_SECONDS, bestLoads ? 1 : 0));
        }
        return out;
    }

    /** Slots other than {@code mine} still busy at {@code t}. */
    private static int busyAt(double[] slots, int mine, double t) {
        int n = 0;
        for (int i = 0; i < slots.length; i++) {
            if (i != mine && slots[i] > t) {
                n++;
            }
        }
        return n;
    }

    private static int argMin(double[] a) {
        int m = 0;
        for (int i = 1; i < a.length; i++) {
            if (a[i] < a[m]) {
                m = i;
            }
        }
        return m;
    }
}

package io.ollamabalancer.replay;

import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Fleets and shapes shared by the replay tests. */
final class ReplayFixtures {
    static final String LLAMA = "llama3.2:1b";
    static final String QWEN = "qwen2.5:0.5b";

    private ReplayFixtures() {
    }

    /** A simulator with both models, warm unless {@code cold}, at {@code decode} tok/s and 20× that prefill. */
    static SimulatorConfig sim(String name, double decode, int slots, boolean cold) {
        return SimulatorConfig.builder().name(name).seed(7).slots(slots).decodeTokensPerSecond(decode)
                .prefillTokensPerSecond(decode * 20).loadTimeMillis(5000).meanOutputTokens(150)
                .maxOutputTokens(2048).jitter(0).keepAliveMillis(-1)
                .models(List.of(model(LLAMA, !cold), model(QWEN, !cold))).build();
    }

    static SimModel model(String name, boolean loaded) {
        return SimModel.completion(name, 1_000_000_000L, "llama", "1B", "Q4_K_M", loaded);
    }

    static SimFleet fleet311() {
        return new SimFleet("fast-311", List.of(sim("fast", 150, 1, false), sim("slow1", 50, 1, false),
                sim("slow2", 50, 1, false)));
    }

    static SimFleet fleet(SimulatorConfig... sims) {
        return new SimFleet("test", new ArrayList<>(List.of(sims)));
    }

    static TraceShape shape(int n) {
        return TraceShape.of(n, Map.of(LLAMA, 0.7, QWEN, 0.3));
    }

    /** A unit-rate trace of {@code n} requests for {@code fleet}, stretched to {@code load}. */
    static Trace trace(SimFleet fleet, long seed, TraceShape shape, double load) {
        Trace unit = TraceGenerator.generate(fleet.name(), seed, shape, fleet.answers());
        return unit.atRate("test", fleet.rateFor(load, unit));
    }
}

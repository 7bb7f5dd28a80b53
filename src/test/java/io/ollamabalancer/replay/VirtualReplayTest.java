package io.ollamabalancer.replay;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.ollamabalancer.replay.ReplayFixtures.LLAMA;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The discrete-event replay against hand-computed timings, and the robust orderings the benchmark relies on (the
 * figures themselves are the benchmark's, in bench/RESULTS.md).
 */
class VirtualReplayTest {
    private final SimAnswers answers = new SimAnswers(7, 150, 2048);

    @Test
    void aLoneRequestTakesTheSimulatorsTimeToTheNanosecondScale() {
        SimFleet one = ReplayFixtures.fleet(ReplayFixtures.sim("only", 50, 1, false));
        Trace t = TraceGenerator.generate("one", 1, ReplayFixtures.shape(1), answers);
        TraceRequest r = t.requests().get(0);
        Outcome o = VirtualReplay.run(one, t, "eft").get(0);
        double prefill = r.promptTokens() / 1000.0;
        assertThat(o.ok()).isTrue();
        assertThat(o.queue()).isZero();
        assertThat(o.e2e()).isCloseTo(SimFleet.WARM_SECONDS + prefill + r.outputTokens() / 50.0, within(1e-6));
        assertThat(o.ttft()).isCloseTo(SimFleet.WARM_SECONDS + prefill + 1 / 50.0, within(1e-6));
        assertThat(o.promptEvalCount()).isEqualTo(r.promptTokens());
        assertThat(o.evalCount()).isEqualTo(r.outputTokens());
    }

    @Test
    void aColdModelPaysItsLoadOnceAndTheSecondRequestWaitsForTheSlot() {
        SimFleet one = ReplayFixtures.fleet(ReplayFixtures.sim("cold", 50, 1, true));
        Trace unit = TraceGenerator.generate("two", 1, ReplayFixtures.shape(2), answers);
        Trace both = new Trace("two", 1, 1, List.of(unit.requests().get(0).at(0), unit.requests().get(1).at(0)));
        List<Outcome> o = VirtualReplay.run(one, both, "least-connections");
        TraceRequest a = both.requests().get(0);
        TraceRequest b = both.requests().get(1);
        double sa = 5 + SimFleet.serviceSeconds(a, one.sims().get(0), false, 1);
        boolean sameModel = a.model().equals(b.model());
        double sb = (sameModel ? 0 : 5) + SimFleet.serviceSeconds(b, one.sims().get(0), false, 1);
        assertThat(o.get(0).e2e()).isCloseTo(sa, within(1e-6));
        assertThat(o.get(1).queue()).isCloseTo(sa, within(1e-6));
        assertThat(o.get(1).e2e()).isCloseTo(sa + sb, within(1e-6));
    }

    @Test
    void aStreamSlowsWhenAnotherJoinsAndSpeedsUpWhenItLeavesAsOnTheSimulator() {
        // Two slots, decode slowdown 1: with two streams each decodes at half speed, alone at full speed.
        SimFleet two = ReplayFixtures.fleet(ReplayFixtures.sim("two", 50, 2, false));
        Trace unit = TraceGenerator.generate("two", 1, ReplayFixtures.shape(2), answers);
        TraceRequest a0 = unit.requests().get(0);
        TraceRequest b0 = unit.requests().get(1);
        TraceRequest a = new TraceRequest(0, 0, a0.route(), a0.model(), a0.priority(), a0.numPredict(),
                a0.promptTokens(), 100, a0.body());
        double decodeStartA = SimFleet.WARM_SECONDS + a.promptTokens() / 1000.0;
        // b arrives when a has decoded half its answer alone, and has four times as many tokens to decode
        double tb = decodeStartA + 50 / 50.0;
        TraceRequest b = new TraceRequest(1, tb, b0.route(), b0.model(), b0.priority(), b0.numPredict(),
                b0.promptTokens(), 400, b0.body());
        List<Outcome> o = VirtualReplay.run(two, new Trace("two", 1, 1, List.of(a, b)), "least-connections");
        // from tb both share the decoder (b holds its slot while it prefills): a's last 50 tokens at 25/s
        double endA = tb + 50 / 25.0;
        double decodeStartB = tb + SimFleet.WARM_SECONDS + b.promptTokens() / 1000.0;
        double sharedB = Math.max(0, endA - decodeStartB) * 25;
        double endB = Math.max(endA, decodeStartB) + (400 - sharedB) / 50.0;
        assertThat(o.get(0).e2e()).isCloseTo(endA, within(1e-6));
        assertThat(o.get(1).e2e()).isCloseTo(endB - tb, within(1e-6));
    }

    @Test
    void everyPolicyCompletesEveryRequestAndEftBeatsRoundRobinOnA311Fleet() {
        SimFleet f = ReplayFixtures.fleet311();
        Trace t = ReplayFixtures.trace(f, 42, ReplayFixtures.shape(500), 0.5);
        Summary eft = null;
        Summary rr = null;
        for (String p : List.of("eft", "least-connections", "least-connections-late", "round-robin", "legacy")) {
            Summary s = Summary.of(p, VirtualReplay.run(f, t, p));
            assertThat(s.completed()).as(p).isEqualTo(500);
            assertThat(s.errors()).isZero();
            if (p.equals("eft")) {
                eft = s;
            } else if (p.equals("round-robin")) {
                rr = s;
            }
        }
        assertThat(eft.e2eMean()).isLessThan(rr.e2eMean());
        assertThat(eft.perBackend().get("fast")).isGreaterThan(eft.perBackend().get("slow1") * 2);
        assertThat(rr.perBackend().values()).allSatisfy(n -> assertThat(n).isBetween(150, 184));
    }

    @Test
    void highPriorityWaitsLessThanLowUnderHeavyLoad() {
        SimFleet f = ReplayFixtures.fleet311();
        Trace t = ReplayFixtures.trace(f, 7, ReplayFixtures.shape(600).withPriorities(0.2, 0.3), 0.9);
        Summary s = Summary.of("eft", VirtualReplay.run(f, t, "eft"));
        assertThat(s.queueP99High()).isLessThan(s.queueP99Low());
    }

    @Test
    void theOracleTakesTheEarliestFinishAndAvoidsAColdBackendWhenAWarmOneFinishesFirst() {
        SimFleet f = ReplayFixtures.fleet(ReplayFixtures.sim("coldfast", 150, 1, true),
                ReplayFixtures.sim("warmslow", 50, 1, false));
        Trace unit = TraceGenerator.generate("o", 3, ReplayFixtures.shape(1), answers);
        TraceRequest r = unit.requests().get(0);
        Outcome o = OracleReplay.run(f, unit).get(0);
        double onCold = 5 + SimFleet.serviceSeconds(r, f.sims().get(0), false, 1);
        double onWarm = SimFleet.serviceSeconds(r, f.sims().get(1), false, 1);
        assertThat(o.backend()).isEqualTo(onWarm <= onCold ? "warmslow" : "coldfast");
        assertThat(o.e2e()).isCloseTo(Math.min(onWarm, onCold), within(1e-9));
    }

    @Test
    void theOracleQueuesBehindABusySlotWhenThatStillFinishesFirst() {
        SimFleet f = ReplayFixtures.fleet(ReplayFixtures.sim("fast", 500, 1, false),
                ReplayFixtures.sim("slow", 5, 1, false));
        Trace unit = TraceGenerator.generate("q", 5, ReplayFixtures.shape(2), answers);
        Trace both = new Trace("q", 1, 1, List.of(unit.requests().get(0).at(0), unit.requests().get(1).at(0)));
        List<Outcome> o = OracleReplay.run(f, both);
        assertThat(o.get(0).backend()).isEqualTo("fast");
        assertThat(o.get(1).backend()).isEqualTo("fast");
        assertThat(o.get(1).queue()).isCloseTo(o.get(0).e2e(), within(1e-9));
        assertThat(Summary.of(DesMatrix.ORACLE, o).completed()).isEqualTo(2);
    }

    @Test
    void aModelOnlySomeBackendsHaveRunsOnlyThere() {
        SimFleet f = ReplayFixtures.fleet(ReplayFixtures.sim("both", 50, 1, false),
                io.ollamabalancer.sim.SimulatorConfig.builder().name("llama-only").seed(7).meanOutputTokens(150)
                        .maxOutputTokens(2048).decodeTokensPerSecond(50).prefillTokensPerSecond(1000)
                        .models(List.of(ReplayFixtures.model(LLAMA, true))).build());
        Trace t = ReplayFixtures.trace(f, 8, ReplayFixtures.shape(200), 0.6);
        for (String p : List.of("eft", "least-connections", "round-robin")) {
            List<Outcome> os = VirtualReplay.run(f, t, p);
            for (Outcome o : os) {
                if (!t.requests().get(o.id()).model().equals(LLAMA)) {
                    assertThat(o.backend()).as(p).isEqualTo("both");
                }
            }
        }
        assertThat(OracleReplay.run(f, t)).allSatisfy(o -> {
            if (!t.requests().get(o.id()).model().equals(LLAMA)) {
                assertThat(o.backend()).isEqualTo("both");
            }
        });
    }
}

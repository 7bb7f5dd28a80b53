package io.ollamabalancer.replay;

import io.ollamabalancer.sim.SimulatorConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class SummaryTest {
    @Test
    void meanAndNearestRankQuantilesOverCompletedRequestsOnly() {
        List<Outcome> os = new ArrayList<>();
        for (int i = 1; i <= 100; i++) {
            os.add(new Outcome(i, i % 2 == 0 ? "high" : "low", i <= 60 ? "a" : "b", i, i / 10.0, i / 100.0, null,
                    1, 1, 1));
        }
        os.add(Outcome.failed(101, "low", 1000, "HTTP 503"));
        Summary s = Summary.of("x", os);
        assertThat(s.completed()).isEqualTo(100);
        assertThat(s.errors()).isEqualTo(1);
        assertThat(s.e2eMean()).isCloseTo(50.5, within(1e-9));
        assertThat(s.e2eP50()).isEqualTo(50);
        assertThat(s.e2eP99()).isEqualTo(99);
        assertThat(s.ttftP99()).isCloseTo(9.9, within(1e-9));
        assertThat(s.queueP99High()).isCloseTo(1.0, within(1e-9));
        assertThat(s.queueP99Low()).isCloseTo(0.99, within(1e-9));
        assertThat(Double.isNaN(s.queueP99Normal())).isTrue();
        assertThat(s.perBackend()).containsEntry("a", 60).containsEntry("b", 40);
    }

    @Test
    void loadsPer100CountTheWholeRunAndItsSecondHalfAndTheP999QueueWaitIsReported() {
        List<Outcome> os = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            // 6 loads in the first half (the start state), 1 in the second; queue waits 0.001 … 1.0 s
            int loads = (i < 500 && i % 100 == 0) || i == 250 || i == 700 ? 1 : 0;
            os.add(new Outcome(i, "normal", "a", 1, 1, (i + 1) / 1000.0, null, 1, 1, 1, 0, loads * 8.0, loads));
        }
        Summary s = Summary.of("eft", os);
        assertThat(s.loadsPer100()).isCloseTo(0.7, within(1e-9));
        assertThat(s.loadsPer100Steady()).isCloseTo(0.2, within(1e-9));
        assertThat(s.queueP999()).isCloseTo(0.999, within(1e-9));
        // a failed request counts its load but not as served
        os.set(999, Outcome.failed(999, "normal", 1, "never completed").withLoad(-1, 1));
        Summary f = Summary.of("eft", os);
        assertThat(f.loadsPer100Steady()).isCloseTo(200.0 / 499, within(1e-9));
    }

    @Test
    void loadsAreUnknownWhenNoOutcomeCountsThem() {
        List<Outcome> os = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            os.add(new Outcome(i, "normal", "a", 1, 1, 0, null, 1, 1, 1));
        }
        Summary s = Summary.of("real", os);
        assertThat(s.loadsPer100()).isNaN();
        assertThat(s.loadsPer100Steady()).isNaN();
        assertThat(SchedulingReport.loads(s.loadsPer100())).isEqualTo("–");
        assertThat(new Summary("old", 1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, java.util.Map.of(), 0).queueP999()).isNaN();
    }

    @Test
    void estimateAccuracySkipsTheWarmUpAndMeasuresRelativeError() {
        List<Outcome> os = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            os.add(new Outcome(i, "normal", "a", 1, 1, 0, null, 50, 100, 1));
        }
        for (int i = 10; i < 20; i++) {
            os.add(new Outcome(i, "normal", "a", 1, 1, 0, null, i % 2 == 0 ? 105 : 96, 100, 1));
        }
        EstimateAccuracy a = EstimateAccuracy.of(os, 10);
        assertThat(a.requests()).isEqualTo(10);
        assertThat(a.median()).isCloseTo(0.04, within(1e-9));
        assertThat(a.p90()).isCloseTo(0.05, within(1e-9));
        assertThat(EstimateAccuracy.of(os, 0).median()).isCloseTo(0.05, within(1e-9));
    }

    @Test
    void aFleetIsAcceleratedAndItsCapacityFollows() {
        SimFleet f = ReplayFixtures.fleet311();
        SimFleet x10 = f.speedup(10);
        assertThat(x10.sims().get(0).decodeTokensPerSecond()).isEqualTo(1500);
        assertThat(x10.sims().get(0).prefillTokensPerSecond()).isEqualTo(30000);
        assertThat(x10.sims().get(0).loadTimeMillis()).isEqualTo(500);
        Trace t = TraceGenerator.generate("c", 1, ReplayFixtures.shape(500), f.answers());
        // the 3:1:1 fleet: the fast one alone is worth three slow ones, prefill included
        double slow = 1 / meanService(t, f.sims().get(1));
        assertThat(f.capacity(t)).isCloseTo(5 * slow, within(0.02 * slow));
        // not quite ten times: the simulator's few milliseconds of warm-up per request do not speed up
        assertThat(x10.capacity(t)).isBetween(9.5 * f.capacity(t), 10 * f.capacity(t));
        assertThat(f.rateFor(0.7, t)).isCloseTo(0.7 * f.capacity(t), within(1e-9));
    }

    @Test
    void aFleetWhoseSimulatorsAnswerDifferentlyIsRefused() {
        SimulatorConfig a = ReplayFixtures.sim("a", 50, 1, false);
        SimulatorConfig b = a.toBuilder().name("b").seed(8).build();
        assertThatThrownBy(() -> SimAnswers.of(List.of(a, b))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\"b\"").hasMessageContaining("seed");
    }

    private static double meanService(Trace t, SimulatorConfig sim) {
        double total = 0;
        for (TraceRequest r : t.requests()) {
            total += SimFleet.serviceSeconds(r, sim, false, 1);
        }
        return total / t.size();
    }
}

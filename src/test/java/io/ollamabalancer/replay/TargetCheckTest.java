package io.ollamabalancer.replay;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class TargetCheckTest {
    private static Summary s(String label, double mean, double p99) {
        return new Summary(label, 100, 0, mean, mean, p99, 0, 0, 0, Double.NaN, Double.NaN, Double.NaN, Map.of(), 0);
    }

    private static SeedSweep.Runs runs(String label, double mean, double p99) {
        return new SeedSweep.Runs(List.of(s(label, mean * 0.9, p99 * 0.9), s(label, mean * 1.1, p99 * 1.1)),
                s(label, mean, p99));
    }

    private static SeedSweep sweep(Map<String, SeedSweep.Runs> at50, Map<String, SeedSweep.Runs> at70) {
        return new SeedSweep(ReplayFixtures.fleet311(), List.of(1L, 2L), Map.of(0.5, at50, 0.7, at70));
    }

    @Test
    void judgesEachTargetOnThePooledFiguresAndShowsThePerSeedRange() {
        SeedSweep fast = sweep(
                Map.of("eft", runs("eft", 2, 10), "round-robin", runs("round-robin", 9, 60),
                        "oracle", runs("oracle", 1.8, 9)),
                Map.of("eft", runs("eft", 3, 15), "least-connections", runs("least-connections", 4, 24),
                        "oracle", runs("oracle", 2.8, 12)));
        List<TargetCheck.Line> lines = TargetCheck.judge(fast, null, List.of(), List.of());
        assertThat(lines.get(0).target()).contains("mean ≤ 0.8×");
        assertThat(lines.get(0).met()).isTrue();
        assertThat(lines.get(0).figures()).contains("= 0.75×");
        assertThat(lines.get(1).met()).isFalse();
        assertThat(lines.get(1).figures()).contains("= 0.63×");
        assertThat(lines.get(2).met()).isTrue();
        assertThat(lines.get(2).figures()).contains("4.5× lower");
        assertThat(lines.get(3).met()).isTrue();
        assertThat(lines.get(3).figures()).contains("50 %: 1.11×").contains("70 %: 1.07×");
    }

    @Test
    void equalSpeedsFailsWhenAnySeedIsWorse() {
        SeedSweep equal = new SeedSweep(ReplayFixtures.fleet311(), List.of(1L, 2L), Map.of(0.7, Map.of(
                "eft", new SeedSweep.Runs(List.of(s("eft", 4, 20), s("eft", 5.2, 20)), s("eft", 4.6, 20)),
                "least-connections", new SeedSweep.Runs(List.of(s("lc", 5, 25), s("lc", 5, 25)), s("lc", 5, 25)))));
        TargetCheck.Line line = TargetCheck.judge(null, equal, List.of(), List.of()).get(1);
        assertThat(line.target()).startsWith("equal speeds");
        assertThat(line.met()).isFalse();
        assertThat(line.figures()).contains("mean 1.04×");
    }

    @Test
    void priorityAndEstimateTargets() {
        Summary eft = new Summary("eft", 100, 0, 1, 1, 1, 0, 0, 0, 2, 5, 20, Map.of(), 0);
        Summary lc = new Summary("least-connections", 100, 0, 1, 1, 1, 0, 0, 0, 9, 10, 20, Map.of(), 0);
        List<TargetCheck.Line> lines = TargetCheck.judge(null, null,
                List.of(new TargetCheck.PriorityRuns("simulation", "f", 0.9, "mix", List.of(eft, lc))),
                List.of(new TargetCheck.Labelled("x", new EstimateAccuracy(10, 0.12, 0.2, 0.1)),
                        new TargetCheck.Labelled("y", new EstimateAccuracy(0, Double.NaN, Double.NaN, Double.NaN))));
        assertThat(lines).hasSize(4);
        assertThat(lines.get(1).met()).isTrue();
        assertThat(lines.get(1).figures()).contains("= 0.10×");
        assertThat(lines.get(2).met()).isFalse();
        assertThat(lines.get(3).met()).isNull();
    }

    @Test
    void realSocketRoundsAreComparedRoundByRound() {
        EstimateAccuracy a = new EstimateAccuracy(1, 0, 0, 0);
        List<RealRun> runs = List.of(
                new RealRun("eft#1", s("eft", 0.3, 1.2), s("eft", 0.3, 1.2), 0, a),
                new RealRun("least-connections#1", s("lc", 0.4, 2.4), s("lc", 0.4, 2.4), 0, a),
                new RealRun("eft#2", s("eft", 0.35, 1.8), s("eft", 0.3, 1.2), 0, a),
                new RealRun("least-connections#2", s("lc", 0.4, 2.4), s("lc", 0.4, 2.4), 0, a),
                new RealRun("round-robin#1", s("rr", 3, 10), s("rr", 3, 10), 0, a));
        List<TargetCheck.Line> lines = TargetCheck.real("f", runs);
        assertThat(lines).hasSize(4);
        assertThat(lines.get(0).target()).contains("round 1").contains("mean");
        assertThat(lines.get(0).met()).isTrue();
        assertThat(lines.get(1).met()).isTrue();
        assertThat(lines.get(2).target()).contains("round 2");
        assertThat(lines.get(2).met()).isFalse();
        assertThat(lines.get(3).figures()).contains("= 0.75×");
        assertThat(lines.get(3).met()).isFalse();
    }
}

package io.ollamabalancer.replay;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class MemoryTargetsTest {
    private static Summary s(String label, double mean, double p50, double p99, int errors, double steady) {
        return new Summary(label, 100 - errors, errors, mean, p50, p99, 0, 0, 0, Double.NaN, Double.NaN, Double.NaN,
                Map.of(), 0, 4.5, steady + 1, steady);
    }

    private static DesMatrix.LoadRuns at(double load, Summary... rows) {
        return new DesMatrix.LoadRuns(load, 1, 100, List.of(rows));
    }

    /** eft meets every #9 target at 40 %; at 80 % its p99, its loads and one request miss. */
    private static DesMatrix.FleetRuns swapRuns() {
        return new DesMatrix.FleetRuns(SimFleetTest.swapFleet(), List.of(
                at(0.4, s("eft", 1.2, 1.0, 5, 0, 0.4), s("least-connections", 10, 2, 90, 0, 30),
                        s(DesMatrix.NO_SWAP_ORACLE, 1.0, 0.9, 4, 0, 0)),
                at(0.8, s("eft", 1.4, 1.3, 11, 1, 2.6), s("least-connections", 20, 1.2, 150, 0, 40),
                        s(DesMatrix.NO_SWAP_ORACLE, 1.0, 0.9, 4, 0, 0))), Map.of("a", 1.0));
    }

    @Test
    void eachMemoryTargetIsJudgedAtEveryLoadAndAMissShowsItsFigure() {
        List<TargetCheck.Line> lines = TargetCheck.memory(List.of(swapRuns(), new DesMatrix.FleetRuns(
                ReplayFixtures.fleet311(), List.of())), 42);
        assertThat(lines).hasSize(6);
        assertThat(lines).allMatch(l -> l.target().startsWith("swap (simulation, seed 42)"));
        TargetCheck.Line mean = lines.get(0);
        assertThat(mean.met()).isTrue();
        assertThat(mean.figures()).isEqualTo("40 %: 1.20×; 80 %: 1.40×");
        TargetCheck.Line p99 = lines.get(1);
        assertThat(p99.met()).isFalse();
        assertThat(p99.figures()).isEqualTo("40 %: 1.25×; 80 %: 2.75× (missed)");
        TargetCheck.Line vsLc = lines.get(2);
        assertThat(vsLc.met()).isTrue();
        assertThat(vsLc.figures()).contains("40 %: 0.12×").contains("80 %: 0.07×");
        TargetCheck.Line loads = lines.get(3);
        assertThat(loads.target()).contains("steady state");
        assertThat(loads.met()).isFalse();
        assertThat(loads.figures()).isEqualTo("40 %: 0.40; 80 %: 2.60 (missed)");
        TargetCheck.Line served = lines.get(4);
        assertThat(served.met()).isFalse();
        assertThat(served.figures()).contains("80 %: 99 of 100 served (missed), p99.9 queue wait 4.50 s");
    }

    @Test
    void unknownLoadsAreNotMeasuredRatherThanMet() {
        DesMatrix.FleetRuns runs = new DesMatrix.FleetRuns(SimFleetTest.swapFleet(), List.of(
                at(0.6, s("eft", 1.2, 1.0, 5, 0, Double.NaN), s("least-connections", 10, 2, 90, 0, Double.NaN),
                        s(DesMatrix.NO_SWAP_ORACLE, 1.0, 0.9, 4, 0, 0))));
        TargetCheck.Line loads = TargetCheck.memory(List.of(runs), 1).get(3);
        assertThat(loads.met()).isNull();
        assertThat(loads.figures()).isEqualTo("60 %: not measured");
    }

    @Test
    void theMedianTargetCoversEveryFleetAndNamesEachMiss() {
        DesMatrix.FleetRuns fast = new DesMatrix.FleetRuns(ReplayFixtures.fleet311(), List.of(
                at(0.5, s("eft", 1, 0.8, 5, 0, 0), s("least-connections", 2, 1.0, 9, 0, 0)),
                at(0.7, s("eft", 1, 0.9, 5, 0, 0), s("least-connections", 2, 1.0, 9, 0, 0))));
        TargetCheck.Line line = TargetCheck.p50EveryFleet(List.of(fast, swapRuns()), 42);
        assertThat(line.met()).isFalse();
        assertThat(line.figures()).contains("fast-311 worst 0.90× (70 %)").contains("swap worst 1.08× (80 %)")
                .endsWith("missed: swap at 80 %: 1.083×");
        assertThat(TargetCheck.p50EveryFleet(List.of(fast), 42).met()).isTrue();
        assertThat(TargetCheck.p50EveryFleet(List.of(), 42).met()).isNull();
    }

    @Test
    void theReportShowsTheMemoryColumnsTheMixAndAMissedTarget() {
        DesMatrix.FleetRuns swap = swapRuns();
        List<TargetCheck.Line> targets = TargetCheck.memory(List.of(swap), 42);
        String md = SchedulingReport.render(new SchedulingReport.Content(List.of("set-up"), targets, List.of(swap),
                List.of(), null, List.of()));
        assertThat(md).contains("### Fleet: swap (memory-limited)")
                .contains("at most 1 model loaded")
                .contains("queue wait p99.9").contains("loads ÷ 100, steady")
                .contains("| 80 % (1.00/s) | **eft** | 1.40 | 1.30 | 11.0 | 0.00 | 4.50 | 2.6 | 3.6 |")
                .contains("| no-swap oracle |")
                .contains("2.75× (missed) | **not met** |")
                .contains("Demand: a 100 %.");
    }

    @Test
    void realSwapRunsReportCountedLoadsOrAQuestionMark() {
        EstimateAccuracy a = new EstimateAccuracy(1, 0, 0, 0);
        RealRun eft = new RealRun("eft", s("eft", 0.3, 0.2, 1, 0, Double.NaN), s("eft", 0.3, 0.2, 1, 0, 0.5), 0, a);
        RealRun lc = new RealRun("least-connections", s("lc", 0.3, 0.2, 1, 0, Double.NaN),
                s("lc", 0.3, 0.2, 1, 0, 9), 0, a);
        SchedulingReport.SwapSection section = new SchedulingReport.SwapSection(SimFleetTest.swapFleet(), 0.6, 100,
                50, List.of(new SchedulingReport.SwapRun(eft, "3", 150, 2),
                new SchedulingReport.SwapRun(lc, "?", 150, -1)));
        List<TargetCheck.Line> lines = TargetCheck.swapReal(section);
        assertThat(lines.get(0).met()).isTrue();
        assertThat(lines.get(0).figures()).isEqualTo("3 loads ÷ 150 requests = 2.00");
        String md = SchedulingReport.render(new SchedulingReport.Content(List.of(), lines, List.of(), List.of(),
                null, section, List.of()));
        assertThat(md).contains("2.0 (3 loads ÷ 150 requests)").contains("? (? loads)")
                .contains("0.5 steady, 1.5 all");
        SchedulingReport.SwapSection unknown = new SchedulingReport.SwapSection(SimFleetTest.swapFleet(), 0.6, 100,
                50, List.of(new SchedulingReport.SwapRun(eft, "?", 150, 2)));
        assertThat(TargetCheck.swapReal(unknown).get(0).met()).isNull();
    }
}

package io.ollamabalancer.replay;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class PlacementReportTest {
    @Test
    void thePlacementOracleGetsARowItsPlacementRatiosAndAnInformationalLine() {
        Map<String, Integer> per = new TreeMap<>(Map.of("fast", 60, "slow1", 40));
        Summary eft = new Summary("eft", 100, 0, 3.0, 2.0, 12, 0, 0, 0, Double.NaN, Double.NaN, Double.NaN, per, 0,
                4.5, 1, 0.5);
        Summary noSwap = new Summary(DesMatrix.NO_SWAP_ORACLE, 100, 0, 1.0, 0.9, 4, 0, 0, 0, Double.NaN,
                Double.NaN, Double.NaN, per, 0, 1, 0, 0);
        Summary placed = new Summary(DesMatrix.PLACEMENT_ORACLE, 100, 0, 2.0, 1.5, 8, 0, 0, 0, Double.NaN,
                Double.NaN, Double.NaN, per, 0, 2, 0, 0);
        DesMatrix.FleetRuns swap = new DesMatrix.FleetRuns(SimFleetTest.swapFleet(), List.of(
                new DesMatrix.LoadRuns(0.4, 1, 100, List.of(eft, noSwap, placed),
                        "fast={llama3.2:1b} slow1={qwen2.5:0.5b} slow2={gemma3:1b} (best of 6 placements)")),
                Map.of("a", 1.0));
        List<TargetCheck.Line> targets = TargetCheck.memory(List.of(swap), 42);
        TargetCheck.Line info = targets.get(targets.size() - 1);
        assertThat(info.informational()).isTrue();
        assertThat(info.met()).isNull();
        assertThat(info.target()).isEqualTo("swap (simulation, seed 42): (informational) eft mean and p99 ÷ the "
                + "best static placement oracle");
        assertThat(info.figures()).isEqualTo("40 %: mean 3.00 s vs 2.00 s = 1.50×, p99 12.00 s vs 8.00 s = 1.50×");
        String md = SchedulingReport.render(new SchedulingReport.Content(List.of(), targets, List.of(swap),
                List.of(), null, BenchNotes.computed(List.of(swap))));
        assertThat(md).contains("| mean ÷ no-swap | p99 ÷ no-swap | mean ÷ placement | p99 ÷ placement |")
                .contains("| 40 % (1.00/s) | **eft** | 3.00 | 2.00 | 12.0 |")
                .contains("| 3.00× | 3.00× | 1.50× | 1.50× | fast 60, slow1 40 |")
                .contains("| placement oracle | 2.00 | 1.50 | 8.00 |")
                .contains("| 2.00× | 2.00× | 1.00× | 1.00× | placement: fast={llama3.2:1b} slow1={qwen2.5:0.5b} "
                        + "slow2={gemma3:1b} (best of 6 placements); fast 60, slow1 40 |")
                .contains("placement oracle | 40 %: mean 3.00 s vs 2.00 s = 1.50×, p99 12.00 s vs 8.00 s = 1.50× "
                        + "| reported |")
                .contains("- " + BenchNotes.TWO_ORACLES);
    }
}

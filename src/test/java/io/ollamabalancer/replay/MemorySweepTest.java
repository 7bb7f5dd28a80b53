package io.ollamabalancer.replay;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class MemorySweepTest {
    @Test
    void rangesCoverEverySeedAndRenderAsAnInformationalLine() {
        SimFleet swap = SimFleetTest.swapFleet();
        Map<String, Double> mix = Map.of(ReplayFixtures.LLAMA, 0.5, ReplayFixtures.QWEN, 0.3, "gemma3:1b", 0.2);
        MemorySweep.Ranges r = MemorySweep.run(swap, TraceShape.of(100, mix), null, List.of(1L, 2L), 150,
                List.of(0.4));
        assertThat(r.meanNoSwap()[0]).hasSize(2);
        for (int k = 0; k < 2; k++) {
            // eft cannot beat the oracle that has every model everywhere by much, nor the stronger-than-life
            // best placement by knowing every length: both ratios are positive and finite.
            assertThat(r.meanNoSwap()[0][k]).isGreaterThan(0.5).isFinite();
            assertThat(r.meanPlacement()[0][k]).isGreaterThan(0.3).isFinite();
            assertThat(r.loadsSteady()[0][k]).isGreaterThanOrEqualTo(0);
        }
        TargetCheck.Line line = MemorySweep.line(r);
        assertThat(line.informational()).isTrue();
        assertThat(line.met()).isNull();
        assertThat(line.target()).contains(swap.name()).contains("seed (1, 2; 150 requests each)");
        assertThat(line.figures()).startsWith("40 %: mean ÷ no-swap ").contains("×–").contains("steady loads/100 ");
    }
}

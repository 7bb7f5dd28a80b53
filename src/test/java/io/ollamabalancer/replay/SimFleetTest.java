package io.ollamabalancer.replay;

import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class SimFleetTest {
    /** Three one-model-at-a-time backends, one model warm on each (the swap fleet's shape). */
    static SimFleet swapFleet() {
        String[] models = {ReplayFixtures.LLAMA, ReplayFixtures.QWEN, "gemma3:1b"};
        String[] names = {"fast", "slow1", "slow2"};
        SimulatorConfig[] sims = new SimulatorConfig[3];
        for (int i = 0; i < 3; i++) {
            SimulatorConfig.Builder b = ReplayFixtures.sim(names[i], i == 0 ? 150 : 50, 2, true).toBuilder()
                    .loadTimeMillis(8000).maxLoadedModels(1).models(List.of());
            for (int m = 0; m < 3; m++) {
                b.model(ReplayFixtures.model(models[m], m == i));
            }
            sims[i] = b.build();
        }
        return new SimFleet("swap", List.of(sims));
    }

    @Test
    void noSwapLoadsEveryModelEverywhereAndLiftsTheLimits() {
        SimFleet swap = swapFleet();
        assertThat(swap.memoryLimited()).isTrue();
        SimFleet free = swap.noSwap();
        assertThat(free.memoryLimited()).isFalse();
        assertThat(free.sims()).hasSize(3);
        for (int i = 0; i < 3; i++) {
            SimulatorConfig a = swap.sims().get(i);
            SimulatorConfig b = free.sims().get(i);
            assertThat(b.maxLoadedModels()).isZero();
            assertThat(b.vramBytes()).isZero();
            assertThat(b.models()).extracting(SimModel::loadedAtStart).containsOnly(true);
            assertThat(b.models()).extracting(SimModel::name).containsExactlyElementsOf(
                    a.models().stream().map(SimModel::name).toList());
            assertThat(b.toBuilder().models(a.models()).maxLoadedModels(a.maxLoadedModels()).build()).isEqualTo(a);
        }
        Trace t = TraceGenerator.generate("c", 1, ReplayFixtures.shape(300), swap.answers());
        assertThat(free.capacity(t)).isCloseTo(swap.capacity(t), within(1e-9));
    }

    @Test
    void aVramBudgetAloneMakesAFleetMemoryLimited() {
        SimFleet f = ReplayFixtures.fleet311();
        assertThat(f.memoryLimited()).isFalse();
        SimulatorConfig limited = f.sims().get(2).toBuilder().vramBytes(2_000_000_000L).build();
        SimFleet g = new SimFleet("v", List.of(f.sims().get(0), f.sims().get(1), limited));
        assertThat(g.memoryLimited()).isTrue();
        assertThat(g.noSwap().sims().get(2).vramBytes()).isZero();
    }

    @Test
    void theNoSwapOracleNeverLoadsAndTheOracleCountsItsLoads() {
        SimFleet swap = swapFleet();
        Trace t = ReplayFixtures.trace(swap, 2, ReplayFixtures.shape(200)
                .withMix(ModelMix.parse("llama3.2:1b:5,qwen2.5:0.5b:3,gemma3:1b:2", swap)), 0.5);
        List<Outcome> free = OracleReplay.run(swap.noSwap(), t);
        assertThat(free).extracting(Outcome::loadsStarted).containsOnly(0);
        List<Outcome> cold = OracleReplay.run(swap, t);
        int loads = cold.stream().mapToInt(Outcome::loadsStarted).sum();
        // the oracle ignores memory limits: each backend loads each model it is given at most once
        assertThat(loads).isBetween(1, 6);
        assertThat(cold.stream().filter(o -> o.loadsStarted() == 1).allMatch(o -> o.loadSeconds() >= 8))
                .isTrue();
    }
}

package io.ollamabalancer.replay;

import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class PlacementOracleTest {
    private static SimModel sized(String name, long bytes) {
        return SimModel.completion(name, bytes, "llama", "1B", "Q4_K_M", false);
    }

    @Test
    void aCountLimitAllowsOneModelPerBackendAndEveryPlacementCoversTheTrace() {
        SimFleet swap = SimFleetTest.swapFleet();
        Trace t = ReplayFixtures.trace(swap, 1, TraceShape.of(200,
                Map.of(ReplayFixtures.LLAMA, 0.5, ReplayFixtures.QWEN, 0.3, "gemma3:1b", 0.2)), 0.4);
        List<PlacementOracle.Placement> all = PlacementOracle.placements(swap, t);
        // 3 × 3 × 3 one-model choices, of which the 3! permutations cover all three models
        assertThat(all).hasSize(6);
        for (PlacementOracle.Placement p : all) {
            assertThat(p.models()).allSatisfy(set -> assertThat(set).hasSize(1));
            Set<String> on = new HashSet<>();
            p.models().forEach(set -> set.forEach(m -> on.add(m.name())));
            assertThat(on).containsExactlyInAnyOrder(ReplayFixtures.LLAMA, ReplayFixtures.QWEN, "gemma3:1b");
        }
    }

    @Test
    void aByteBudgetKeepsOnlySetsThatFitAndASingleModelAlwaysFits() {
        SimulatorConfig sim = ReplayFixtures.sim("v", 100, 1, false).toBuilder().vramBytes(2_500_000_000L)
                .models(List.of(sized("a:1b", 1_000_000_000L), sized("b:1b", 1_200_000_000L), sized("c:1b", 3_000_000_000L),
                        sized("d:1b", 1_000_000_000L)))
                .build();
        List<List<SimModel>> options = PlacementOracle.options(sim, Set.of("a:1b", "b:1b", "c:1b"));
        assertThat(options).extracting(set -> set.stream().map(SimModel::name).toList())
                .containsExactlyInAnyOrder(List.of("a:1b"), List.of("b:1b"), List.of("c:1b"), List.of("a:1b", "b:1b"));
        SimulatorConfig counted = sim.toBuilder().vramBytes(0).maxLoadedModels(2).build();
        assertThat(PlacementOracle.options(counted, Set.of("a:1b", "b:1b", "c:1b"))).hasSize(6);
        SimulatorConfig both = sim.toBuilder().maxLoadedModels(1).build();
        assertThat(PlacementOracle.options(both, Set.of("a:1b", "b:1b", "c:1b"))).hasSize(3);
    }

    @Test
    void theBusierModelGoesOnTheFasterBackend() {
        SimulatorConfig fast = ReplayFixtures.sim("fast", 150, 1, true).toBuilder().maxLoadedModels(1).build();
        SimulatorConfig slow = ReplayFixtures.sim("slow", 30, 1, true).toBuilder().maxLoadedModels(1).build();
        SimFleet f = new SimFleet("two", List.of(fast, slow));
        Trace t = ReplayFixtures.trace(f, 3, TraceShape.of(400, Map.of(ReplayFixtures.LLAMA, 0.2,
                ReplayFixtures.QWEN, 0.8)), 0.3);
        PlacementOracle.Result r = PlacementOracle.run(f, t, DesMatrix.PLACEMENT_ORACLE);
        assertThat(r.exhaustive()).isTrue();
        assertThat(r.evaluated()).isEqualTo(2);
        assertThat(r.placement().describe(f)).isEqualTo("fast={qwen2.5:0.5b} slow={llama3.2:1b}");
        assertThat(r.summary().label()).isEqualTo(DesMatrix.PLACEMENT_ORACLE);
        assertThat(r.summary().errors()).isZero();
        assertThat(r.summary().loadsPer100()).isZero();
        // the other placement is worse
        PlacementOracle.Placement other = new PlacementOracle.Placement(List.of(
                List.of(fast.models().get(0)), List.of(slow.models().get(1))));
        Summary worse = Summary.of("x", OracleReplay.run(PlacementOracle.restrict(f, other), t));
        assertThat(worse.e2eMean()).isGreaterThan(r.summary().e2eMean());
    }

    @Test
    void tooManyPlacementsFallBackToALocalSearchThatStillCovers() {
        List<SimModel> models = List.of(sized("m1:1b", 3_000_000_000L), sized("m2:1b", 3_000_000_000L),
                sized("m3:1b", 3_000_000_000L), sized("m4:1b", 3_000_000_000L), sized("m5:1b", 3_000_000_000L),
                sized("m6:1b", 3_000_000_000L));
        SimulatorConfig.Builder b = ReplayFixtures.sim("s", 100, 1, false).toBuilder().models(models)
                .vramBytes(6_000_000_000L);
        SimFleet f = new SimFleet("many", List.of(b.name("a").decodeTokensPerSecond(150).build(),
                b.name("b").decodeTokensPerSecond(100).build(), b.name("c").decodeTokensPerSecond(50).build()));
        Trace t = ReplayFixtures.trace(f, 5, TraceShape.of(300, Map.of("m1:1b", 0.4, "m2:1b", 0.2, "m3:1b", 0.15,
                "m4:1b", 0.1, "m5:1b", 0.1, "m6:1b", 0.05)), 0.3);
        assertThat(PlacementOracle.placements(f, t)).isNull();
        PlacementOracle.Result r = PlacementOracle.run(f, t, DesMatrix.PLACEMENT_ORACLE);
        assertThat(r.exhaustive()).isFalse();
        assertThat(r.evaluated()).isLessThanOrEqualTo(PlacementOracle.SEARCH_EVALUATIONS + 20);
        assertThat(PlacementOracle.uncovered(r.placement(), Set.of("m1:1b", "m2:1b", "m3:1b", "m4:1b", "m5:1b", "m6:1b"))).isZero();
        assertThat(r.summary().errors()).isZero();
        assertThat(r.placement().models()).allSatisfy(set -> assertThat(set).hasSizeBetween(1, 2));
    }
}

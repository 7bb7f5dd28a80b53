package io.ollamabalancer.replay;

import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ModelMixTest {
    private static final SimFleet SIX = new SimFleet("six", List.of(
            sim("a", "m1", "m2", "m3"), sim("b", "m2", "m4", "all-minilm"), sim("c", "m5", "m6", "m1")));

    private static SimulatorConfig sim(String name, String... models) {
        SimulatorConfig.Builder b = SimulatorConfig.builder().name(name);
        for (String m : models) {
            b.model(m.equals("all-minilm") ? SimModel.embedding(m, 45_000_000L, "bert", "23M", "F16", 384, false)
                    : ReplayFixtures.model(m, false));
        }
        return b.build();
    }

    @Test
    void aListOfModelsWithWeightsKeepsOrderAndWeights() {
        SimFleet three = new SimFleet("three", List.of(sim("a", "llama3.2:1b", "qwen2.5:0.5b", "gemma3:1b")));
        Map<String, Double> mix = ModelMix.parse("llama3.2:1b:50, qwen2.5:0.5b:30,gemma3:1b=20", three);
        assertThat(mix).containsExactly(Map.entry("llama3.2:1b", 50.0), Map.entry("qwen2.5:0.5b", 30.0),
                Map.entry("gemma3:1b", 20.0));
        assertThat(ModelMix.normalised(mix).get("llama3.2:1b")).isCloseTo(0.5, within(1e-12));
    }

    @Test
    void zipfFollowsTheFleetsModelOrderWithoutEmbeddingModels() {
        assertThat(SIX.modelOrder()).containsExactly("m1", "m2", "m3", "m4", "m5", "m6");
        Map<String, Double> mix = ModelMix.normalised(ModelMix.parse("zipf", SIX));
        double h6 = 1 + 1 / 2.0 + 1 / 3.0 + 1 / 4.0 + 1 / 5.0 + 1 / 6.0;
        assertThat(mix.keySet()).containsExactly("m1", "m2", "m3", "m4", "m5", "m6");
        assertThat(mix.get("m1")).isCloseTo(1 / h6, within(1e-12));
        assertThat(mix.get("m6")).isCloseTo(1 / (6 * h6), within(1e-12));
        Map<String, Double> steep = ModelMix.parse("zipf:2", SIX);
        assertThat(steep.get("m2")).isCloseTo(0.25, within(1e-12));
    }

    @Test
    void badMixesAreRefusedWithTheOffendingPart() {
        assertThatThrownBy(() -> ModelMix.parse("m1:1,llama3.2:1b:2", SIX)).hasMessageContaining("no simulator");
        assertThatThrownBy(() -> ModelMix.parse("llama3.2:1b", SIX)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("llama3.2:1b");
        assertThatThrownBy(() -> ModelMix.parse("m1:0,m2:1", SIX)).hasMessageContaining("'m1:0'");
        assertThatThrownBy(() -> ModelMix.parse("m1:1,m1:2", SIX)).hasMessageContaining("twice");
        assertThatThrownBy(() -> ModelMix.parse(" , ", SIX)).hasMessageContaining("no model");
        assertThatThrownBy(() -> ModelMix.parse("zipf:x", SIX)).hasMessageContaining("zipf:x");
    }

    @Test
    void aTraceFollowsTheFleetsOwnMix() {
        SimFleet f = ReplayFixtures.fleet311();
        TraceShape shape = ReplayFixtures.shape(2000).withMix(ModelMix.parse("qwen2.5:0.5b:9,llama3.2:1b:1", f));
        Trace t = TraceGenerator.generate("x", 3, shape, f.answers());
        long qwen = t.requests().stream().filter(r -> r.model().equals(ReplayFixtures.QWEN)).count();
        assertThat(qwen / 2000.0).isCloseTo(0.9, within(0.03));
    }
}

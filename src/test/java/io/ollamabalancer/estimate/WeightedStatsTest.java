package io.ollamabalancer.estimate;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WeightedStatsTest {

    @Test
    void recordsMergeBySampleWeight() {
        WeightedStats a = new WeightedStats(10, Map.of("decodeTps", 30.0, "prefillTps", 1000.0));
        WeightedStats b = new WeightedStats(30, Map.of("decodeTps", 50.0));
        WeightedStats m = WeightedStats.merge(List.of(a, b));
        assertThat(m.weight()).isEqualTo(40);
        assertThat(m.values().get("decodeTps")).isEqualTo(45.0);
        assertThat(m.values().get("prefillTps")).as("only records that have it count").isEqualTo(1000.0);
    }

    @Test
    void mergedWeightIsClampedAndValuesMustBeFinite() {
        WeightedStats huge = new WeightedStats(WeightedStats.MAX_WEIGHT, Map.of("x", 1.0));
        assertThat(WeightedStats.merge(List.of(huge, huge)).weight()).isEqualTo(WeightedStats.MAX_WEIGHT);
        assertThatThrownBy(() -> new WeightedStats(1, Map.of("x", Double.NaN)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new WeightedStats(0, Map.of("x", 1.0))).isInstanceOf(IllegalArgumentException.class);
    }
}

package io.ollamabalancer.cluster;

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
    void encodingRoundTripsAnyFieldName() {
        WeightedStats s = new WeightedStats(3.5, Map.of("a=b;c%d", -1.25e-3, "plain", 7.0));
        assertThat(WeightedStats.decode(s.encode())).isEqualTo(s);
    }

    @Test
    void storedGarbageIsIgnoredNotTrusted() {
        assertThat(WeightedStats.decode(null)).isNull();
        assertThat(WeightedStats.decode("hello")).isNull();
        assertThat(WeightedStats.decode("w=0;x=1")).isNull();
        assertThat(WeightedStats.decode("w=-3;x=1")).isNull();
        assertThat(WeightedStats.decode("w=NaN;x=1")).isNull();
        assertThat(WeightedStats.decode("w=2;x=Infinity")).isNull();
        assertThat(WeightedStats.decode("w=2;x")).isNull();
        assertThat(WeightedStats.decode("w=1e300;x=1").weight()).isEqualTo(WeightedStats.MAX_WEIGHT);
        assertThatThrownBy(() -> new WeightedStats(1, Map.of("x", Double.NaN)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}

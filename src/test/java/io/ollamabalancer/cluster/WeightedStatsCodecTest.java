package io.ollamabalancer.cluster;

import io.ollamabalancer.estimate.WeightedStats;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class WeightedStatsCodecTest {

    @Test
    void encodingRoundTripsAnyFieldName() {
        WeightedStats s = new WeightedStats(3.5, Map.of("a=b;c%d", -1.25e-3, "plain", 7.0));
        assertThat(WeightedStatsCodec.decode(WeightedStatsCodec.encode(s))).isEqualTo(s);
    }

    @Test
    void storedGarbageIsIgnoredNotTrusted() {
        assertThat(WeightedStatsCodec.decode(null)).isNull();
        assertThat(WeightedStatsCodec.decode("hello")).isNull();
        assertThat(WeightedStatsCodec.decode("w=0;x=1")).isNull();
        assertThat(WeightedStatsCodec.decode("w=-3;x=1")).isNull();
        assertThat(WeightedStatsCodec.decode("w=NaN;x=1")).isNull();
        assertThat(WeightedStatsCodec.decode("w=2;x=Infinity")).isNull();
        assertThat(WeightedStatsCodec.decode("w=2;x")).isNull();
        assertThat(WeightedStatsCodec.decode("w=1e300;x=1").weight()).isEqualTo(WeightedStats.MAX_WEIGHT);
    }
}

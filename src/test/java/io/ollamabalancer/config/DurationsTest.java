package io.ollamabalancer.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DurationsTest {

    @ParameterizedTest
    @CsvSource({
        "250ms, 250",
        "30s, 30000",
        "5m, 300000",
        "1h, 3600000",
        "2d, 172800000",
        "1m30s, 90000",
        "1h0m5s, 3605000",
        "0, 0",
        "000, 0",
        "PT30S, 30000",
        "pt1m, 60000",
        "' 30S ', 30000"
    })
    void parsesHumanDurations(String text, long millis) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest
    @ValueSource(strings = {"30x", "s", "1.5s", "-5s", "5 m", "PTX", "m5"})
    void rejectsWhatIsNotADuration(String text) {
        assertThatThrownBy(() -> Durations.parse(text))
                .isInstanceOf(ConfigException.class)
                .hasMessage("invalid duration \"" + text + "\" (expected e.g. 250ms, 30s, 5m, 1h or 1m30s)");
    }

    @Test
    void aBareNumberNeedsAUnit() {
        assertThatThrownBy(() -> Durations.parse("30"))
                .hasMessage("duration \"30\" needs a unit (e.g. 30s or 30ms)");
        assertThatThrownBy(() -> Durations.parse(""))
                .hasMessage("empty duration (expected e.g. 250ms, 30s, 5m or 1h)");
    }

    @Test
    void formatIsCompactAndReadsBack() {
        assertThat(Durations.format(Duration.ofMinutes(10))).isEqualTo("10m");
        assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("90s");
        assertThat(Durations.format(Duration.ofMillis(1250))).isEqualTo("1250ms");
        assertThat(Durations.format(Duration.ZERO)).isEqualTo("0");
        for (Duration d : new Duration[] {Duration.ofDays(1), Duration.ofHours(3), Duration.ofMillis(7)}) {
            assertThat(Durations.parse(Durations.format(d))).isEqualTo(d);
        }
    }
}

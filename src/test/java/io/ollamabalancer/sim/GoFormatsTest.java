package io.ollamabalancer.sim;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;

class GoFormatsTest {

    @Test
    void createdAtIsUtcRfc3339NanoWithTrailingZerosTrimmed() {
        assertThat(GoFormats.utc(Instant.parse("2025-10-26T17:15:24.097767000Z")))
                .isEqualTo("2025-10-26T17:15:24.097767Z");
        assertThat(GoFormats.utc(Instant.parse("2025-06-01T12:00:01.012345678Z")))
                .isEqualTo("2025-06-01T12:00:01.012345678Z");
        assertThat(GoFormats.utc(Instant.parse("2025-06-01T12:00:01Z"))).isEqualTo("2025-06-01T12:00:01Z");
    }

    @Test
    void localTimesCarryTheirOffset() {
        Instant t = Instant.parse("2025-05-10T15:06:48.639712648Z");
        assertThat(GoFormats.local(t, ZoneId.of("America/Los_Angeles")))
                .isEqualTo("2025-05-10T08:06:48.639712648-07:00");
        assertThat(GoFormats.local(t, ZoneId.of("Asia/Kolkata"))).isEqualTo("2025-05-10T20:36:48.639712648+05:30");
        assertThat(GoFormats.local(t, ZoneOffset.UTC)).isEqualTo("2025-05-10T15:06:48.639712648Z");
    }

    @Test
    void floatsAreWrittenAsGoEncodingJsonDoes() {
        assertThat(GoFormats.float32(0.010071029f)).isEqualTo("0.010071029");
        assertThat(GoFormats.float32(-0.0017594862f)).isEqualTo("-0.0017594862");
        assertThat(GoFormats.float32(1.0f)).isEqualTo("1");
        assertThat(GoFormats.float32(0f)).isEqualTo("0");
        assertThat(GoFormats.float32(1.0e-4f)).isEqualTo("0.0001");
        assertThat(GoFormats.float32(1.0e-7f)).isEqualTo("1e-7");
        assertThat(GoFormats.float32(-2.5e-8f)).isEqualTo("-2.5e-8");
        assertThat(GoFormats.float64(1e21)).isEqualTo("1e+21");
        assertThat(GoFormats.float64(123456.5)).isEqualTo("123456.5");
        assertThat(GoFormats.float64(1.5e-12)).isEqualTo("1.5e-12");
    }
}

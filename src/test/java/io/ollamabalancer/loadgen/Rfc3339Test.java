package io.ollamabalancer.loadgen;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class Rfc3339Test {

    private static long nanos(Instant t) {
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    @ParameterizedTest
    @ValueSource(strings = {"2026-11-27T00:23:55.926915366Z", "2025-10-26T17:15:24.097767Z", "2024-02-29T23:59:59Z",
        "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.5Z", "2000-03-01T00:00:00.000000001Z", "2100-12-31T12:00:00.1Z"})
    void utcTimestampsMatchTheJdk(String text) {
        assertThat(Rfc3339.epochNanos(text)).isEqualTo(nanos(Instant.parse(text)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"2025-06-30T10:15:48.639712648-07:00", "2025-01-01T00:30:00+05:30",
        "2025-01-01T00:00:00.25+00:00"})
    void offsetsAreApplied(String text) {
        assertThat(Rfc3339.epochNanos(text)).isEqualTo(nanos(OffsetDateTime.parse(text).toInstant()));
    }

    @Test
    void randomInstantsRoundTripThroughTheSimulatorsFormat() {
        Random r = new Random(7);
        for (int i = 0; i < 2000; i++) {
            // 1906..2100: before and after the epoch, across leap years and century rules.
            long seconds = Math.floorMod(r.nextLong(), 6_100_000_000L) - 2_000_000_000L;
            Instant t = Instant.ofEpochSecond(seconds, r.nextInt(1_000_000_000));
            assertThat(Rfc3339.epochNanos(t.toString())).as(t.toString()).isEqualTo(nanos(t));
        }
    }

    @Test
    void digitsBeyondNanosecondsAreIgnored() {
        assertThat(Rfc3339.epochNanos("2025-01-01T00:00:00.1234567899Z"))
                .isEqualTo(nanos(Instant.parse("2025-01-01T00:00:00.123456789Z")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "2025-01-01", "2025-01-01T00:00:00", "2025-13-01T00:00:00Z", "2025-01-01T24:00:00Z",
        "2025-01-01 00:00:00Z", "2025-01-01T00:00:00.Z", "2025-01-01T00:00:00+0100", "2025-0a-01T00:00:00Z",
        "2025-01-01T00:00:00Zjunk"})
    void malformedTimestampsAreRejected(String text) {
        assertThatThrownBy(() -> Rfc3339.epochNanos(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("RFC 3339");
    }
}

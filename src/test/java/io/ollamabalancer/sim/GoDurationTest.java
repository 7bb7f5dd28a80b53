package io.ollamabalancer.sim;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GoDurationTest {

    @Test
    void parsesGoDurations() {
        assertThat(GoDuration.parse("0")).isZero();
        assertThat(GoDuration.parse("5m")).isEqualTo(300_000_000_000L);
        assertThat(GoDuration.parse("1h30m")).isEqualTo(5_400_000_000_000L);
        assertThat(GoDuration.parse("300ms")).isEqualTo(300_000_000L);
        assertThat(GoDuration.parse("1.5s")).isEqualTo(1_500_000_000L);
        assertThat(GoDuration.parse("-1m")).isEqualTo(-60_000_000_000L);
    }

    @Test
    void rejectsWithGoMessages() {
        assertThatThrownBy(() -> GoDuration.parse("300")).hasMessage("time: missing unit in duration \"300\"");
        assertThatThrownBy(() -> GoDuration.parse("abc")).hasMessage("time: invalid duration \"abc\"");
        assertThatThrownBy(() -> GoDuration.parse("5x")).hasMessage("time: unknown unit \"x\" in duration \"5x\"");
        assertThatThrownBy(() -> GoDuration.parse("")).hasMessage("time: invalid duration \"\"");
    }

    @Test
    void keepAliveAcceptsSecondsStringsAndNegativeForever() {
        assertThat(GoDuration.keepAlive(null)).isNull();
        assertThat(GoDuration.keepAlive(0)).isZero();
        assertThat(GoDuration.keepAlive(2.5)).isEqualTo(2_500_000_000L);
        assertThat(GoDuration.keepAlive(-1)).isEqualTo(GoDuration.FOREVER);
        assertThat(GoDuration.keepAlive("-1m")).isEqualTo(GoDuration.FOREVER);
        assertThat(GoDuration.keepAlive("10m")).isEqualTo(600_000_000_000L);
        assertThatThrownBy(() -> GoDuration.keepAlive(List.of())).isInstanceOf(BadRequestException.class);
    }
}

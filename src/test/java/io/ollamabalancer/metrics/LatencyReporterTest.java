package io.ollamabalancer.metrics;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class LatencyReporterTest {

    @Test
    void rollsIntervalsOnItsOwnAndOnceMoreWhenClosed() {
        LatencyRecorders recorders = new LatencyRecorders();
        SeriesKey gap = SeriesKey.overall(LatencyKind.TOKEN_GAP);
        LatencyReporter reporter = new LatencyReporter(recorders, Duration.ofMillis(20)).start();
        try {
            assertThat(reporter.start()).isSameAs(reporter);
            recorders.tokenGap("m", "b", Traffic.ms(5));
            await().atMost(Duration.ofSeconds(5)).until(() -> recorders.keptIntervals() >= 1);
            assertThat(recorders.since(0).find(gap).histogram().getTotalCount()).isEqualTo(1);
            recorders.tokenGap("m", "b", Traffic.ms(6));
            await().atMost(Duration.ofSeconds(5)).until(() -> recorders.keptIntervals() >= 2);
            recorders.tokenGap("m", "b", Traffic.ms(7));
            reporter.close();
            // The final roll on close keeps the last partial interval.
            assertThat(recorders.since(0).find(gap).histogram().getTotalCount()).isEqualTo(3);
        } finally {
            reporter.close();
        }
    }

    @Test
    void periodMustBePositive() {
        assertThatThrownBy(() -> new LatencyReporter(new LatencyRecorders(), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
    }
}

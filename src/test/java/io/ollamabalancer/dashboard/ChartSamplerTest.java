package io.ollamabalancer.dashboard;

import io.ollamabalancer.metrics.FleetFixture;
import io.ollamabalancer.metrics.LatencyRecorders;
import io.ollamabalancer.metrics.Traffic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ChartSamplerTest {
    private final FleetFixture fx = new FleetFixture();
    private final AtomicLong wallMs = new AtomicLong(1_700_000_000_000L);
    private final LatencyRecorders recorders = new LatencyRecorders(wallMs::get, 64, 10);

    @AfterEach
    void close() {
        fx.close();
    }

    private void advance(long seconds) {
        wallMs.addAndGet(TimeUnit.SECONDS.toMillis(seconds));
        fx.nanos.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
    }

    @Test
    void aTickTurnsWhatWasRecordedSinceTheLastIntoRatesAndPercentiles() {
        recorders.requestCompleted(Traffic.ok(1, "llama3.2:1b", "b1", 50)); // before the sampler: not counted
        ChartSampler sampler = new ChartSampler(recorders, fx.scheduler, wallMs::get, fx.nanos::get, 900);
        for (int i = 0; i < 4; i++) {
            recorders.requestCompleted(Traffic.ok(10 + i, "llama3.2:1b", "b1", 100)); // 7 tokens each
        }
        fx.submit("llama3.2:1b", 0);
        fx.submit("llama3.2:1b", 0);
        fx.submit("llama3.2:1b", 0); // b1's two slots are taken: this one waits
        advance(2);
        sampler.tick();

        List<ChartSample> s = sampler.after(0);
        assertThat(s).hasSize(1);
        ChartSample one = s.get(0);
        assertThat(one.epochSecond()).isEqualTo(wallMs.get() / 1000);
        assertThat(one.requestsPerSecond()).isEqualTo(2.0);
        assertThat(one.tokensPerSecond()).isEqualTo(14.0);
        assertThat(one.ttftP50Ms()).isCloseTo(100, within(1.0));
        assertThat(one.ttftP99Ms()).isCloseTo(100, within(1.0));
        assertThat(one.waitP50Ms()).isCloseTo(10, within(0.1));
        assertThat(one.queued()).isEqualTo(1);

        advance(1);
        sampler.tick();
        ChartSample quiet = sampler.after(one.epochSecond()).get(0);
        assertThat(quiet.requestsPerSecond()).isZero();
        assertThat(quiet.tokensPerSecond()).isZero();
        assertThat(quiet.ttftP99Ms()).as("no request, no latency").isZero();
    }

    @Test
    void theRingKeepsTheLastSecondsOnly() {
        ChartSampler sampler = new ChartSampler(recorders, fx.scheduler, wallMs::get, fx.nanos::get, 3);
        long first = wallMs.get() / 1000;
        for (int i = 1; i <= 5; i++) {
            advance(1);
            sampler.tick();
        }
        assertThat(sampler.after(0)).extracting(ChartSample::epochSecond)
                .containsExactly(first + 3, first + 4, first + 5);
        assertThat(sampler.after(first + 4)).extracting(ChartSample::epochSecond).containsExactly(first + 5);
    }
}

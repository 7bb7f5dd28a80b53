package io.ollamabalancer.schedule;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Percentage.withPercentage;

class ModelDemandTest {
    private static final long S = 1_000_000_000L;

    /**
     * Demand remembers request sizes and prices them when read: requests that arrived while the speed was still the
     * first guess weigh what they weigh at the speed known now, so the models seen first do not look heavier.
     */
    @Test
    void workIsPricedWhenReadNotWhenTheRequestsArrived() {
        AtomicReference<Double> tokensPerSecond = new AtomicReference<>(30.0);
        ModelDemand demand = new ModelDemand(60 * S,
                (model, prompt, output) -> (prompt + 150 * output) / tokensPerSecond.get() * 1e9);
        for (int i = 0; i < 10; i++) {
            demand.arrived("a", 150, 1, i * S);
        }
        assertThat(demand.workNanos("a")).isCloseTo(10e9, withPercentage(1));
        tokensPerSecond.set(150.0);
        assertThat(demand.workNanos("a")).isCloseTo(2e9, withPercentage(1));
        assertThat(demand.load("a", 10 * S)).isCloseTo(demand.rate("a", 10 * S) * 2, withPercentage(1));
    }

    /** Sizes are means over the same decaying window as the rate: old requests fade out of both. */
    @Test
    void sizesFollowTheRecentRequests() {
        ModelDemand demand = new ModelDemand(10 * S, (model, prompt, output) -> prompt * 1e6 + output * 1e9);
        for (int i = 0; i < 20; i++) {
            demand.arrived("a", 1000, 1, i * S);
        }
        for (int i = 0; i < 100; i++) {
            demand.arrived("a", 100, 0, 20 * S + i * S);
        }
        // Ten windows later the first requests weigh next to nothing: about 100 prompt tokens and no output.
        assertThat(demand.workNanos("a")).isCloseTo(100e6, withPercentage(5));
        assertThat(demand.workNanos("nobody")).isZero();
    }
}

package io.ollamabalancer.estimate;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class DecodeFitTest {

    /**
     * The fit after 400 responses of a backend with single-stream rate {@code r1} and slowdown {@code beta}, each
     * decoding at a concurrency drawn from {@code lowest} to {@code lowest + range - 1} throughout, ±5 % noise.
     */
    private static DecodeFit fit(double r1, double beta, int lowest, int range, long seed) {
        Random rnd = new Random(seed);
        DecodeFit f = DecodeFit.EMPTY;
        for (int i = 0; i < 400; i++) {
            int k = lowest + rnd.nextInt(range);
            double rate = r1 / (1 + beta * (k - 1)) * (1 + 0.05 * (2 * rnd.nextDouble() - 1));
            f = f.plus(Math.log(rate), DecodeShare.constant(k));
        }
        return f;
    }

    @Test
    void aSlowdownIsLearnedFromResponsesAtFewAndManyStreams() {
        DecodeFit f = fit(120, 0.5, 1, 4, 7);
        assertThat(f.slowdown()).isCloseTo(0.5, within(0.1));
        assertThat(Math.exp(f.logDecode1(f.slowdown()))).isCloseTo(120, within(6.0));
    }

    @Test
    void concurrenciesWithinAFewPercentOfEachOtherLeaveTheSlowdownUnknownHoweverManyStreamsDiffer() {
        // 1,200 to 1,300 streams: a hundred streams apart, but every β ≥ 0.1 explains them alike.
        DecodeFit f = fit(8_000, 1.0, 1_200, 101, 11);
        assertThat(f.slowdown()).isNaN();
        // Whatever β the caller falls back to, the rate it predicts where the responses were is what they showed.
        for (double beta : new double[] {0.2, 0.5, 1.0}) {
            double predicted = Math.exp(f.logDecode1(beta)) / (1 + beta * 1_249);
            assertThat(predicted).as("β %s", beta).isCloseTo(8_000.0 / 1_250, within(0.6));
        }
    }

    @Test
    void aSlowdownOnceToldIsHeldThroughAStretchAtOneConcurrency() {
        DecodeFit f = fit(120, 0.5, 1, 4, 7);
        Random rnd = new Random(13);
        // A backend kept at its 4 slots for a long time: the spread of concurrencies decays away.
        for (int i = 0; i < 400; i++) {
            double rate = 120 / (1 + 0.5 * 3) * (1 + 0.05 * (2 * rnd.nextDouble() - 1));
            f = f.plus(Math.log(rate), DecodeShare.constant(4));
        }
        assertThat(f.slowdown()).isCloseTo(0.5, within(0.1));
        assertThat(Math.exp(f.logDecode1(f.slowdown()))).isCloseTo(120, within(6.0));
    }
}

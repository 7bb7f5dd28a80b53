package io.ollamabalancer.estimate;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class DecodeFitTest {

    /** A response decoding at {@code k} streams throughout, on a backend of single-stream rate r1 and slowdown β. */
    private static DecodeFit plus(DecodeFit f, double r1, double beta, int k, double noise, Random rnd) {
        double rate = r1 / (1 + beta * (k - 1)) * (1 + noise * (2 * rnd.nextDouble() - 1));
        return f.plus(Math.log(rate), DecodeShare.constant(k));
    }

    @Test
    void aSlowdownIsLearnedFromResponsesAtFewAndManyStreams() {
        Random rnd = new Random(7);
        DecodeFit f = DecodeFit.EMPTY;
        for (int i = 0; i < 400; i++) {
            f = plus(f, 120, 0.5, 1 + rnd.nextInt(4), 0.05, rnd);
        }
        assertThat(f.slowdown()).isCloseTo(0.5, within(0.1));
        assertThat(Math.exp(f.logDecode1(f.slowdown()))).isCloseTo(120, within(6.0));
    }

    @Test
    void concurrenciesWithinAFewPercentOfEachOtherLeaveTheSlowdownUnknownHoweverManyStreamsDiffer() {
        // 1,200 to 1,300 streams: a hundred streams apart, but every β ≥ 0.1 explains them alike.
        Random rnd = new Random(11);
        DecodeFit f = DecodeFit.EMPTY;
        for (int i = 0; i < 400; i++) {
            f = plus(f, 8_000, 1.0, 1_200 + rnd.nextInt(101), 0.05, rnd);
        }
        assertThat(f.slowdown()).isNaN();
        // Whatever β the caller falls back to, the rate it predicts where the responses were is what they showed.
        for (double beta : new double[] {0.2, 0.5, 1.0}) {
            double predicted = Math.exp(f.logDecode1(beta)) / (1 + beta * 1_249);
            assertThat(predicted).as("β %s", beta).isCloseTo(8_000.0 / 1_250, within(0.6));
        }
    }
}

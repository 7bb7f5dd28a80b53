package io.ollamabalancer.estimate;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;
import static org.assertj.core.data.Percentage.withPercentage;

class OutputLengthsTest {

    private static long logNormal(Random rnd, double median, double sigma) {
        return Math.max(1, Math.round(median * Math.exp(sigma * rnd.nextGaussian())));
    }

    @Test
    void priorIsCentredOnTheConfiguredMedian() {
        OutputLengths o = new OutputLengths(200, 3, 1000);
        assertThat(o.view().quantile(0.5)).isBetween(150.0, 260.0);
    }

    @Test
    void learnsTheMeanOfWhatModelsGenerate() {
        OutputLengths o = new OutputLengths(200, 3, 1000);
        for (int i = 0; i < 500; i++) {
            o.add(50);
        }
        assertThat(o.view().mean()).isBetween(47.0, 53.0);
    }

    @Test
    void capTruncatesTheExpectation() {
        OutputLengths o = new OutputLengths(200, 3, 1000);
        Random rnd = new Random(1);
        for (int i = 0; i < 1000; i++) {
            o.add(logNormal(rnd, 200, 1.0));
        }
        OutputLengths.View v = o.view();
        assertThat(v.expectedCapped(10)).isLessThanOrEqualTo(10.0).isGreaterThan(8.0);
        assertThat(v.expectedCapped(100)).isLessThan(v.mean());
        assertThat(v.expectedCapped(-1)).isEqualTo(v.mean());
    }

    @Test
    void expectedRemainingGrowsWithWhatWasGeneratedUnderAHeavyTail() {
        OutputLengths o = new OutputLengths(200, 3, 5000);
        Random rnd = new Random(2);
        for (int i = 0; i < 3000; i++) {
            o.add(logNormal(rnd, 150, 1.2));
        }
        OutputLengths.View v = o.view();
        double fresh = v.expectedRemaining(0, -1);
        double longRunning = v.expectedRemaining(1500, -1);
        assertThat(fresh).isCloseTo(v.mean(), org.assertj.core.data.Percentage.withPercentage(5));
        assertThat(longRunning).isGreaterThan(fresh);
        assertThat(v.expectedRemaining(90, 100)).isLessThanOrEqualTo(10.0);
        assertThat(v.expectedRemaining(100, 100)).isZero();
    }

    @Test
    void censoredSamplesDoNotDragTheDistributionDownToTheCap() {
        Random rnd = new Random(3);
        OutputLengths censored = new OutputLengths(300, 3, 5000);
        OutputLengths naive = new OutputLengths(300, 3, 5000);
        for (int i = 0; i < 300; i++) {
            long natural = logNormal(rnd, 300, 0.5);
            censored.add(natural);
            naive.add(natural);
        }
        for (int i = 0; i < 1000; i++) {
            long natural = logNormal(rnd, 300, 0.5);
            if (natural >= 100) {
                censored.addCensored(100);
                naive.add(100);
            } else {
                censored.add(natural);
                naive.add(natural);
            }
        }
        assertThat(censored.view().mean()).isGreaterThan(250.0);
        assertThat(naive.view().mean()).isLessThan(170.0);
    }

    @Test
    void thePublishedViewLagsByNoMoreThanASmallShareOfTheWeight() {
        OutputLengths paced = new OutputLengths(200, 3, 1000);
        OutputLengths eager = new OutputLengths(200, 3, 1000, 0);
        Random rnd = new Random(3);
        int rebuilds = 0;
        OutputLengths.View last = paced.view();
        for (int i = 0; i < 5000; i++) {
            // An eightfold regime change half-way, heavy-tailed: the lag must stay small while the distribution moves
            // (the pacing lets about 1/128 of the weight wait; tails of 10x the mean make that a few percent).
            long tokens = logNormal(rnd, i < 2500 ? 100 : 800, 0.8);
            if (i % 7 == 0) {
                paced.addCensored(Math.min(tokens, 300));
                eager.addCensored(Math.min(tokens, 300));
            } else {
                paced.add(tokens);
                eager.add(tokens);
            }
            if (paced.view() != last) {
                rebuilds++;
                last = paced.view();
            }
            assertThat(paced.view().mean()).as("sample %d", i).isCloseTo(eager.view().mean(), withPercentage(6));
            assertThat(paced.view().expectedCapped(64)).isCloseTo(eager.view().expectedCapped(64), withPercentage(1));
        }
        assertThat(rebuilds).as("the view is not rebuilt on every sample").isLessThan(1000);
        assertThat(paced.own()).isEqualTo(eager.own());
    }

    @Test
    void remainingOutputFromTheTailSumsEqualsTheBucketByBucketPass() {
        Random rnd = new Random(11);
        for (int run = 0; run < 20; run++) {
            OutputLengths o = new OutputLengths(50 + rnd.nextInt(400), 3, 200 + rnd.nextInt(2000), 0);
            int n = rnd.nextInt(3000);
            for (int i = 0; i < n; i++) {
                long tokens = logNormal(rnd, 20 + rnd.nextInt(500), 0.3 + rnd.nextDouble());
                if (rnd.nextInt(5) == 0) {
                    o.addCensored(Math.min(tokens, 1 + rnd.nextInt(600)));
                } else {
                    o.add(tokens);
                }
            }
            OutputLengths.View v = o.view();
            assertThat(v.ascending()).as("bucket values lie in their buckets' ranges").isTrue();
            for (int q = 0; q < 200; q++) {
                double generated = rnd.nextInt(4) == 0 ? rnd.nextInt(50) : Math.exp(rnd.nextDouble() * 9);
                int cap = rnd.nextBoolean() ? -1 : rnd.nextInt(5000);
                double pass = v.expectedRemainingByPass(generated, cap);
                assertThat(v.expectedRemaining(generated, cap)).as("run %d, g=%f, cap=%d", run, generated, cap)
                        .isCloseTo(pass, offset(1e-9 * Math.max(1, Math.abs(pass))));
            }
        }
    }
}

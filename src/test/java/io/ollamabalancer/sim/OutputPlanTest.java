package io.ollamabalancer.sim;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class OutputPlanTest {

    private static String text(OutputPlan p) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < p.tokens(); i++) {
            sb.append(p.piece(p.nextTokenId(), i == 0));
        }
        return sb.toString();
    }

    @Test
    void sameSeedAndBodyGiveTheSameAnswer() {
        OutputPlan a = new OutputPlan(42, 1234, 100, 4096, -1, 0.1);
        OutputPlan b = new OutputPlan(42, 1234, 100, 4096, -1, 0.1);
        assertThat(a.tokens()).isEqualTo(b.tokens());
        assertThat(text(a)).isEqualTo(text(b));
        assertThat(a.doneReason()).isEqualTo("stop");
    }

    @Test
    void numPredictCapsWithLength() {
        OutputPlan p = new OutputPlan(42, 99, 10_000, 100_000, 7, 0.1);
        assertThat(p.tokens()).isEqualTo(7);
        assertThat(p.doneReason()).isEqualTo("length");
        assertThat(new OutputPlan(42, 99, 10_000, 100_000, 0, 0.1).tokens()).isZero();
    }

    @Test
    void lengthsAreHeavyTailedAroundTheMean() {
        SplittableRandom r = new SplittableRandom(1);
        int n = 20_000;
        long sum = 0;
        int max = 0;
        int belowMean = 0;
        for (int i = 0; i < n; i++) {
            int len = OutputPlan.drawLength(r, 100, 1_000_000);
            sum += len;
            max = Math.max(max, len);
            belowMean += len < 100 ? 1 : 0;
        }
        assertThat(sum / (double) n).isBetween(90.0, 110.0);
        assertThat(max).as("a long tail").isGreaterThan(1000);
        assertThat(belowMean / (double) n).as("median below the mean").isGreaterThan(0.6);
        assertThat(OutputPlan.drawLength(new SplittableRandom(3), 100_000, 50)).isLessThanOrEqualTo(50);
    }

    @Test
    void jitterStaysInItsBand() {
        OutputPlan p = new OutputPlan(1, 2, 10, 10, -1, 0.1);
        for (int i = 0; i < 1000; i++) {
            assertThat(p.jitterFactor()).isBetween(0.9, 1.1);
        }
        assertThat(new OutputPlan(1, 2, 10, 10, -1, 0).jitterFactor()).isEqualTo(1.0);
    }
}

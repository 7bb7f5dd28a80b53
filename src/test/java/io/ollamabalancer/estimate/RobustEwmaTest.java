package io.ollamabalancer.estimate;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class RobustEwmaTest {

    @Test
    void firstSamplesGiveTheirMedianSoAnEarlyOutlierDoesNotDominate() {
        RobustEwma e = RobustEwma.EMPTY.update(1).update(100).update(2);
        assertThat(e.mean()).isEqualTo(2.0);
        assertThat(e.count()).isEqualTo(3);
    }

    @Test
    void aSingleOutlierAfterConvergenceBarelyMovesTheMean() {
        RobustEwma e = RobustEwma.EMPTY;
        for (int i = 0; i < 30; i++) {
            e = e.update(i % 2 == 0 ? 0.02 : -0.02);
        }
        double before = e.mean();
        e = e.update(Math.log(100));
        assertThat(e.mean() - before).isLessThan(0.05);
    }

    @Test
    void aLastingShiftGetsThroughWithinAFewDozenSamples() {
        RobustEwma e = RobustEwma.EMPTY;
        for (int i = 0; i < 30; i++) {
            e = e.update(0);
        }
        for (int i = 0; i < 40; i++) {
            e = e.update(Math.log(2));
        }
        assertThat(e.mean()).isCloseTo(Math.log(2), within(0.05));
    }

    @Test
    void nonFiniteSamplesAreIgnored() {
        RobustEwma e = RobustEwma.EMPTY.update(1).update(Double.NaN).update(Double.POSITIVE_INFINITY);
        assertThat(e.count()).isEqualTo(1);
    }
}

package io.ollamabalancer.estimate;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class EstimateErrorsTest {

    @Test
    void emptyErrorsAreNaN() {
        EstimateErrors.Snapshot s = new EstimateErrors().snapshot();
        assertThat(s.promptSamples()).isZero();
        assertThat(s.promptRatioMedian()).isNaN();
        assertThat(s.finishRelErrorMedian()).isNaN();
    }

    @Test
    void reportsMedianRatiosAndErrors() {
        EstimateErrors e = new EstimateErrors();
        e.recordPrompt(100, 90);
        e.recordPrompt(100, 110);
        e.recordPrompt(100, 100);
        e.recordOutput(50, 70);
        e.recordOutput(50, 40);
        e.recordFinish(1_000, 1_500);
        e.recordFinish(1_000, 900);
        e.recordFinish(1_000, 1_000);
        EstimateErrors.Snapshot s = e.snapshot();
        assertThat(s.promptSamples()).isEqualTo(3);
        assertThat(s.promptRatioMedian()).isCloseTo(1.0, within(1e-9));
        assertThat(s.promptRatioP10()).isCloseTo(0.9, within(1e-9));
        assertThat(s.outputAbsErrorMean()).isCloseTo(15.0, within(1e-9));
        assertThat(s.finishRelErrorMedian()).isCloseTo(0.1, within(1e-9));
        assertThat(s.finishRelErrorP90()).isCloseTo(0.5, within(1e-9));
        assertThat(s.finishBiasMedian()).isCloseTo(0.0, within(1e-9));
    }

    @Test
    void keepsOnlyARecentWindow() {
        EstimateErrors e = new EstimateErrors();
        for (int i = 0; i < EstimateErrors.WINDOW; i++) {
            e.recordPrompt(100, 300);
        }
        for (int i = 0; i < EstimateErrors.WINDOW; i++) {
            e.recordPrompt(100, 100);
        }
        assertThat(e.snapshot().promptRatioMedian()).isEqualTo(1.0);
        assertThat(e.snapshot().promptSamples()).isEqualTo(2L * EstimateErrors.WINDOW);
    }
}

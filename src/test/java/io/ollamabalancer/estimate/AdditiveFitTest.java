package io.ollamabalancer.estimate;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class AdditiveFitTest {
    private static final double NAN = Double.NaN;

    @Test
    void aCompleteTableIsSplitIntoItsRowAndColumnParts() {
        double[] rows = {0.5, -0.2, -0.3};
        double[] columns = {3.0, 4.0};
        double[][] value = new double[3][2];
        double[][] weight = new double[3][2];
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 2; c++) {
                value[r][c] = rows[r] + columns[c];
                weight[r][c] = 1;
            }
        }
        AdditiveFit.Parts p = AdditiveFit.fit(value, weight, 1, true);
        for (int r = 0; r < 3; r++) {
            assertThat(p.rows()[r]).isCloseTo(rows[r], within(1e-9));
        }
        assertThat(p.columns()).containsExactly(new double[] {3.0, 4.0}, within(1e-9));
    }

    /**
     * Backends that ran different models: model 1 ran only on the slow backend, so its plain mean reads it as slow;
     * the overlap through model 0 tells the backend's part from the model's.
     */
    @Test
    void aModelSeenOnlyOnASlowBackendIsNotTakenForASlowModel() {
        double[][] value = {{2.0 + 1.0, NAN}, {2.0 - 1.0, 5.0 - 1.0}};
        double[][] weight = {{1, 0}, {1, 1}};
        AdditiveFit.Parts p = AdditiveFit.fit(value, weight, 40, true);
        assertThat(p.rows()[0] - p.rows()[1]).isCloseTo(2.0, within(1e-3));
        assertThat(p.columns()[1] - p.columns()[0]).isCloseTo(3.0, within(1e-3));
    }

    @Test
    void weightsDecideBetweenCellsThatDisagree() {
        // Two backends ran one model: its part is the mean of their figures weighted by what each has seen.
        double[][] value = {{1.0}, {4.0}};
        double[][] weight = {{3}, {1}};
        AdditiveFit.Parts p = AdditiveFit.fit(value, weight, 1, false);
        assertThat(p.columns()[0]).isCloseTo(1.75, within(1e-9));
        assertThat(p.rows()[0]).isCloseTo(-0.75, within(1e-9));
        assertThat(p.rows()[1]).isCloseTo(2.25, within(1e-9));
    }

    @Test
    void nothingKnownGivesZeroParts() {
        double[][] value = {{NAN, 1.0}};
        double[][] weight = {{1, 0}};
        AdditiveFit.Parts p = AdditiveFit.fit(value, weight, 3, false);
        assertThat(p.rows()).containsExactly(0.0);
        assertThat(p.columns()).containsExactly(0.0, 0.0);
    }
}

package io.ollamabalancer.schedule;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The busiest backend's utilisation at best, against what Hall's condition says it must be. */
class FluidLoadTest {

    @Test
    void oneModelOnTwoBackendsSplitsByCapacity() {
        double u = FluidLoad.utilisation(new double[] {1.5}, new double[] {1, 2}, new boolean[][] {{true}, {true}});
        assertThat(u).isCloseTo(0.5, within(1e-6));
    }

    @Test
    void aModelHeldByOneBackendOnlyLoadsIt() {
        // a: only on backend 0 (capacity 1); b: on both. Backend 0 is busiest with a alone: 0.8.
        double u = FluidLoad.utilisation(new double[] {0.8, 0.4}, new double[] {1, 1},
                new boolean[][] {{true, true}, {false, true}});
        assertThat(u).isCloseTo(0.8, within(1e-6));
        assertThat(FluidLoad.utilisation(new double[] {0, 0}, new double[] {1, 1},
                new boolean[][] {{true, true}, {false, true}})).isZero();
    }

    /**
     * Random fleets: the least busiest utilisation is the largest ratio, over every set of models, of their demand
     * to the capacity of the backends that hold any of them (Hall's condition of the flow); models nobody holds are
     * left out.
     */
    @Test
    void matchesTheWorstSetOfModelsOnRandomFleets() {
        Random rnd = new Random(11);
        for (int trial = 0; trial < 300; trial++) {
            int nb = 1 + rnd.nextInt(6);
            int nm = 1 + rnd.nextInt(6);
            double[] demand = new double[nm];
            double[] capacity = new double[nb];
            boolean[][] holds = new boolean[nb][nm];
            for (int m = 0; m < nm; m++) {
                demand[m] = rnd.nextDouble() * 2;
            }
            for (int b = 0; b < nb; b++) {
                capacity[b] = 0.2 + rnd.nextDouble() * 3;
                for (int m = 0; m < nm; m++) {
                    holds[b][m] = rnd.nextDouble() < 0.4;
                }
            }
            double worst = 0;
            for (int set = 1; set < 1 << nm; set++) {
                double wanted = 0;
                double room = 0;
                boolean[] counted = new boolean[nb];
                for (int m = 0; m < nm; m++) {
                    if ((set & 1 << m) == 0) {
                        continue;
                    }
                    boolean held = false;
                    for (int b = 0; b < nb; b++) {
                        if (holds[b][m]) {
                            held = true;
                            if (!counted[b]) {
                                counted[b] = true;
                                room += capacity[b];
                            }
                        }
                    }
                    wanted += held ? demand[m] : 0;
                }
                if (room > 0) {
                    worst = Math.max(worst, wanted / room);
                }
            }
            assertThat(FluidLoad.utilisation(demand, capacity, holds)).as("trial %d", trial)
                    .isCloseTo(worst, within(1e-6 * Math.max(1, worst)));
        }
    }
}

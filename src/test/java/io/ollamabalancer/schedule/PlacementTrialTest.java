package io.ollamabalancer.schedule;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PlacementTrialTest {
    /** One fast backend (3 work units per second per stream) and one slow (1), 2 slots each. */
    private static final PlacementTrial.Fleet FAST_SLOW = new PlacementTrial.Fleet(new double[] {3, 1},
            new int[] {2, 2}, new double[] {0.2, 0.2});
    private static final PlacementTrial.Fleet TWO_EQUAL = new PlacementTrial.Fleet(new double[] {1, 1},
            new int[] {2, 2}, new double[] {0.2, 0.2});
    private static final boolean[][] ALL = {{true, true}, {true, true}};

    private static PlacementTrial.Demand demand(double rateA, double rateB, double arrivals, int queuedA) {
        return new PlacementTrial.Demand(new double[] {rateA, rateB}, new double[] {arrivals, arrivals},
                new double[] {1, 1}, new int[] {queuedA, 0}, new double[] {8, 8}, new int[2][2]);
    }

    @Test
    void theBusiestModelOnTheFastBackendIsJudgedFaster() {
        boolean[][] busiestOnFast = {{true, false}, {false, true}};
        boolean[][] busiestOnSlow = {{false, true}, {true, false}};
        PlacementTrial.Verdict v = PlacementTrial.judge(FAST_SLOW, demand(2, 0.3, 1e6, 0), ALL,
                List.of(busiestOnFast, busiestOnSlow), 120, 8, 1);
        assertThat(v.mean(0)).isLessThan(v.mean(1) * 0.7);
        assertThat(v.sureness(1, 0)).isGreaterThan(3);
    }

    @Test
    void aChangeThatGainsNothingPaysForItsLoads() {
        // Two equal backends with one model each: trading them is the same placement after two 8 s loads.
        boolean[][] kept = {{true, false}, {false, true}};
        boolean[][] traded = {{false, true}, {true, false}};
        PlacementTrial.Verdict v = PlacementTrial.judge(TWO_EQUAL, demand(0.6, 0.6, 1e6, 0), kept,
                List.of(kept, traded), 120, 8, 1);
        assertThat(v.mean(1)).isGreaterThan(v.mean(0) * 1.2);
        assertThat(v.sureness(0, 1)).isLessThan(-2);
    }

    @Test
    void aBacklogIsPaidForAndASecondReplicaDrainsIt() {
        // 60 requests of A wait; A is held on one backend, or on both (the second after a load).
        boolean[][] one = {{true, false}, {false, true}};
        boolean[][] both = {{true, false}, {true, true}};
        PlacementTrial.Verdict idle = PlacementTrial.judge(TWO_EQUAL, demand(0.3, 0.05, 1e6, 0), one,
                List.of(one, both), 120, 8, 1);
        PlacementTrial.Verdict backlog = PlacementTrial.judge(TWO_EQUAL, demand(0.3, 0.05, 1e6, 60), one,
                List.of(one, both), 120, 8, 1);
        assertThat(backlog.mean(0)).isGreaterThan(idle.mean(0) * 3);
        assertThat(backlog.mean(1)).isLessThan(backlog.mean(0) * 0.8);
        assertThat(backlog.sureness(0, 1)).isGreaterThan(3);
    }

    @Test
    void aLoadWaitsForTheRequestsOfTheModelItEvicts() {
        // The second backend runs two long requests of B (100 s of work each on average, most of the 120 s looked
        // at); a candidate that trades B there for a second replica of A must wait for them before its load, the
        // plan that keeps B must not.
        boolean[][] kept = {{true, false}, {false, true}};
        boolean[][] trade = {{true, false}, {true, false}};
        int[][] longB = {{0, 0}, {0, 2}};
        PlacementTrial.Demand idle = new PlacementTrial.Demand(new double[] {3.2, 0}, new double[] {1e6, 1e6},
                new double[] {1, 100}, new int[] {0, 0}, new double[] {8, 8}, new int[2][2]);
        PlacementTrial.Demand busy = new PlacementTrial.Demand(new double[] {3.2, 0}, new double[] {1e6, 1e6},
                new double[] {1, 100}, new int[] {0, 0}, new double[] {8, 8}, longB);
        // Four slots each, so the two running requests leave room: what delays the trade is the wait for the load.
        PlacementTrial.Fleet roomy = new PlacementTrial.Fleet(new double[] {1, 1}, new int[] {4, 4},
                new double[] {0, 0});
        // Whatever the draws (1.33x to 1.98x over seeds 1-30 when this was written).
        for (long seed = 1; seed <= 5; seed++) {
            PlacementTrial.Verdict free = PlacementTrial.judge(roomy, idle, kept, List.of(kept, trade), 120, 8, seed);
            PlacementTrial.Verdict waits = PlacementTrial.judge(roomy, busy, kept, List.of(kept, trade), 120, 8, seed);
            assertThat(waits.mean(0)).isCloseTo(free.mean(0), org.assertj.core.data.Percentage.withPercentage(1));
            assertThat(waits.mean(1)).isGreaterThan(free.mean(1) * 1.2);
        }
    }

    @Test
    void aModelNoPlacementServesCostsTenHorizonsPerRequest() {
        boolean[][] withoutB = {{true, false}, {true, false}};
        PlacementTrial.Verdict v = PlacementTrial.judge(TWO_EQUAL, demand(0.5, 0.5, 1e6, 0), ALL,
                List.of(ALL, withoutB), 60, 4, 1);
        assertThat(v.mean(1)).isGreaterThan(200);
        assertThat(v.mean(0)).isLessThan(10);
    }

    @Test
    void theSameSeedDrawsTheSameDemand() {
        boolean[][] split = {{true, false}, {false, true}};
        PlacementTrial.Verdict a = PlacementTrial.judge(FAST_SLOW, demand(1, 1, 50, 3), ALL, List.of(ALL, split),
                120, 4, 7);
        PlacementTrial.Verdict b = PlacementTrial.judge(FAST_SLOW, demand(1, 1, 50, 3), ALL, List.of(ALL, split),
                120, 4, 7);
        assertThat(a.means()).isDeepEqualTo(b.means());
    }

    @Test
    void aGainThatRestsOnFewArrivalsIsLessSure() {
        // Giving B a replica on the fast backend beats holding it on the slow one alone; how sure that is depends
        // on how well its rate is known (a Poisson count of 4 arrivals: +-50 %).
        boolean[][] kept = {{true, false}, {false, true}};
        boolean[][] replica = {{true, true}, {false, true}};
        PlacementTrial.Verdict known = PlacementTrial.judge(FAST_SLOW, demand(0.5, 0.4, 1e6, 0), ALL,
                List.of(kept, replica), 120, 16, 3);
        PlacementTrial.Verdict guessed = PlacementTrial.judge(FAST_SLOW, demand(0.5, 0.4, 4, 0), ALL,
                List.of(kept, replica), 120, 16, 3);
        assertThat(known.sureness(0, 1)).isGreaterThan(2);
        assertThat(guessed.sureness(0, 1)).isLessThan(known.sureness(0, 1));
    }
}

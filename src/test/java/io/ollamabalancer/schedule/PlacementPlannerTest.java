package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.estimate.CostHints;
import io.ollamabalancer.estimate.CostModel;
import io.ollamabalancer.estimate.DecodeShare;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The placement plan: who holds what on one-model backends, its hysteresis, and when it stays out of the way. */
class PlacementPlannerTest {
    private static final String A = "a:latest";
    private static final String B = "b:latest";
    private static final String C = "c:latest";
    private static final long S = 1_000_000_000L;

    private final CostModel cost = new CostModel(CostHints.defaults(), () -> 0L);
    /** Every request of these tests is 100 prompt tokens priced at one second of work. */
    private final ModelDemand demand = new ModelDemand(60 * S, (model, prompt, output) -> prompt / 100 * S);

    /** Three backends holding one model each (configured), fast three times the slow ones' speed. */
    private Fleet fleet(int maxLoadedModels) {
        List<BackendConfig> configs = new ArrayList<>();
        for (String name : List.of("slow1", "fast", "slow2")) {
            configs.add(new BackendConfig(name, URI.create("http://127.0.0.1:1"), 2, List.of(A, B, C), true,
                    maxLoadedModels, 0));
        }
        Fleet f = new Fleet(configs);
        for (int i = 0; i < 20; i++) {
            for (String m : List.of(A, B, C)) {
                cost.record("fast", m, Fixtures.sample(100, 100, 3000, 150), DecodeShare.constant(1));
                cost.record("slow1", m, Fixtures.sample(100, 100, 1000, 50), DecodeShare.constant(1));
                cost.record("slow2", m, Fixtures.sample(100, 100, 1000, 50), DecodeShare.constant(1));
            }
        }
        return f;
    }

    /** As {@link #fleet(int)} with a fourth backend, slow like the two others: room for one spare replica. */
    private Fleet fleetWithSpare() {
        List<BackendConfig> configs = new ArrayList<>();
        for (String name : List.of("slow1", "fast", "slow2", "slow3")) {
            configs.add(new BackendConfig(name, URI.create("http://127.0.0.1:1"), 2, List.of(A, B, C), true, 1, 0));
        }
        for (int i = 0; i < 20; i++) {
            for (String m : List.of(A, B, C)) {
                cost.record("fast", m, Fixtures.sample(100, 100, 3000, 150), DecodeShare.constant(1));
                for (String slow : List.of("slow1", "slow2", "slow3")) {
                    cost.record(slow, m, Fixtures.sample(100, 100, 1000, 50), DecodeShare.constant(1));
                }
            }
        }
        return new Fleet(configs);
    }

    /** {@code perSecond} arrivals per model (in order A, B, C) for {@code seconds}, ending at {@code end}. */
    private void traffic(double[] perSecond, long start, long end) {
        for (long t = start; t < end; t += S / 10) {
            for (int m = 0; m < 3; m++) {
                double expected = perSecond[m] * (t - start + S / 10) / S;
                double before = perSecond[m] * (t - start) / S;
                for (long k = (long) before; k < (long) expected; k++) {
                    demand.arrived(List.of(A, B, C).get(m), 100, 1, t);
                }
            }
        }
    }

    private PlacementPlanner planner(Fleet fleet) {
        PlacementPlanner p = new PlacementPlanner(demand, cost, 2 * S);
        p.backends(fleet::all);
        return p;
    }

    @Test
    void oneModelBackendsAreSplitByDemandWithTheBusiestModelOnTheFastest() {
        Fleet fleet = fleet(1);
        traffic(new double[] {0.5, 0.3, 0.2}, 0, 120 * S);
        PlacementPlan plan = planner(fleet).plan(120 * S);
        assertThat(plan.restricted()).isTrue();
        assertThat(plan.holds().get("fast")).containsExactly(A);
        assertThat(Set.of(plan.holds().get("slow1"), plan.holds().get("slow2"))).containsExactlyInAnyOrder(
                Set.of(B), Set.of(C));
        for (String m : List.of(A, B, C)) {
            assertThat(plan.replicas(m)).isEqualTo(1);
        }
        assertThat(plan.planned("fast", B)).isFalse();
    }

    /**
     * The least asked model is resident on a slow backend and the other slow one is empty: the second model goes to
     * the empty one. Evicting the resident model to make room (and loading it again on the empty backend) reads as
     * no worse in the fluid load, where backends of one speed are interchangeable, but costs a second load; a plan
     * made from the first seconds of demand did this in PlacementIT.
     */
    @Test
    void aModelIsCoveredWhereItEvictsNothingRatherThanByMovingAnother() {
        Fleet fleet = fleet(1);
        fleet.byName("slow1").updateLoaded(Set.of(C));
        traffic(new double[] {0.5, 0.3, 0.2}, 0, 120 * S);
        PlacementPlan plan = planner(fleet).plan(120 * S);
        assertThat(plan.holds()).isEqualTo(Map.of("fast", Set.of(A), "slow2", Set.of(B), "slow1", Set.of(C)));
    }

    @Test
    void aDemandBlipDoesNotMoveAModel() {
        Fleet fleet = fleet(1);
        traffic(new double[] {0.5, 0.3, 0.2}, 0, 120 * S);
        PlacementPlanner planner = planner(fleet);
        PlacementPlan before = planner.plan(120 * S);
        // Ten seconds in which C is asked as much as A usually is, then back to normal.
        traffic(new double[] {0.5, 0.3, 0.7}, 120 * S, 130 * S);
        PlacementPlan during = planner.plan(130 * S);
        traffic(new double[] {0.5, 0.3, 0.2}, 130 * S, 160 * S);
        PlacementPlan after = planner.plan(160 * S);
        assertThat(during.holds()).isEqualTo(before.holds());
        assertThat(after.holds()).isEqualTo(before.holds());
    }

    @Test
    void aBlipThatMakesAnotherModelLookBusiestForAMomentDoesNotMoveIt() {
        // The blip above leaves C below A even at its peak, so no planner would move anything. Here C's smoothed
        // demand overtakes A's by less than the hysteresis margin: without the margin, C would take the fast
        // backend and A a slow one (two loads), and back again a minute later.
        Fleet fleet = fleet(1);
        traffic(new double[] {0.5, 0.3, 0.2}, 0, 120 * S);
        PlacementPlanner planner = planner(fleet);
        PlacementPlan before = planner.plan(120 * S);
        assertThat(before.holds().get("fast")).containsExactly(A);
        traffic(new double[] {0.5, 0.3, 2.6}, 120 * S, 130 * S);
        assertThat(demand.load(C, 130 * S)).as("C looks busier than A").isGreaterThan(demand.load(A, 130 * S));
        PlacementPlan during = planner.plan(130 * S);
        assertThat(during.holds()).isEqualTo(before.holds());
    }

    @Test
    void aLastingShiftOfDemandMovesTheBusiestModelToTheFastBackend() {
        Fleet fleet = fleet(1);
        traffic(new double[] {0.5, 0.3, 0.2}, 0, 120 * S);
        PlacementPlanner planner = planner(fleet);
        assertThat(planner.plan(120 * S).holds().get("fast")).containsExactly(A);
        // C becomes by far the most asked-for model, for minutes.
        traffic(new double[] {0.1, 0.1, 1.0}, 120 * S, 420 * S);
        PlacementPlan plan = planner.plan(420 * S);
        assertThat(plan.holds().get("fast")).containsExactly(C);
        assertThat(plan.replicas(A)).isEqualTo(1);
        assertThat(plan.replicas(B)).isEqualTo(1);
    }

    @Test
    void backendsThatHoldEverythingLeaveThePlanUnrestricted() {
        Fleet fleet = fleet(0);
        traffic(new double[] {0.5, 0.3, 0.2}, 0, 60 * S);
        PlacementPlan plan = planner(fleet).plan(60 * S);
        assertThat(plan.restricted()).isFalse();
        for (Backend b : fleet.all()) {
            for (String m : List.of(A, B, C)) {
                assertThat(plan.planned(b.name(), m)).isTrue();
            }
        }
    }

    @Test
    void aModelWithoutDemandIsNotPlanned() {
        Fleet fleet = fleet(1);
        traffic(new double[] {0.5, 0.3, 0}, 0, 120 * S);
        PlacementPlan plan = planner(fleet).plan(120 * S);
        assertThat(plan.replicas(C)).isZero();
        Map<String, Set<String>> holds = plan.holds();
        assertThat(holds.get("fast")).containsExactly(A);
    }

    @Test
    void theFluidLoadSplitsAModelOverItsHolders() {
        // One model on two equal backends: each gets half; a second model alone on a third backend.
        double u = FluidLoad.utilisation(new double[] {1.0, 0.25}, new double[] {1, 1, 1},
                new boolean[][] {{true, false}, {true, false}, {false, true}});
        assertThat(u).isBetween(0.49, 0.51);
        double crowded = FluidLoad.utilisation(new double[] {1.0, 0.25}, new double[] {1, 1, 1},
                new boolean[][] {{true, true}, {false, false}, {false, false}});
        assertThat(crowded).isBetween(1.24, 1.26);
    }

    /** Two backends for the stretch tests: fast completes 3 units of work per second, slow 1 (three times slower). */
    private static double stretchOnFastAndSlow(double[] demand, boolean[][] holds) {
        return FluidDelay.meanStretch(demand, new double[] {3, 1}, new int[] {2, 2}, new double[] {1, 3},
                new double[] {0, 0}, holds);
    }

    @Test
    void theMeanStretchCountsWorkOnASlowBackendAsSlowWhereTheBusiestUtilisationCannotTell() {
        double[] capacity = {3, 1};
        double[] demand = {0.6, 0.3};
        boolean[][] split = {{true, false}, {false, true}};
        boolean[][] bothOnFast = {{true, true}, {false, false}};
        assertThat(FluidLoad.utilisation(demand, capacity, split))
                .as("0.3 either way: the slow backend's share and the fast one's with both")
                .isCloseTo(FluidLoad.utilisation(demand, capacity, bothOnFast), within(1e-3));
        double slow = stretchOnFastAndSlow(demand, split);
        double fast = stretchOnFastAndSlow(demand, bothOnFast);
        assertThat(fast).isBetween(1.0, 1.2);
        assertThat(slow).as("a third of the work three times slower").isGreaterThan(1.5);
    }

    @Test
    void theMeanStretchSplitsAModelByWhereItsWorkEndsSoonest() {
        boolean[][] both = {{true}, {true}};
        // Light: all of it on the fast backend, as if the slow one were not there.
        assertThat(stretchOnFastAndSlow(new double[] {0.3}, both))
                .isCloseTo(stretchOnFastAndSlow(new double[] {0.3}, new boolean[][] {{true}, {false}}), within(1e-9));
        // More than the fast backend completes: the slow one takes the overflow, and the stretch stays finite and
        // below what the fast backend alone would give.
        double heavy = stretchOnFastAndSlow(new double[] {3.3}, both);
        double alone = stretchOnFastAndSlow(new double[] {3.3}, new boolean[][] {{true}, {false}});
        assertThat(heavy).isLessThan(alone).isGreaterThan(1);
        assertThat(FluidDelay.stretch(0.5, 1)).isCloseTo(2.0, within(1e-9));
        assertThat(FluidDelay.stretch(1.2, 2)).as("continued past saturation, rising")
                .isGreaterThan(FluidDelay.stretch(1.0, 2)).isGreaterThan(FluidDelay.stretch(0.9, 2));
    }

    @Test
    void betweenTwoPlansThatCannotKeepUpTheBusiestUtilisationMustDropAsMuchAsTheStretch() {
        double h = PlacementPlanner.HYSTERESIS;
        // Below saturation the stretch decides: 20 % less stretch for 2 % less utilisation is a change worth making.
        PlacementPlanner.Score working = new PlacementPlanner.Score(0.90, 10);
        assertThat(working.clearlyBeaten(new PlacementPlanner.Score(0.88, 8), h)).isTrue();
        // Past saturation the stretch is a steep extrapolation: the same 20 % is a tiny change of load, not enough.
        PlacementPlanner.Score behind = new PlacementPlanner.Score(1.30, 60);
        assertThat(behind.clearlyBeaten(new PlacementPlanner.Score(1.28, 48), h)).isFalse();
        assertThat(behind.clearlyBeaten(new PlacementPlanner.Score(1.05, 48), h))
                .as("both still behind, but the busiest backend a fifth less loaded").isTrue();
        assertThat(behind.givesWayTo(new PlacementPlanner.Score(0.94, 59))).as("one that keeps up, any gain").isTrue();
    }

    @Test
    void aModelWhoseQueueGrowsIsGivenMoreRoom() {
        // At this light load a second replica would shorten no request by much, so the spare slow backend is not
        // worth a load yet. Then A's queue grows (its requests turn out longer than priced, say): the backlog is
        // demand too, and A gets the spare backend.
        Fleet fleet = fleetWithSpare();
        PlacementPlanner planner = planner(fleet);
        traffic(new double[] {0.5, 0.3, 0.2}, 0, 120 * S);
        PlacementPlan before = planner.plan(120 * S);
        assertThat(before.replicas(A)).isEqualTo(1);
        assertThat(before.holds().get("slow3")).isEmpty();
        traffic(new double[] {0.5, 0.3, 0.2}, 120 * S, 300 * S);
        assertThat(planner.plan(300 * S).holds()).as("no backlog, no change").isEqualTo(before.holds());
        int[] waiting = {600};
        demand.queueDepths(m -> m.equals(A) ? waiting[0] : 0);
        traffic(new double[] {0.5, 0.3, 0.2}, 300 * S, 310 * S);
        PlacementPlan after = planner.plan(310 * S);
        assertThat(after.replicas(A)).isEqualTo(2);
        assertThat(after.planned("fast", A)).isTrue();
        assertThat(after.replicas(B)).isEqualTo(1);
        assertThat(after.replicas(C)).isEqualTo(1);
    }

    /** One backend that holds one model at a time, with A and B installed: the two can only take turns. */
    private Fleet solo() {
        Fleet f = new Fleet(List.of(new BackendConfig("solo", URI.create("http://127.0.0.1:1"), 2, List.of(A, B),
                true, 1, 0)));
        for (int i = 0; i < 20; i++) {
            for (String m : List.of(A, B)) {
                cost.record("solo", m, Fixtures.sample(100, 100, 1000, 50), DecodeShare.constant(1));
            }
        }
        return f;
    }

    /** The one model {@code plan} holds on the solo backend. */
    private static String holder(PlacementPlan plan) {
        assertThat(plan.holds().get("solo")).hasSize(1);
        return plan.holds().get("solo").iterator().next();
    }

    /**
     * Two models that cannot share the only backend: the one in more demand gets it, the other waits (its requests
     * are neither loaded per request nor started where the first is warm); the holder keeps it while its requests
     * wait or run, and passes it on as soon as it has served them. Before, the plan passed the memory back and forth
     * every time it was made (every 2 s, each pass a load: DES on a fleet where two of four models fit only on one
     * backend, 185 s mean at 40 % load, 7.5 s with turns).
     */
    @Test
    void modelsThatCannotShareMemoryTakeTurnsAndTheHolderKeepsItWhileItsRequestsWaitOrRun() {
        Fleet fleet = solo();
        Map<String, Integer> depth = new java.util.HashMap<>(Map.of(A, 3, B, 3));
        Set<String> running = new java.util.HashSet<>();
        demand.queueDepths(m -> depth.getOrDefault(m, 0));
        PlacementPlanner planner = planner(fleet);
        planner.runs((backend, model) -> running.contains(model));
        traffic(new double[] {0.3, 0.2, 0}, 0, 120 * S);
        PlacementPlan first = planner.plan(120 * S);
        assertThat(holder(first)).isEqualTo(A);
        assertThat(first.waits(B)).isTrue();
        assertThat(first.waits(A)).isFalse();
        for (long t = 121; t <= 130; t++) {
            traffic(new double[] {0.3, 0.2, 0}, (t - 1) * S, t * S);
            assertThat(holder(planner.plan(t * S))).as("A's requests wait, at %d s", t).isEqualTo(A);
        }
        depth.put(A, 0);
        running.add(A);
        assertThat(holder(planner.plan(131 * S))).as("A's last requests run").isEqualTo(A);
        running.clear();
        PlacementPlan passed = planner.plan(132 * S);
        assertThat(holder(passed)).as("A has served what waited for it").isEqualTo(B);
        assertThat(passed.waits(A)).isTrue();
        assertThat(passed.waits(B)).isFalse();
        depth.put(A, 1);
        assertThat(holder(planner.plan(133 * S))).as("B's requests wait: A's new one waits its turn").isEqualTo(B);
    }

    /** A holder whose requests never stop waiting keeps the memory for six load times, then passes it on. */
    @Test
    void aTurnEndsAfterSixLoadTimesEvenWhileItsRequestsStillWait() {
        Fleet fleet = solo();
        demand.queueDepths(m -> 5);
        PlacementPlanner planner = planner(fleet);
        traffic(new double[] {0.3, 0.2, 0}, 0, 120 * S);
        assertThat(holder(planner.plan(120 * S))).isEqualTo(A);
        // The load time is the hint's 3 s (no load seen), so a turn lasts 18 s from when the plan gave it.
        assertThat(holder(planner.plan(137 * S))).isEqualTo(A);
        assertThat(holder(planner.plan(138 * S))).isEqualTo(B);
        assertThat(holder(planner.plan(155 * S))).isEqualTo(B);
        assertThat(holder(planner.plan(156 * S))).isEqualTo(A);
    }

    /**
     * Only a model that a single backend can hold takes turns. Three models on two one-model backends that can each
     * hold any of them: none waits (turns there moved the model in most demand off the fast backend for good, in the
     * DES), and requests switch models as they come, as before.
     */
    @Test
    void modelsThatFitOnSeveralBackendsDoNotWaitForATurn() {
        List<BackendConfig> configs = new ArrayList<>();
        for (String name : List.of("x", "y")) {
            configs.add(new BackendConfig(name, URI.create("http://127.0.0.1:1"), 2, List.of(A, B, C), true, 1, 0));
            for (int i = 0; i < 20; i++) {
                for (String m : List.of(A, B, C)) {
                    cost.record(name, m, Fixtures.sample(100, 100, 1000, 50), DecodeShare.constant(1));
                }
            }
        }
        Fleet fleet = new Fleet(configs);
        demand.queueDepths(m -> 3);
        traffic(new double[] {0.3, 0.2, 0.1}, 0, 120 * S);
        PlacementPlan plan = planner(fleet).plan(120 * S);
        assertThat(plan.restricted()).isTrue();
        assertThat(plan.waiting()).isEmpty();
    }

    /**
     * Where a load costs less than two requests' work, models do not take turns: none waits, and requests switch the
     * backend's model as they come (turns held them back for longer than the loads they saved: DES, five models on
     * three one-model backends with 1 s loads).
     */
    @Test
    void whereALoadCostsLessThanTwoRequestsNoModelWaitsForATurn() {
        Fleet fleet = solo();
        // Requests of 2 s each against the hint's 3 s load.
        ModelDemand heavy = new ModelDemand(60 * S, (model, prompt, output) -> 2 * S);
        heavy.queueDepths(m -> 3);
        for (long t = 0; t < 120 * S; t += S) {
            heavy.arrived(A, 100, 1, t);
            if (t % (2 * S) == 0) {
                heavy.arrived(B, 100, 1, t);
            }
        }
        PlacementPlanner planner = new PlacementPlanner(heavy, cost, 2 * S);
        planner.backends(fleet::all);
        PlacementPlan plan = planner.plan(120 * S);
        assertThat(plan.restricted()).isTrue();
        assertThat(plan.waiting()).isEmpty();
    }

    @Test
    void aBackendsBusySlotsAreSharedAmongItsModelsByTheirRates() {
        assertThat(PlacementPlanner.running(3, new boolean[] {true, true, false}, new double[] {2, 1, 5}))
                .containsExactly(2, 1, 0);
        assertThat(PlacementPlanner.running(2, new boolean[] {false, true, false}, new double[] {2, 1, 5}))
                .containsExactly(0, 2, 0);
        assertThat(PlacementPlanner.running(4, new boolean[] {true, false, true}, new double[] {0, 1, 3}))
                .containsExactly(0, 0, 4);
        assertThat(PlacementPlanner.running(2, new boolean[] {true, false, false}, new double[] {0, 1, 3}))
                .containsExactly(0, 0, 0);
    }
}

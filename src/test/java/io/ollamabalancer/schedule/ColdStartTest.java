package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.config.BackendConfig;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** What a cold start costs on a backend whose memory is full: the victims, the wait for them, the penalty. */
class ColdStartTest {
    private static final String A = "a:latest";
    private static final String B = "b:latest";
    private static final long S = 1_000_000_000L;

    private final Fixtures.Clock clock = new Fixtures.Clock();

    private Fleet fleet(int maxLoadedModels) {
        Fleet f = new Fleet(List.of(
                new BackendConfig("one", URI.create("http://127.0.0.1:1"), 2, List.of(A, B), true, maxLoadedModels, 0),
                new BackendConfig("two", URI.create("http://127.0.0.1:2"), 2, List.of(A, B), true, maxLoadedModels,
                        0)));
        f.all().get(0).updateLoaded(Set.of(A));
        f.all().get(1).updateLoaded(Set.of(B));
        return f;
    }

    private static Backend one(Fleet f) {
        return f.all().get(0);
    }

    @Test
    void loadingBesideAModelThatFitsCostsNothingMore() {
        Fleet fleet = fleet(2);
        Scheduling s = Fixtures.scheduling(fleet, "eft", SchedulerSettings.defaults(), clock);
        ColdStart c = s.predictor().coldStart(one(fleet), B, clock.getAsLong(), 1, PlacementPlan.unrestricted(), null);
        assertThat(c.victims()).isEmpty();
        assertThat(c.waitNanos()).isZero();
        assertThat(c.penaltyNanos()).isZero();
    }

    @Test
    void evictingAnIdleModelNobodyAsksForIsCheap() {
        Fleet fleet = fleet(1);
        Scheduling s = Fixtures.scheduling(fleet, "eft", SchedulerSettings.defaults(), clock);
        ColdStart c = s.predictor().coldStart(one(fleet), B, clock.getAsLong(), 1, PlacementPlan.unrestricted(), null);
        assertThat(c.victims()).containsExactly(A);
        assertThat(c.waitNanos()).isZero();
        assertThat(c.penaltyNanos()).isZero();
    }

    @Test
    void evictingAModelInDemandCostsItsComingRequestsALoadEach() {
        Fleet fleet = fleet(1);
        Scheduling s = Fixtures.scheduling(fleet, "eft", SchedulerSettings.defaults(), clock);
        Predictor p = s.predictor();
        long now = clock.getAsLong();
        // One request of A per second for two minutes.
        for (int i = 0; i < 120; i++) {
            p.demand().arrived(A, 100, 1, now - (120 - i) * S);
        }
        long load = p.costModel().speeds("one", A).loadNanos();
        ColdStart c = p.coldStart(one(fleet), B, now, 1, PlacementPlan.unrestricted(), null);
        assertThat(c.victims()).containsExactly(A);
        double rate = p.demand().rate(A, now);
        assertThat(rate).isBetween(0.5, 1.5);
        // A is warm nowhere else, so all of its next load-time's arrivals wait one load longer.
        assertThat(c.penaltyNanos()).isCloseTo(rate * load / 1e9 * load, org.assertj.core.data.Percentage.withPercentage(1));
        // Where A is warm on the other backend too, only this backend's share of A's capacity is lost.
        fleet.all().get(1).updateLoaded(Set.of(A));
        ColdStart shared = p.coldStart(one(fleet), B, now, 1, PlacementPlan.unrestricted(), null);
        assertThat(shared.penaltyNanos()).isCloseTo(c.penaltyNanos() / 2, org.assertj.core.data.Percentage.withPercentage(1));
    }

    @Test
    void aBusyVictimIsWaitedFor() {
        Fleet fleet = fleet(1);
        Scheduling s = Fixtures.scheduling(fleet, "eft", SchedulerSettings.defaults(), clock);
        Fixtures.Target t = new Fixtures.Target();
        PendingRequest running = Fixtures.pending(Fixtures.generate(A, 40, 500), 0, clock.getAsLong(), t);
        s.estimate(running, null);
        s.scheduler().submit(running);
        assertThat(t.backend().name()).isEqualTo("one");
        ColdStart c = s.predictor().coldStart(one(fleet), B, clock.getAsLong(), 1, PlacementPlan.unrestricted(),
                null);
        assertThat(c.victims()).containsExactly(A);
        assertThat(c.waitNanos()).isPositive();
        s.scheduler().complete(running, t.backend(), null);
        ColdStart after = s.predictor().coldStart(one(fleet), B, clock.getAsLong(), 1, PlacementPlan.unrestricted(),
                null);
        assertThat(after.waitNanos()).isZero();
    }

    /**
     * Three long B requests, submitted at once; A (warm on "one", idle) is asked {@code aPerSecond} times a second.
     * Returns where each B went (null: still waiting).
     */
    private List<String> placeB(double aPerSecond) {
        Fleet fleet = fleet(1);
        Scheduling s = Fixtures.scheduling(fleet, "eft", SchedulerSettings.defaults(), clock);
        long now = clock.getAsLong();
        for (int i = 0; i < 120 * aPerSecond; i++) {
            s.predictor().demand().arrived(A, 100, 1, now - 120 * S + (long) (i / aPerSecond * S));
        }
        List<String> where = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Fixtures.Target t = new Fixtures.Target();
            PendingRequest r = Fixtures.pending(Fixtures.generate(B, 40, 300), 0, clock.getAsLong(), t);
            s.estimate(r, null);
            s.scheduler().submit(r);
            where.add(t.backend() == null ? null : t.backend().name());
        }
        return where;
    }

    @Test
    void eftEvictsAModelNobodyAsksForRatherThanWait() {
        // Default hints: a 3 s load, 30 tokens/s, two streams share a backend's decoder. A second B request
        // finishes sooner loading B on "one" than sharing "two".
        assertThat(placeB(0)).containsExactly("two", "one", "one");
    }

    @Test
    void eftKeepsAModelInDemandAndWaitsForTheBackendWarmForItsOwn() {
        // Three A requests a second would each wait a load longer if "one" gave A up: B stays on "two".
        assertThat(placeB(3)).containsExactly("two", "two", null);
    }

    @Test
    void aWarmModelThePlanMovesElsewhereYieldsItsBackendToThePlannedOne() {
        // "one" holds A, "two" holds B; the plan swaps them. Neither planned model fits beside what is resident.
        Fleet fleet = fleet(1);
        Scheduling s = Fixtures.scheduling(fleet, "eft", SchedulerSettings.defaults(), clock);
        Predictor p = s.predictor();
        long now = clock.getAsLong();
        PlacementPlan swap = new PlacementPlan(java.util.Map.of("one", Set.of(B), "two", Set.of(A)), 0.5, true, now);
        assertThat(p.yields(one(fleet), A, swap)).isTrue();
        assertThat(p.yields(fleet.all().get(1), B, swap)).isTrue();
        // Not while the plan keeps A here, nor without a plan, nor where the planned model fits beside A.
        PlacementPlan keep = new PlacementPlan(java.util.Map.of("one", Set.of(A), "two", Set.of(B)), 0.5, true, now);
        assertThat(p.yields(one(fleet), A, keep)).isFalse();
        assertThat(p.yields(one(fleet), A, PlacementPlan.unrestricted())).isFalse();
        Fleet roomy = fleet(2);
        assertThat(Fixtures.scheduling(roomy, "eft", SchedulerSettings.defaults(), clock).predictor()
                .yields(one(roomy), A, swap)).isFalse();
        // Nor when the plan has A nowhere (its requests would have no planned home to go to).
        PlacementPlan orphan = new PlacementPlan(java.util.Map.of("one", Set.of(B), "two", Set.of(B)), 0.5, true, now);
        assertThat(p.yields(one(fleet), A, orphan)).isFalse();
        // Unless A waits for its turn: then its requests wait, so that B can load and serve its own.
        PlacementPlan turn = new PlacementPlan(java.util.Map.of("one", Set.of(B), "two", Set.of(B)), 0.5, true, now,
                Set.of(A));
        assertThat(p.yields(one(fleet), A, turn)).isTrue();
    }

    @Test
    void aPreloadMayEvictAnIdleModelThePlanMovedAwayBesideOneItKeeps() {
        // "one" holds A and C and holds two models at most; the plan keeps A there, wants B beside it, and has C on
        // "two". Loading B evicts C: safe while C is idle, though A, B and C together never fit.
        String c = "c:latest";
        Fleet fleet = new Fleet(List.of(
                new BackendConfig("one", URI.create("http://127.0.0.1:1"), 2, List.of(A, B, c), true, 2, 0),
                new BackendConfig("two", URI.create("http://127.0.0.1:2"), 2, List.of(A, B, c), true, 2, 0)));
        Backend one = one(fleet);
        one.updateLoaded(Set.of(A, c));
        fleet.all().get(1).updateLoaded(Set.of(c));
        Scheduling s = Fixtures.scheduling(fleet, "eft", SchedulerSettings.defaults(), clock);
        useOnce(s, one, A);
        long now = clock.getAsLong();
        PlacementPlan plan = new PlacementPlan(java.util.Map.of("one", Set.of(A, B), "two", Set.of(c)), 0.5, true, now);
        assertThat(s.scheduler().preloadIsSafe(one, B, plan, now, 1)).isTrue();
        // Not when the plan keeps C here too, nor when the backend's limit was never configured nor seen.
        PlacementPlan keepsC = new PlacementPlan(java.util.Map.of("one", Set.of(A, B, c), "two", Set.of(c)), 0.5,
                true, now);
        assertThat(s.scheduler().preloadIsSafe(one, B, keepsC, now, 1)).isFalse();
        Fleet unknown = new Fleet(List.of(
                new BackendConfig("one", URI.create("http://127.0.0.1:1"), 2, List.of(A, B, c), true, 0, 0)));
        Backend u = unknown.all().get(0);
        u.updateLoaded(Set.of(A, c));
        Scheduling su = Fixtures.scheduling(unknown, "eft", SchedulerSettings.defaults(), clock);
        useOnce(su, u, A);
        assertThat(su.scheduler().preloadIsSafe(u, B, plan, now, 1)).isFalse();
    }

    /** One request for {@code model} served on {@code b}: the model is the one most recently used there. */
    private void useOnce(Scheduling s, Backend b, String model) {
        Fixtures.Target t = new Fixtures.Target();
        PendingRequest r = Fixtures.pending(Fixtures.generate(model, 100, 10), 0, clock.getAsLong(), t);
        s.scheduler().submit(r);
        assertThat(t.backend()).isSameAs(b);
        clock.advanceMillis(100);
        s.scheduler().complete(r, b, Fixtures.sample(25, 10, 1000, 100));
    }
}

package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.estimate.DecodeShare;
import io.ollamabalancer.request.InferenceRequest;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import static io.ollamabalancer.schedule.Fixtures.MODEL;
import static org.assertj.core.api.Assertions.assertThat;

class EftPolicyTest {
    private final Fixtures.Clock clock = new Fixtures.Clock();

    private Scheduling scheduling(Fleet fleet, SchedulerSettings settings) {
        return Fixtures.scheduling(fleet, "eft", settings, clock);
    }

    /** Teaches the cost model a backend's speeds for {@link Fixtures#MODEL}. */
    private static void train(Scheduling s, String backend, double prefillTps, double decodeTps) {
        for (int i = 0; i < 20; i++) {
            s.costModel().record(backend, MODEL, Fixtures.sample(500, 100, prefillTps, decodeTps),
                    DecodeShare.constant(1));
        }
    }

    private PendingRequest submit(Scheduling s, InferenceRequest r, Fixtures.Target t) {
        PendingRequest p = Fixtures.pending(r, 0, clock.getAsLong(), t);
        s.estimate(p, null);
        s.scheduler().submit(p);
        return p;
    }

    private PendingRequest submit(Scheduling s, int cap, Fixtures.Target t) {
        return submit(s, Fixtures.generate(MODEL, 40, cap), t);
    }

    @Test
    void anIdleFastBackendIsPreferred() {
        Fleet fleet = Fixtures.fleet("slow:1:" + MODEL, "fast:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults());
        train(s, "fast", 3000, 300);
        train(s, "slow", 300, 30);
        for (int i = 0; i < 4; i++) {
            Fixtures.Target t = new Fixtures.Target();
            PendingRequest p = submit(s, 100, t);
            assertThat(t.backend().name()).isEqualTo("fast");
            s.scheduler().complete(p, t.backend(), Fixtures.sample(20, 100, 3000, 300));
        }
    }

    @Test
    void waitsForAFastBusyBackendWhenThatFinishesSooner() {
        Fleet fleet = Fixtures.fleet("slow:1:" + MODEL, "fast:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults());
        train(s, "fast", 3000, 300);
        train(s, "slow", 300, 30);
        Fixtures.Target first = new Fixtures.Target();
        PendingRequest running = submit(s, 10, first);
        assertThat(first.backend().name()).isEqualTo("fast");
        Fixtures.Target second = new Fixtures.Target();
        submit(s, 100, second);
        s.scheduler().sweep();
        assertThat(second.dispatched).isEmpty();
        assertThat(fleet.byName("slow").slotsInUse()).isZero();
        s.scheduler().complete(running, fleet.byName("fast"), Fixtures.sample(20, 10, 3000, 300));
        assertThat(second.backend().name()).isEqualTo("fast");
    }

    @Test
    void takesTheSlowIdleBackendWhenTheFastOneIsBusyTooLong() {
        Fleet fleet = Fixtures.fleet("slow:1:" + MODEL, "fast:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults());
        train(s, "fast", 3000, 300);
        train(s, "slow", 300, 30);
        Fixtures.Target first = new Fixtures.Target();
        submit(s, -1, first);
        assertThat(first.backend().name()).isEqualTo("fast");
        Fixtures.Target second = new Fixtures.Target();
        submit(s, 5, second);
        assertThat(second.backend().name()).isEqualTo("slow");
    }

    @Test
    void aSpeedAdvantageThatRestsOnOneResponseIsNotWaitedFor() {
        Scheduling s = oneSlotEachOnAAndB();
        // One response at 10 tokens/s: a's figure is shrunk toward the hint (30), b borrows the 10 as it is, so a
        // looks 1.7 times as fast as b on the strength of one response from the same hardware.
        s.costModel().record("a", MODEL, Fixtures.sample(500, 100, 1000, 10), DecodeShare.constant(1));
        assertThat(s.costModel().speeds("a", MODEL).decodeTps() / s.costModel().speeds("b", MODEL).decodeTps())
                .isGreaterThan(1.5);
        Fixtures.Target second = afterAShortJobOnA(s);
        // waiting for a would save about three fifths of the job by those figures: not trusted yet
        assertThat(second.dispatched).isNotEmpty();
        assertThat(second.backend().name()).isEqualTo("b");
    }

    @Test
    void theSameAdvantageLearnedFromManyResponsesIsWaitedFor() {
        Scheduling s = oneSlotEachOnAAndB();
        train(s, "a", 1000, 17);
        train(s, "b", 1000, 10);
        assertThat(afterAShortJobOnA(s).dispatched).isEmpty();
    }

    /** Backends a and b with one slot each, nothing learned, default settings. */
    private Scheduling oneSlotEachOnAAndB() {
        return scheduling(Fixtures.fleet("a:1:" + MODEL, "b:1:" + MODEL), SchedulerSettings.defaults());
    }

    /** A short job that goes to a, then a longer one: returned, placed or waiting. */
    private Fixtures.Target afterAShortJobOnA(Scheduling s) {
        Fixtures.Target first = new Fixtures.Target();
        submit(s, 10, first);
        assertThat(first.backend().name()).isEqualTo("a");
        Fixtures.Target second = new Fixtures.Target();
        submit(s, 100, second);
        return second;
    }

    @Test
    void aLaterRequestTakesAnIdleBackendTheHeadIsNotWaitingFor() {
        Fleet fleet = Fixtures.fleet("slow:1:" + MODEL, "fast:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults().withOrder(QueueOrder.FIFO, 0));
        train(s, "fast", 3000, 300);
        train(s, "slow", 300, 30);
        submit(s, 10, new Fixtures.Target());
        Fixtures.Target head = new Fixtures.Target();
        submit(s, 100, head);
        Fixtures.Target small = new Fixtures.Target();
        submit(s, 3, small);
        assertThat(head.dispatched).isEmpty();
        assertThat(small.backend().name()).isEqualTo("slow");
    }

    @Test
    void aColdBackendPaysTheLoadTime() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL, "b:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults());
        train(s, "a", 3000, 100);
        train(s, "b", 3000, 100);
        Backend b = fleet.byName("b");
        b.updateLoaded(Set.of());
        Fixtures.Target first = new Fixtures.Target();
        submit(s, 10, first);
        assertThat(first.backend().name()).isEqualTo("a");
        Fixtures.Target second = new Fixtures.Target();
        submit(s, 10, second);
        assertThat(second.dispatched).as("3 s load on b vs 0.1 s more on a").isEmpty();
        b.updateLoaded(Set.of(MODEL));
        s.scheduler().drainAll();
        assertThat(second.backend()).isSameAs(b);
        assertThat(second.dispatched).hasSize(1);
    }

    @Test
    void otherRunnerOptionsMeanAReload() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL, "b:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults());
        train(s, "a", 3000, 100);
        train(s, "b", 3000, 100);
        InferenceRequest big = new InferenceRequest(MODEL, true, 10, null, "x".repeat(40), 0, 0, "num_ctx=8192",
                false, 0);
        Fixtures.Target first = new Fixtures.Target();
        PendingRequest p = submit(s, big, first);
        Backend home = first.backend();
        assertThat(p.prediction().coldLoad()).isTrue();
        s.scheduler().complete(p, home, Fixtures.sample(20, 10, 3000, 100));
        for (int i = 0; i < 3; i++) {
            Fixtures.Target t = new Fixtures.Target();
            PendingRequest q = submit(s, big, t);
            assertThat(t.backend()).isSameAs(home);
            assertThat(q.prediction().coldLoad()).isFalse();
            s.scheduler().complete(q, home, Fixtures.sample(20, 10, 3000, 100));
        }
        Fixtures.Target plain = new Fixtures.Target();
        submit(s, 10, plain);
        assertThat(plain.backend()).isNotSameAs(home);
    }

    @Test
    void aChatGoesWhereItsPrefixWasServedWhenThatIsWithinTheMargin() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL, "b:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults().withAffinity(0.25, Duration.ofMinutes(5)));
        train(s, "a", 3000, 100);
        train(s, "b", 3000, 110);
        Set<String> withPrefix = new HashSet<>();
        Set<String> withoutPrefix = new HashSet<>();
        for (int i = 0; i < 6; i++) {
            Fixtures.Target t = new Fixtures.Target();
            PendingRequest p = submit(s, Fixtures.chat(MODEL, "hello there " + i, 3, 77), t);
            withPrefix.add(t.backend().name());
            s.scheduler().complete(p, t.backend(), Fixtures.sample(20, 100, 3000, 100));
            Fixtures.Target u = new Fixtures.Target();
            fleet.byName("b").tryAcquireSlot();
            PendingRequest q = submit(s, Fixtures.chat(MODEL, "hello there " + i, 3, 0), u);
            fleet.byName("b").releaseSlot();
            withoutPrefix.add(u.backend().name());
            s.scheduler().complete(q, u.backend(), Fixtures.sample(20, 100, 3000, 100));
        }
        assertThat(withPrefix).hasSize(1);
        assertThat(withoutPrefix).containsExactly("a");
    }

    @Test
    void prefixAffinityGivesWayBeyondTheMargin() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL, "b:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults().withAffinity(0.25, Duration.ofMinutes(5)));
        train(s, "a", 3000, 100);
        train(s, "b", 3000, 300);
        fleet.byName("b").draining(true);
        Fixtures.Target first = new Fixtures.Target();
        PendingRequest p = submit(s, Fixtures.chat(MODEL, "hi", 3, 77), first);
        assertThat(first.backend().name()).isEqualTo("a");
        s.scheduler().complete(p, first.backend(), Fixtures.sample(20, 100, 3000, 100));
        fleet.byName("b").draining(false);
        Fixtures.Target next = new Fixtures.Target();
        submit(s, Fixtures.chat(MODEL, "hi again", 3, 77), next);
        assertThat(next.backend().name()).isEqualTo("b");
    }

    @Test
    void equalBackendsNeverWaitWhileASlotIsFree() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL, "b:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults());
        train(s, "a", 3000, 100);
        train(s, "b", 3000, 100);
        Fixtures.Target first = new Fixtures.Target();
        submit(s, 1, first);
        Fixtures.Target second = new Fixtures.Target();
        submit(s, 500, second);
        assertThat(second.backend()).isNotNull().isNotSameAs(first.backend());
    }

    /** Teaches a heavy-tailed output length distribution (log-normal, median 100, σ 2). */
    private static void heavyTail(Scheduling s) {
        java.util.Random rnd = new java.util.Random(5);
        io.ollamabalancer.estimate.RequestEstimate any = new io.ollamabalancer.estimate.RequestEstimate(20, 100);
        for (int i = 0; i < 500; i++) {
            long n = Math.max(1, Math.round(100 * Math.exp(2 * rnd.nextGaussian())));
            s.estimator().learn(MODEL, any, new io.ollamabalancer.estimate.TimingSample(20, 1, n, 1, 0, 1));
        }
    }

    /** Starts an uncapped job on fast and lets it run half its generic (mean-length) time. */
    private PendingRequest halfwayOnFast(Scheduling s, Fleet fleet) {
        Fixtures.Target t = new Fixtures.Target();
        PendingRequest p = submit(s, -1, t);
        assertThat(t.backend().name()).isEqualTo("fast");
        clock.advanceNanos(s.predictor().running(fleet.byName("fast")).get(0).genericNanos() / 2);
        return p;
    }

    /**
     * Fast is 3× slow, lengths are heavy-tailed, and fast runs a job half-way through the model's mean length.
     * Trusting the learned distribution, that job is likely a long one (the conditional remaining time is large),
     * so the next request starts on the idle slow backend. After many jobs that all took exactly the mean time
     * (the conditional predictions were far off, the memoryless ones right), confidence drops and the policy
     * decides as shortest-expected-delay does: fast will be free after one mean job, so the request waits for it.
     */
    @Test
    void fallsBackTowardsShortestExpectedDelayWhenPredictionsArePoor() {
        Fleet trusting = Fixtures.fleet("slow:1:" + MODEL, "fast:1:" + MODEL);
        Scheduling good = scheduling(trusting, SchedulerSettings.defaults());
        train(good, "fast", 3000, 90);
        train(good, "slow", 3000, 30);
        heavyTail(good);
        halfwayOnFast(good, trusting);
        Fixtures.Target next = new Fixtures.Target();
        submit(good, -1, next);
        assertThat(good.predictor().confidence()).isGreaterThan(0.7);
        assertThat(next.backend()).as("trusted: the running job is probably long").isNotNull();
        assertThat(next.backend().name()).isEqualTo("slow");

        Fleet doubting = Fixtures.fleet("slow:1:" + MODEL, "fast:1:" + MODEL);
        Scheduling poor = scheduling(doubting, SchedulerSettings.defaults());
        train(poor, "fast", 3000, 90);
        train(poor, "slow", 3000, 30);
        heavyTail(poor);
        Backend fast = doubting.byName("fast");
        for (int i = 0; i < 60; i++) {
            Fixtures.Target t = new Fixtures.Target();
            PendingRequest p = submit(poor, -1, t);
            RunningJob job = poor.predictor().running(t.backend()).get(0);
            clock.advanceNanos(job.genericNanos());
            long tokens = Math.round((job.genericNanos() - job.upfrontNanos()) * 90 / 1e9);
            poor.scheduler().complete(p, t.backend(), Fixtures.sample(20, tokens, 3000, 90));
        }
        assertThat(poor.predictor().confidence()).isLessThan(0.25);
        halfwayOnFast(poor, doubting);
        Fixtures.Target waiting = new Fixtures.Target();
        submit(poor, -1, waiting);
        assertThat(waiting.dispatched).as("poor predictions: wait for fast, as SED would").isEmpty();
        assertThat(doubting.byName("slow").slotsInUse()).isZero();
        assertThat(fast.slotsInUse()).isEqualTo(1);
    }

    private static PendingRequest pendingOn(Scheduling s, Backend b) {
        return s.predictor().running(b).get(0).request();
    }

    /** {@code fleet}'s backend "big" (8 slots) trained, then running 5 requests of varied length. */
    private Scheduling fiveOfEightBusy(Fleet fleet) {
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults());
        train(s, "big", 3000, 300);
        for (int i = 0; i < 5; i++) {
            submit(s, 100 + 50 * i, new Fixtures.Target());
        }
        return s;
    }

    @Test
    void slotFreeTimesSkipPredictingBusySlotsAPlanCannotReach() {
        Fleet fleet = Fixtures.fleet("big:8:" + MODEL);
        Scheduling s = fiveOfEightBusy(fleet);
        Backend big = fleet.byName("big");
        assertThat(big.slotsInUse()).isEqualTo(5);
        Predictor p = s.predictor();
        long now = clock.getAsLong();
        // 3 idle slots: a plan placing at most 2 requests never leaves them, so the 5 busy ones are only counted.
        assertThat(p.slotFreeTimes(big, now, 1.0, 1L, 3)).containsExactly(0, 0, 0, Long.MAX_VALUE, Long.MAX_VALUE,
                Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE);
        // Looking further than the idle slots: every busy slot gets its predicted end, ascending.
        long[] all = p.slotFreeTimes(big, now, 1.0, 1L, 4);
        assertThat(all).hasSize(8).startsWith(0, 0, 0);
        for (int i = 3; i < all.length; i++) {
            assertThat(all[i]).isPositive().isLessThan(Long.MAX_VALUE);
            if (i > 3) {
                assertThat(all[i]).isGreaterThanOrEqualTo(all[i - 1]);
            }
        }
    }

    @Test
    void thePlansForecastListsOneBusySlotForAllThoseOnlyCountedAndCountsTheRestAsStreams() {
        Fleet fleet = Fixtures.fleet("big:8:" + MODEL);
        Scheduling s = fiveOfEightBusy(fleet);
        Backend big = fleet.byName("big");
        Predictor p = s.predictor();
        long now = clock.getAsLong();
        PendingRequest like = pendingOn(s, big);
        SlotForecast compact = p.slotForecast(big, now, 1.0, like, 3);
        assertThat(compact.times()).containsExactly(0, 0, 0, Long.MAX_VALUE);
        assertThat(compact.unlisted()).isEqualTo(4);
        assertThat(compact.countedOnly()).isTrue();
        long[] listed = p.slotFreeTimes(big, now, 1.0, 1L, 3);
        for (long start : new long[] {0, 1, 1_000_000_000L}) {
            int streams = 1;
            for (long t : listed) {
                streams += t > start ? 1 : 0;
            }
            assertThat(compact.streamsAt(start)).as("streams at %d", start).isEqualTo(streams).isEqualTo(6);
        }
        // Every busy slot predicted: the same times as the long form, nothing unlisted.
        SlotForecast full = p.slotForecast(big, now, 1.0, like, Integer.MAX_VALUE);
        assertThat(full.unlisted()).isZero();
        assertThat(full.countedOnly()).isFalse();
        assertThat(full.times()).containsExactly(p.slotFreeTimes(big, now, 1.0, 1L, Integer.MAX_VALUE));
    }

    @Test
    void aFullBackendsBoundIsNoLaterThanItsEarliestFinishAndUnknownWhereASlotsJobIsUnknown() {
        Fleet fleet = Fixtures.fleet("big:5:" + MODEL);
        Scheduling s = fiveOfEightBusy(fleet);
        Backend big = fleet.byName("big");
        assertThat(big.hasFreeSlot()).isFalse();
        Predictor p = s.predictor();
        long now = clock.getAsLong();
        for (int cap : new int[] {10, 100, 1000}) {
            PendingRequest r = Fixtures.pending(Fixtures.generate(MODEL, 40, cap), 0, now, new Fixtures.Target());
            s.estimate(r, null);
            double output = p.expectedOutput(r, p.confidence());
            long alone = Predictor.serviceNanos(p.speeds(big, r), r, 5, false, output);
            if (cap == 10) {
                // No forecast of big yet, so no floor: the bound is the service beside the five.
                assertThat(p.busyFinishBound(big, p.speeds(big, r), r, output, now)).isEqualTo(alone);
            }
            SlotForecast f = p.slotForecast(big, now, p.confidence(), r, 1);
            long start = f.times()[0];
            long earliest = start + Predictor.serviceNanos(p.speeds(big, r), r, f.streamsAt(start), false, output);
            // The full forecast left a floor: the bound now waits for the earliest end, and never passes it.
            long bound = p.busyFinishBound(big, p.speeds(big, r), r, output, now);
            assertThat(bound).as("cap %d", cap).isGreaterThan(alone).isLessThanOrEqualTo(earliest);
        }
        // Once the floor has passed, the bound is the service again.
        clock.advanceMillis(3_600_000);
        PendingRequest later = Fixtures.pending(Fixtures.generate(MODEL, 40, 10), 0, clock.getAsLong(),
                new Fixtures.Target());
        s.estimate(later, null);
        double out = p.expectedOutput(later, p.confidence());
        assertThat(p.busyFinishBound(big, p.speeds(big, later), later, out, clock.getAsLong()))
                .isEqualTo(Predictor.serviceNanos(p.speeds(big, later), later, 5, false, out));
        // A sixth slot taken without a job in the ledger (a dispatch in flight): no bound.
        Fleet wider = Fixtures.fleet("big:6:" + MODEL);
        Scheduling t = fiveOfEightBusy(wider);
        Backend big6 = wider.byName("big");
        assertThat(big6.tryAcquireSlot()).isTrue();
        PendingRequest r = pendingOn(t, big6);
        assertThat(t.predictor().busyFinishBound(big6, t.predictor().speeds(big6, r), r, 100, now)).isZero();
    }
}

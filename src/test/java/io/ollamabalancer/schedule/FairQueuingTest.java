package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.estimate.TimingSample;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.ollamabalancer.schedule.Fixtures.MODEL;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fair share between API keys within one priority ({@link FairQueuing} through the {@link Scheduler}): one backend
 * with one slot, so the dispatch order is the queue order.
 */
class FairQueuingTest {
    private static final ShareFlow HEAVY = new ShareFlow("heavy", 1);
    private static final ShareFlow LIGHT = new ShareFlow("light", 1);
    private static final ShareFlow BATCH = new ShareFlow("batch", 0.2);

    private final Fixtures.Clock clock = new Fixtures.Clock();
    private final List<PendingRequest> served = new ArrayList<>();
    private Scheduling scheduling;
    private Backend backend;

    private void start(SchedulerSettings settings) {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL);
        backend = fleet.byName("a");
        scheduling = Fixtures.scheduling(fleet, "eft", settings, clock);
        submit(ShareFlow.DEFAULT, 40, 5); // occupies the slot while the test fills the queue
        assertThat(served).hasSize(1);
    }

    @AfterEach
    void close() {
        if (scheduling != null) {
            scheduling.close();
        }
    }

    private PendingRequest submit(ShareFlow flow, int promptChars, int cap) {
        PendingRequest[] self = new PendingRequest[1];
        PendingRequest p = Fixtures.pending(Fixtures.generate(MODEL, promptChars, cap), 0, clock.getAsLong(),
                new DispatchTarget() {
                    @Override
                    public void dispatch(Backend b) {
                        served.add(self[0]);
                    }

                    @Override
                    public void reject(int status, String message, long retryAfterSeconds) {
                        throw new AssertionError("rejected " + status + " " + message);
                    }
                });
        self[0] = p;
        p.shareFlow(flow);
        scheduling.estimate(p, null);
        scheduling.scheduler().submit(p);
        return p;
    }

    private List<PendingRequest> submitMany(ShareFlow flow, int n, int promptChars, int cap) {
        List<PendingRequest> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(submit(flow, promptChars, cap));
        }
        return out;
    }

    /**
     * Runs the running request for its expected time and completes it, {@code n} times; returns what was dispatched
     * meanwhile, in order.
     */
    private List<PendingRequest> serve(int n) {
        int from = served.size();
        for (int i = 0; i < n; i++) {
            PendingRequest running = served.get(served.size() - 1);
            clock.advanceNanos(running.referenceWorkNanos());
            // An empty sample teaches the predictor nothing, so every request keeps the cost it was tagged with.
            scheduling.scheduler().complete(running, backend, TimingSample.EMPTY);
        }
        return new ArrayList<>(served.subList(from, served.size()));
    }

    private static long count(List<PendingRequest> rs, ShareFlow flow) {
        return rs.stream().filter(r -> r.shareFlow().equals(flow)).count();
    }

    private static long work(List<PendingRequest> rs, ShareFlow flow) {
        return rs.stream().filter(r -> r.shareFlow().equals(flow)).mapToLong(PendingRequest::referenceWorkNanos)
                .sum();
    }

    @Test
    void backloggedKeysAreServedInProportionToTheirWeights() {
        start(SchedulerSettings.defaults().withFairShare(true));
        for (int i = 0; i < 30; i++) {
            submit(HEAVY, 40, 5);
            submit(BATCH, 40, 5);
        }
        List<PendingRequest> first = serve(24);
        assertThat(count(first, HEAVY)).as("weight 1 against 0.2: five to one").isBetween(19L, 21L);
        assertThat(count(first, BATCH)).isBetween(3L, 5L);
    }

    @Test
    void withFairShareOffTheSameQueueIsServedInArrivalOrder() {
        start(SchedulerSettings.defaults().withFairShare(false));
        for (int i = 0; i < 30; i++) {
            submit(HEAVY, 40, 5);
            submit(BATCH, 40, 5);
        }
        List<PendingRequest> first = serve(24);
        assertThat(count(first, HEAVY)).isEqualTo(12);
        assertThat(count(first, BATCH)).isEqualTo(12);
    }

    @Test
    void sharesAreCountedInExpectedWorkNotInRequests() {
        start(SchedulerSettings.defaults().withFairShare(true).withOrder(QueueOrder.FIFO, 0));
        List<PendingRequest> big = new ArrayList<>();
        List<PendingRequest> small = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            big.add(submit(HEAVY, 4000, 400));
            small.addAll(submitMany(LIGHT, 4, 40, 50));
        }
        long bigCost = big.get(0).referenceWorkNanos();
        long smallCost = small.get(0).referenceWorkNanos();
        assertThat(bigCost).as("the test needs requests of very different cost").isGreaterThan(4 * smallCost);

        List<PendingRequest> first = serve(40);
        assertThat(count(first, LIGHT)).as("more cheap requests than expensive ones")
                .isGreaterThan(3 * count(first, HEAVY));
        // Equal weights, equal work: within one expensive request where the run is cut, and one more for the first
        // expensive request, tagged while its key was the only one waiting.
        assertThat(Math.abs(work(first, HEAVY) - work(first, LIGHT))).as("about equal work for equal weights")
                .isLessThanOrEqualTo(2 * bigCost + smallCost);
    }

    @Test
    void aKeyThatFloodsTheQueueDelaysItselfNotOthers() {
        start(SchedulerSettings.defaults().withFairShare(true));
        submitMany(HEAVY, 50, 40, 5);
        PendingRequest light = submit(LIGHT, 40, 5);
        assertThat(serve(2)).as("the light key's request goes next to the head, not behind the flood")
                .contains(light);
    }

    @Test
    void withFairShareOffTheFloodGoesFirst() {
        start(SchedulerSettings.defaults().withFairShare(false));
        submitMany(HEAVY, 50, 40, 5);
        PendingRequest light = submit(LIGHT, 40, 5);
        assertThat(serve(50)).doesNotContain(light);
    }

    @Test
    void aKeyThatWasIdleGetsNoCreditForIt() {
        start(SchedulerSettings.defaults().withFairShare(true));
        submitMany(HEAVY, 40, 40, 5);
        serve(30); // the heavy key alone used the backend; the light key sent nothing meanwhile
        submitMany(LIGHT, 20, 40, 5);
        List<PendingRequest> next = serve(10);
        // With credit for its idle time the light key would take all ten; starting at the virtual time, it shares
        // (the heavy key's queued requests keep the closer spacing they were tagged with while it was alone).
        assertThat(count(next, LIGHT)).isBetween(2L, 6L);
        assertThat(count(next, HEAVY)).isBetween(4L, 8L);
    }

    @Test
    void agingStillServesALongJobWhileShortOnesKeepComingFromOtherKeys() {
        start(SchedulerSettings.defaults().withFairShare(true));
        PendingRequest longJob = submit(HEAVY, 40_000, 400);
        submitMany(LIGHT, 3, 40, 1);
        submitMany(BATCH, 3, 40, 1);
        long shortCost = served.get(0).referenceWorkNanos();
        // Aging bound: the shorts' tags must pass the long job's start plus aging x its cost; the light key's tags
        // move by one short's cost each, so about this many dispatches (twice that, for slack):
        long bound = 2 * (long) (6.0 * longJob.referenceWorkNanos() / Math.max(1, shortCost)) + 10;
        int dispatches = 0;
        while (!served.contains(longJob) && dispatches < bound) {
            serve(1);
            dispatches++;
            submit(dispatches % 2 == 0 ? LIGHT : BATCH, 40, 1);
        }
        assertThat(served).as("short jobs must not starve the long one").contains(longJob);
        assertThat(dispatches).as("short jobs overtake the long one for a while").isGreaterThan(6);
    }

    @Test
    void aRequestPutBackKeepsItsTagAndIsChargedOnce() {
        FairQueuing fq = new FairQueuing(() -> 0);
        PendingRequest first = Fixtures.pending(Fixtures.generate(MODEL, 40, 5), 0, 0, new Fixtures.Target());
        first.referenceWorkNanos(2_000_000_000L);
        first.shareFlow(LIGHT);
        fq.entering(first);
        long tag = fq.startTag(first, 1);
        assertThat(tag).as("an idle flow starts at the clock").isZero();
        assertThat(fq.startTag(first, 1)).isEqualTo(tag);

        PendingRequest second = Fixtures.pending(Fixtures.generate(MODEL, 40, 5), 0, 0, new Fixtures.Target());
        second.referenceWorkNanos(1_000_000_000L);
        second.shareFlow(LIGHT);
        fq.entering(second);
        assertThat(fq.startTag(second, 1)).as("behind one charge of the first").isEqualTo(tag + 2_000_000_000L);

        fq.dispatched(second);
        assertThat(fq.virtualTime()).isEqualTo(tag + 2_000_000_000L);
        fq.dispatched(first);
        assertThat(fq.virtualTime()).as("the virtual time never goes back").isEqualTo(tag + 2_000_000_000L);
        fq.left(first);
        assertThat(fq.activeWeight()).isEqualTo(1.0);
        fq.left(second);
        assertThat(fq.activeWeight()).isZero();
    }

    @Test
    void aTagIsTheCostSpreadOverTheSlotsScaledByTheWaitingWeightOverTheFlowsOwn() {
        FairQueuing fq = new FairQueuing(() -> 0);
        PendingRequest other = Fixtures.pending(Fixtures.generate(MODEL, 40, 5), 0, 0, new Fixtures.Target());
        other.shareFlow(HEAVY);
        fq.entering(other);
        PendingRequest a = Fixtures.pending(Fixtures.generate(MODEL, 40, 5), 0, 0, new Fixtures.Target());
        a.referenceWorkNanos(4_000_000_000L);
        a.shareFlow(BATCH);
        fq.entering(a);
        PendingRequest b = Fixtures.pending(Fixtures.generate(MODEL, 40, 5), 0, 0, new Fixtures.Target());
        b.referenceWorkNanos(4_000_000_000L);
        b.shareFlow(BATCH);
        fq.entering(b);
        assertThat(fq.activeWeight()).isEqualTo(1.2, org.assertj.core.data.Offset.offset(1e-9));
        long t = fq.startTag(a, 4);
        assertThat(fq.startTag(b, 4)).as("4 s over 4 slots, times 1.2 / 0.2: 6 s").isEqualTo(t + 6_000_000_000L);
    }
}

package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.FailureKind;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.backend.Health;
import io.ollamabalancer.request.InferenceRequest;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.ollamabalancer.schedule.Fixtures.MODEL;
import static org.assertj.core.api.Assertions.assertThat;

class SchedulerTest {
    private final Fixtures.Clock clock = new Fixtures.Clock();

    private Scheduling scheduling(Fleet fleet, SchedulerSettings settings) {
        return Fixtures.scheduling(fleet, "eft", settings, clock);
    }

    private PendingRequest submit(Scheduling s, InferenceRequest r, int priority, Fixtures.Target t) {
        PendingRequest p = Fixtures.pending(r, priority, clock.getAsLong(), new DispatchTarget() {
            @Override
            public void dispatch(Backend backend) {
                t.dispatch(backend);
            }

            @Override
            public void reject(int status, String message, long retryAfterSeconds) {
                t.reject(status, message, retryAfterSeconds);
            }
        });
        s.estimate(p, null);
        s.scheduler().submit(p);
        return p;
    }

    /** Runs the single backend's queue to the end, returning requests in dispatch order. */
    private List<PendingRequest> runToEnd(Scheduling s, Backend b, PendingRequest running, List<PendingRequest> all,
                                          List<Fixtures.Target> targets) {
        List<PendingRequest> order = new ArrayList<>();
        PendingRequest current = running;
        while (current != null) {
            s.scheduler().complete(current, b, Fixtures.sample(20, 1, 1000, 50));
            current = null;
            for (int i = 0; i < all.size(); i++) {
                if (targets.get(i).backend() != null && !order.contains(all.get(i)) && all.get(i) != running) {
                    order.add(all.get(i));
                    current = all.get(i);
                }
            }
        }
        return order;
    }

    @Test
    void unknownModelIs404AndNoBackendIs503() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults());
        Fixtures.Target t = new Fixtures.Target();
        submit(s, Fixtures.generate("nope", 10, 5), 0, t);
        assertThat(t.rejectedStatus).containsExactly(404);
        assertThat(t.rejectedMessage).isEqualTo("model 'nope' not found");

        fleet.byName("a").health(Health.DOWN);
        Fixtures.Target down = new Fixtures.Target();
        submit(s, Fixtures.generate(MODEL, 10, 5), 0, down);
        assertThat(down.rejectedStatus).containsExactly(503);
        assertThat(down.dispatched).isEmpty();
    }

    @Test
    void aHighPriorityRequestOvertakesQueuedLowPriorityOnes() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults());
        Backend a = fleet.byName("a");
        Fixtures.Target first = new Fixtures.Target();
        PendingRequest blocker = submit(s, Fixtures.generate(MODEL, 40, 5), 0, first);
        List<Fixtures.Target> low = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Fixtures.Target t = new Fixtures.Target();
            low.add(t);
            submit(s, Fixtures.generate(MODEL, 40, 5), Priority.LOW, t);
            clock.advanceMillis(10);
        }
        Fixtures.Target high = new Fixtures.Target();
        submit(s, Fixtures.generate(MODEL, 4000, 500), Priority.HIGH, high);
        s.scheduler().complete(blocker, a, Fixtures.sample(20, 5, 1000, 50));
        assertThat(high.backend()).isSameAs(a);
        assertThat(low).allSatisfy(t -> assertThat(t.dispatched).isEmpty());
    }

    /**
     * One backend, busy. A long job (a 10k-token prompt, about 25 s) waits, then short jobs arrive every 10 s. With
     * aging 2 its key is its arrival + 50 s: shorts that arrived before that go first, later ones after it.
     */
    private List<Integer> agingOrder(QueueOrder order, double aging) {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults().withOrder(order, aging));
        Backend a = fleet.byName("a");
        PendingRequest blocker = submit(s, Fixtures.generate(MODEL, 40, 1), 0, new Fixtures.Target());
        List<PendingRequest> all = new ArrayList<>();
        List<Fixtures.Target> targets = new ArrayList<>();
        Fixtures.Target longT = new Fixtures.Target();
        all.add(submit(s, Fixtures.generate(MODEL, 40_000, 1), 0, longT));
        targets.add(longT);
        for (int sec : new int[] {10, 20, 30, 40, 60, 70}) {
            clock.advanceMillis(10_000);
            if (sec == 60) {
                clock.advanceMillis(10_000);
            }
            Fixtures.Target t = new Fixtures.Target();
            all.add(submit(s, Fixtures.generate(MODEL, 40, 1), 0, t));
            targets.add(t);
        }
        List<PendingRequest> dispatched = runToEnd(s, a, blocker, all, targets);
        List<Integer> order2 = new ArrayList<>();
        for (PendingRequest p : dispatched) {
            order2.add(all.indexOf(p));
        }
        return order2;
    }

    @Test
    void aFreedBackendTakesItsModelsRequestWhateverWaitsAheadOfItForOtherBackends() {
        // "a" serves MODEL only, "b" OTHER only, one slot each. Twenty short MODEL requests wait for "a", more than
        // the lookahead; a long OTHER request waits behind them (shortest first) for "b". When "b" frees, it must
        // start: nothing ahead of it can use "b".
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL, "b:1:" + Fixtures.OTHER);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults());
        Backend b = fleet.byName("b");
        PendingRequest onB = submit(s, Fixtures.generate(Fixtures.OTHER, 40, 5), 0, new Fixtures.Target());
        submit(s, Fixtures.generate(MODEL, 40, 5), 0, new Fixtures.Target());
        for (int i = 0; i < SchedulerSettings.defaults().lookahead() + 4; i++) {
            submit(s, Fixtures.generate(MODEL, 10, 2), 0, new Fixtures.Target());
        }
        Fixtures.Target waiting = new Fixtures.Target();
        submit(s, Fixtures.generate(Fixtures.OTHER, 4000, 500), 0, waiting);
        assertThat(waiting.dispatched).isEmpty();

        clock.advanceMillis(100);
        s.scheduler().complete(onB, b, Fixtures.sample(20, 5, 1000, 50));
        assertThat(waiting.backend()).isSameAs(b);
    }

    @Test
    void shortestExpectedJobFirstWithAgingLetsAnOldLongJobGoEventually() {
        assertThat(agingOrder(QueueOrder.SJF, 2)).containsExactly(1, 2, 3, 4, 0, 5, 6);
    }

    @Test
    void withoutAgingTheLongJobGoesLast() {
        assertThat(agingOrder(QueueOrder.SJF, 1e9)).containsExactly(1, 2, 3, 4, 5, 6, 0);
    }

    @Test
    void fifoServesInArrivalOrder() {
        assertThat(agingOrder(QueueOrder.FIFO, 0)).containsExactly(0, 1, 2, 3, 4, 5, 6);
    }

    @Test
    void cancelWhileQueuedNeverDispatches() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults());
        Backend a = fleet.byName("a");
        PendingRequest blocker = submit(s, Fixtures.generate(MODEL, 40, 5), 0, new Fixtures.Target());
        Fixtures.Target t = new Fixtures.Target();
        PendingRequest p = submit(s, Fixtures.generate(MODEL, 40, 5), 0, t);
        assertThat(s.scheduler().queueDepth(MODEL)).isEqualTo(1);
        assertThat(s.scheduler().cancel(p)).isTrue();
        assertThat(s.scheduler().queueDepth(MODEL)).isZero();
        s.scheduler().complete(blocker, a, Fixtures.sample(20, 5, 1000, 50));
        assertThat(t.calls()).isZero();
        assertThat(a.slotsInUse()).isZero();
        assertThat(s.scheduler().cancel(blocker)).isFalse();
    }

    @Test
    void aFullQueueAnswers503WithRetryAfterFromTheEstimatedDrainTime() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults()
                .withLimits(new QueueLimits(2, Duration.ofMinutes(10).toNanos())));
        submit(s, Fixtures.generate(MODEL, 40, 1), 0, new Fixtures.Target());
        // two queued jobs of a 10k-token prompt each: about 25 s each at the default 400 prefill tokens/s
        submit(s, Fixtures.generate(MODEL, 40_000, 1), 0, new Fixtures.Target());
        submit(s, Fixtures.generate(MODEL, 40_000, 1), 0, new Fixtures.Target());
        Fixtures.Target refused = new Fixtures.Target();
        submit(s, Fixtures.generate(MODEL, 40, 1), 0, refused);
        assertThat(refused.rejectedStatus).containsExactly(503);
        assertThat(refused.rejectedMessage).isEqualTo(Scheduler.BUSY);
        assertThat(refused.retryAfter).isBetween(45L, 60L);
        assertThat(s.scheduler().queueDepth(MODEL)).isEqualTo(2);
    }

    @Test
    void aRequestWaitingPastTheMaximumWaitIsRefused() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults()
                .withLimits(new QueueLimits(100, Duration.ofSeconds(5).toNanos())));
        submit(s, Fixtures.generate(MODEL, 40, 1), 0, new Fixtures.Target());
        Fixtures.Target old = new Fixtures.Target();
        submit(s, Fixtures.generate(MODEL, 40, 1), 0, old);
        clock.advanceMillis(3000);
        Fixtures.Target young = new Fixtures.Target();
        submit(s, Fixtures.generate(MODEL, 40, 1), 0, young);
        clock.advanceMillis(2500);
        s.scheduler().sweep();
        assertThat(old.rejectedStatus).containsExactly(503);
        assertThat(old.rejectedMessage).isEqualTo(Scheduler.BUSY);
        assertThat(old.retryAfter).isGreaterThanOrEqualTo(1);
        assertThat(young.calls()).isZero();
        assertThat(s.scheduler().queueDepth(MODEL)).isEqualTo(1);
    }

    @Test
    void perModelLimitsOverrideTheDefault() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL + "," + Fixtures.OTHER);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults().withModelLimits(
                java.util.Map.of(Fixtures.OTHER, new QueueLimits(0, Duration.ofMinutes(1).toNanos()))));
        submit(s, Fixtures.generate(MODEL, 40, 1), 0, new Fixtures.Target());
        Fixtures.Target other = new Fixtures.Target();
        submit(s, Fixtures.generate(Fixtures.OTHER, 40, 1), 0, other);
        Fixtures.Target same = new Fixtures.Target();
        submit(s, Fixtures.generate(MODEL, 40, 1), 0, same);
        assertThat(other.rejectedStatus).containsExactly(503);
        assertThat(same.calls()).isZero();
    }

    @Test
    void aFailedConnectRetriesElsewhereAndFreesTheSlot() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL, "b:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults());
        Fixtures.Target t = new Fixtures.Target();
        PendingRequest p = submit(s, Fixtures.generate(MODEL, 40, 5), 0, t);
        Backend first = t.backend();
        s.scheduler().retryElsewhere(p, first, FailureKind.REFUSED);
        assertThat(t.dispatched).hasSize(2);
        assertThat(t.dispatched.get(1)).isNotSameAs(first);
        assertThat(first.slotsInUse()).isZero();
        assertThat(p.excluded().all()).containsExactly(first);
        s.scheduler().retryElsewhere(p, t.dispatched.get(1), FailureKind.CONNECT_FAILED);
        assertThat(t.rejectedStatus).containsExactly(503);
        assertThat(fleet.byName("a").slotsInUse() + fleet.byName("b").slotsInUse()).isZero();
    }

    @Test
    void aFailureThatSaysNothingAgainstTheOnlyBackendSendsTheRequestBackThere() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults());
        Fixtures.Target t = new Fixtures.Target();
        PendingRequest p = submit(s, Fixtures.generate(MODEL, 40, 5), 0, t);
        Backend only = t.backend();
        // The balancer's own connection bound, then a keep-alive connection the backend closed while idle: neither
        // is evidence against the backend, and no other backend can serve, so the request goes back to it.
        s.scheduler().retryElsewhere(p, only, FailureKind.POOL_EXHAUSTED);
        s.scheduler().retryElsewhere(p, only, FailureKind.RESET_ON_REUSED);
        assertThat(t.dispatched).containsExactly(only, only, only);
        assertThat(t.rejectedStatus).isEmpty();
        assertThat(only.slotsInUse()).isEqualTo(1);
        assertThat(p.excluded().reason(only)).isEqualTo(FailureKind.RESET_ON_REUSED);
        // A real failure excludes it for good, and is not forgotten by a later soft one.
        s.scheduler().retryElsewhere(p, only, FailureKind.RESET_BEFORE_RESPONSE);
        assertThat(t.rejectedStatus).containsExactly(503);
        assertThat(p.excluded().reason(only)).isEqualTo(FailureKind.RESET_BEFORE_RESPONSE);
        p.excluded().add(only, FailureKind.POOL_EXHAUSTED);
        assertThat(p.excluded().hard()).containsExactly(only);
        assertThat(only.slotsInUse()).isZero();
    }

    @Test
    void aFailureThatSaysNothingAgainstABackendStillPrefersAnother() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL, "b:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults());
        Fixtures.Target t = new Fixtures.Target();
        PendingRequest p = submit(s, Fixtures.generate(MODEL, 40, 5), 0, t);
        Backend first = t.backend();
        s.scheduler().retryElsewhere(p, first, FailureKind.POOL_EXHAUSTED);
        Backend second = t.dispatched.get(1);
        assertThat(second).isNotSameAs(first);
        // Now both are soft-excluded: the request may go to either rather than be refused.
        s.scheduler().retryElsewhere(p, second, FailureKind.POOL_EXHAUSTED);
        assertThat(t.dispatched).hasSize(3);
        assertThat(t.rejectedStatus).isEmpty();
        // A backend that refused is out for good; the soft-excluded one still serves.
        s.scheduler().retryElsewhere(p, t.dispatched.get(2), FailureKind.REFUSED);
        assertThat(t.dispatched).hasSize(4);
        assertThat(p.excluded().hard()).containsExactly(t.dispatched.get(2));
        assertThat(t.dispatched.get(3)).isNotSameAs(t.dispatched.get(2));
    }

    @Test
    void dispatchRecordsThePredictionAndQueueTime() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults());
        PendingRequest blocker = submit(s, Fixtures.generate(MODEL, 40, 5), 0, new Fixtures.Target());
        PendingRequest p = submit(s, Fixtures.generate(MODEL, 400, 30), 0, new Fixtures.Target());
        clock.advanceMillis(1500);
        s.scheduler().complete(blocker, fleet.byName("a"), Fixtures.sample(20, 5, 1000, 50));
        assertThat(p.queuedNanos()).isEqualTo(1_500_000_000L);
        Prediction pr = p.prediction();
        assertThat(pr.backend()).isEqualTo("a");
        assertThat(pr.coldLoad()).isFalse();
        assertThat(pr.finishNanos() - p.dispatchedNanos()).isEqualTo(pr.serviceNanos());
        // 110 prompt tokens at 400/s and about 30 tokens at 30/s, blended with one learned sample
        assertThat(pr.serviceNanos()).isBetween(700_000_000L, 1_600_000_000L);
    }

    @Test
    void aRequestStartedWhereItsModelIsNotLoadedIsReportedAsCold() {
        Fleet fleet = Fixtures.fleet("a:2:" + MODEL);
        Scheduling s = scheduling(fleet, SchedulerSettings.defaults());
        Backend a = fleet.byName("a");
        a.updateLoaded(java.util.Set.of());
        List<String> cold = new ArrayList<>();
        s.scheduler().coldDispatchListener((backend, model) -> cold.add(backend.name() + "/" + model));
        Fixtures.Target first = new Fixtures.Target();
        submit(s, Fixtures.generate(MODEL, 40, 5), 0, first);
        assertThat(first.backend()).isSameAs(a);
        assertThat(cold).containsExactly("a/" + MODEL);

        a.updateLoaded(java.util.Set.of(MODEL));
        Fixtures.Target second = new Fixtures.Target();
        submit(s, Fixtures.generate(MODEL, 40, 5), 0, second);
        assertThat(second.backend()).isSameAs(a);
        assertThat(cold).as("warm now: not reported").hasSize(1);
    }
}

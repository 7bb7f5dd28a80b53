package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static io.ollamabalancer.schedule.Fixtures.MODEL;
import static io.ollamabalancer.schedule.Fixtures.OTHER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PoliciesTest {
    private final Fixtures.Clock clock = new Fixtures.Clock();

    @Test
    void createsEveryNamedPolicy() {
        Predictor p = Predictor.standalone(SchedulerSettings.defaults(), clock);
        for (String name : Policies.NAMES) {
            assertThat(Policies.create(name, p, SchedulerSettings.defaults()).name()).isEqualTo(name);
        }
        assertThat(Policies.create(" EFT ", p, SchedulerSettings.defaults())).isInstanceOf(EftPolicy.class);
    }

    @Test
    void unknownNameIsAClearError() {
        Predictor p = Predictor.standalone(SchedulerSettings.defaults(), clock);
        assertThatThrownBy(() -> Policies.create("fastest", p, SchedulerSettings.defaults()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'fastest'")
                .hasMessageContaining("least-connections (fewest active requests, bound at arrival)")
                .hasMessageContaining("least-connections-late (fewest slots in use, late binding)");
        for (String name : Policies.NAMES) {
            assertThatThrownBy(() -> Policies.create("nope", p, SchedulerSettings.defaults()))
                    .hasMessageContaining(name + " (");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"eft", "least-connections", "least-connections-late", "round-robin", "legacy"})
    void aModelOnOneBackendOnlyGoesThere(String policy) {
        Fleet fleet = Fixtures.fleet("a:2:" + MODEL, "b:2:" + MODEL + "," + OTHER, "c:2:" + MODEL);
        Scheduling s = Fixtures.scheduling(fleet, policy, SchedulerSettings.defaults(), clock);
        List<Fixtures.Target> targets = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Fixtures.Target t = new Fixtures.Target();
            targets.add(t);
            PendingRequest p = Fixtures.pending(Fixtures.generate(OTHER, 100, 50), 0, clock.getAsLong(), t);
            s.estimate(p, null);
            s.scheduler().submit(p);
        }
        for (Fixtures.Target t : targets) {
            if (t.backend() != null) {
                assertThat(t.backend().name()).isEqualTo("b");
            }
        }
        assertThat(targets.stream().filter(t -> t.backend() != null).count()).isEqualTo(2);
        assertThat(s.scheduler().queueDepth(OTHER)).isEqualTo(4);
    }

    @Test
    void roundRobinBindsAtArrivalInTurnAndWaitsForItsBackend() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL, "b:1:" + MODEL);
        Scheduling s = Fixtures.scheduling(fleet, "round-robin", SchedulerSettings.defaults()
                .withOrder(QueueOrder.FIFO, 0), clock);
        List<Fixtures.Target> t = submitN(s, 4);
        assertThat(t.get(0).backend().name()).isEqualTo("a");
        assertThat(t.get(1).backend().name()).isEqualTo("b");
        // the third is bound to a, the fourth to b: finishing b starts the fourth, not the third
        Backend b = fleet.byName("b");
        s.scheduler().complete(pendingOf(t.get(1)), b, Fixtures.sample(25, 10, 1000, 50));
        assertThat(t.get(2).backend()).isNull();
        assertThat(t.get(3).backend()).isSameAs(b);
    }

    @Test
    void leastConnectionsBindsAtArrivalToTheFewestActiveAndWaitsThere() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL, "b:2:" + MODEL);
        Scheduling s = Fixtures.scheduling(fleet, "least-connections", SchedulerSettings.defaults(), clock);
        LeastConnectionsPolicy lc = (LeastConnectionsPolicy) s.scheduler().policy();
        List<Fixtures.Target> t = submitN(s, 6);
        // a holds 1 per slot after one request, b after two: 0/1 vs 0/2, then 1/1 vs 0/2, 1/1 vs 1/2, 1/1 vs 2/2, ...
        assertThat(t.stream().filter(x -> x.backend() != null).count()).isEqualTo(3);
        assertThat(lc.activeConnections(fleet.byName("a")) + lc.activeConnections(fleet.byName("b"))).isEqualTo(6);
        assertThat(lc.activeConnections(fleet.byName("a"))).isEqualTo(2);
        assertThat(lc.activeConnections(fleet.byName("b"))).isEqualTo(4);
        // a frees its slot: the oldest request bound to a starts there, none of b's waiting ones
        Backend a = fleet.byName("a");
        Fixtures.Target onA = t.stream().filter(x -> x.backend() == a).findFirst().orElseThrow();
        List<Fixtures.Target> waiting = t.stream().filter(x -> x.backend() == null).toList();
        s.scheduler().complete(pendingOf(onA), a, Fixtures.sample(25, 10, 1000, 50));
        assertThat(waiting.stream().filter(x -> x.backend() != null).count()).isEqualTo(1);
        assertThat(lc.activeConnections(a)).isEqualTo(1);
        Fixtures.Target started = waiting.stream().filter(x -> x.backend() != null).findFirst().orElseThrow();
        assertThat(started.backend()).isSameAs(a);
        // a second completion on a finds nothing bound to a: b's waiting requests stay bound to b
        s.scheduler().complete(pendingOf(started), a, Fixtures.sample(25, 10, 1000, 50));
        assertThat(waiting.stream().filter(x -> x.backend() != null).count()).isEqualTo(1);
        assertThat(a.slotsInUse()).isZero();
    }

    @Test
    void earlyBindingServesABackendsRequestsInArrivalOrderEvenWithSjfQueues() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL);
        Scheduling s = Fixtures.scheduling(fleet, "least-connections", SchedulerSettings.defaults()
                .withOrder(QueueOrder.SJF, 2.0), clock);
        Fixtures.Target first = submit(s, 100, 20);
        Fixtures.Target longer = submit(s, 4000, 1000);
        Fixtures.Target shorter = submit(s, 40, 5);
        assertThat(first.backend()).isNotNull();
        s.scheduler().complete(pendingOf(first), fleet.byName("a"), Fixtures.sample(25, 20, 1000, 50));
        // SJF would start the short one first; a backend's own FIFO starts the one that arrived first
        assertThat(longer.backend()).isNotNull();
        assertThat(shorter.backend()).isNull();
    }

    @Test
    void leastConnectionsLateStartsOnWhicheverBackendFreesFirst() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL, "b:1:" + MODEL);
        Scheduling s = Fixtures.scheduling(fleet, "least-connections-late", SchedulerSettings.defaults()
                .withOrder(QueueOrder.FIFO, 0), clock);
        List<Fixtures.Target> t = submitN(s, 4);
        Backend first = t.get(0).backend();
        Backend second = t.get(1).backend();
        assertThat(first).isNotSameAs(second);
        s.scheduler().complete(pendingOf(t.get(1)), second, Fixtures.sample(25, 10, 1000, 50));
        assertThat(t.get(2).backend()).isSameAs(second);
        s.scheduler().complete(pendingOf(t.get(2)), second, Fixtures.sample(25, 10, 1000, 50));
        assertThat(t.get(3).backend()).isSameAs(second);
    }

    @Test
    void legacyPrefersTheBackendWithFewerQueuedTokens() {
        Fleet fleet = Fixtures.fleet("a:1:" + MODEL, "b:1:" + MODEL);
        Scheduling s = Fixtures.scheduling(fleet, "legacy", SchedulerSettings.defaults()
                .withOrder(QueueOrder.FIFO, 0), clock);
        Fixtures.Target big = submit(s, 4000, -1);
        Fixtures.Target small1 = submit(s, 40, -1);
        Fixtures.Target small2 = submit(s, 40, -1);
        assertThat(big.backend().name()).isEqualTo("a");
        assertThat(small1.backend().name()).isEqualTo("b");
        // b has 40 queued prompt tokens bound to it, a has 4000: the next one is bound to b and waits there
        assertThat(small2.backend()).isNull();
        s.scheduler().complete(pendingOf(small1), fleet.byName("b"), Fixtures.sample(20, 10, 1000, 50));
        assertThat(small2.backend().name()).isEqualTo("b");
    }

    private final List<PendingRequest> submitted = new ArrayList<>();
    private final List<Fixtures.Target> submittedTargets = new ArrayList<>();

    private Fixtures.Target submit(Scheduling s, int promptChars, int cap) {
        Fixtures.Target t = new Fixtures.Target();
        PendingRequest p = Fixtures.pending(Fixtures.generate(MODEL, promptChars, cap), 0, clock.getAsLong(), t);
        s.estimate(p, null);
        submitted.add(p);
        submittedTargets.add(t);
        s.scheduler().submit(p);
        clock.advanceMillis(1);
        return t;
    }

    private List<Fixtures.Target> submitN(Scheduling s, int n) {
        List<Fixtures.Target> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(submit(s, 100, 20));
        }
        return out;
    }

    private PendingRequest pendingOf(Fixtures.Target t) {
        return submitted.get(submittedTargets.indexOf(t));
    }
}

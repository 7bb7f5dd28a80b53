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
                .hasMessageContaining("eft, least-connections, round-robin, legacy");
    }

    @ParameterizedTest
    @ValueSource(strings = {"eft", "least-connections", "round-robin", "legacy"})
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
        s.scheduler().complete(pendingOf(s, t.get(1)), b, Fixtures.sample(25, 10, 1000, 50));
        assertThat(t.get(2).backend()).isNull();
        assertThat(t.get(3).backend()).isSameAs(b);
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
        s.scheduler().complete(pendingOf(s, small1), fleet.byName("b"), Fixtures.sample(20, 10, 1000, 50));
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

    private PendingRequest pendingOf(Scheduling s, Fixtures.Target t) {
        return submitted.get(submittedTargets.indexOf(t));
    }
}

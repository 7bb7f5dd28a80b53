package io.ollamabalancer.backend;

import io.ollamabalancer.config.BackendConfig;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

class HealthProberTest {
    private final FakeClock clock = new FakeClock();
    // One failed probe ejects here, so each flow needs one failure; the default threshold is tested in
    // HealthTrackerTest.
    private final HealthPolicy policy = HealthPolicy.defaults().withActiveFailureThreshold(1)
            .withProbing(java.time.Duration.ofSeconds(5), java.time.Duration.ofSeconds(2));
    private final Fleet fleet = new Fleet(List.of(config("a"), config("b")), policy, clock);
    private final FakeProbe probe = new FakeProbe();
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final HealthProber prober = new HealthProber(fleet, probe, clock, new HealthListener() {
        @Override
        public void onEjected(Backend backend, String why) {
            events.add("ejected " + backend.name() + ": " + why);
        }

        @Override
        public void onRecovered(Backend backend) {
            events.add("recovered " + backend.name());
        }
    });
    private final Backend a = fleet.byName("a");
    private final Backend b = fleet.byName("b");

    @Test
    void probesEveryBackendAtOnceThenEveryInterval() {
        assertThat(prober.tick()).isEqualTo(2);
        assertThat(probe.calls).containsExactly("a /api/version", "b /api/version");
        probe.answerAll(200);
        assertThat(a.health()).isEqualTo(Health.UP);

        clock.advance(policy.probeInterval().minusMillis(1));
        assertThat(prober.tick()).isZero();
        clock.advanceMillis(1);
        assertThat(prober.tick()).isEqualTo(2);
        assertThat(events).isEmpty();
    }

    @Test
    void doesNotStackProbesOnABackendStillAnswering() {
        HealthPolicy slow = policy.withProbing(Duration.ofSeconds(1), Duration.ofSeconds(3));
        Fleet f = new Fleet(List.of(config("a")), slow, clock);
        FakeProbe p = new FakeProbe();
        HealthProber pr = new HealthProber(f, p, clock, HealthListener.NONE);

        assertThat(pr.tick()).isEqualTo(1);
        clock.advance(Duration.ofSeconds(1));
        assertThat(pr.tick()).isZero();
        clock.advance(Duration.ofSeconds(1));
        assertThat(pr.tick()).isZero();
        assertThat(p.calls).hasSize(1);

        p.answer("a", 200);
        assertThat(pr.tick()).isEqualTo(1);
    }

    @Test
    void aFailedProbeEjectsThenTheHalfOpenProbeRecoversOnce() {
        prober.tick();
        probe.fail("a", new ConnectException("Connection refused"));
        probe.answer("b", 200);
        assertThat(events).containsExactly("ejected a: probe failed: Connection refused");
        assertThat(fleet.available()).containsExactly(b);

        clock.advance(Duration.ofMillis(999));
        assertThat(prober.tick()).isZero();
        clock.advanceMillis(1);
        assertThat(prober.tick()).isEqualTo(1);
        assertThat(a.healthTracker().state()).isEqualTo(HealthState.HALF_OPEN);
        assertThat(prober.tick()).isZero();

        probe.answer("a", 200);
        assertThat(events).containsExactly("ejected a: probe failed: Connection refused", "recovered a");
        assertThat(a.healthTracker().state()).isEqualTo(HealthState.UP);
        assertThat(a.effectiveConcurrency()).isEqualTo(1);
        assertThat(fleet.available()).containsExactly(a, b);
    }

    @Test
    void aFailedHalfOpenProbeDoublesTheBackoff() {
        prober.tick();
        probe.answer("a", 500);
        probe.answer("b", 200);
        assertThat(events).containsExactly("ejected a: probe answered HTTP 500");

        clock.advance(Duration.ofSeconds(1));
        prober.tick();
        probe.answer("a", 503);
        assertThat(a.healthTracker().ejectionNanos()).isEqualTo(Duration.ofSeconds(2).toNanos());

        clock.advance(Duration.ofSeconds(1));
        assertThat(prober.tick()).isZero();
        clock.advance(Duration.ofSeconds(1));
        assertThat(prober.tick()).isEqualTo(1);
    }

    @Test
    void aProbeThatOverrunsItsTimeoutOnTheClockFailsAndItsLateAnswerIsIgnored() {
        prober.tick();
        probe.answer("b", 200);
        clock.advance(policy.probeTimeout().minusMillis(1));
        prober.tick();
        assertThat(a.health()).isEqualTo(Health.UNKNOWN);

        clock.advanceMillis(1);
        prober.tick();
        assertThat(events).containsExactly("ejected a: probe timed out after 2000 ms");

        probe.answer("a", 200); // the stale attempt's answer
        assertThat(a.healthTracker().state()).isEqualTo(HealthState.EJECTED);
        assertThat(events).hasSize(1);
    }

    @Test
    void aProbeThatTimesOutWhileTheBackendsResponsesKeepComingDoesNotCount() {
        a.healthTracker().heard(); // a response part before the probe says nothing about it
        prober.tick();
        probe.answer("b", 200);
        clock.advance(policy.probeTimeout().minusMillis(500));
        a.healthTracker().heard(); // streams from a go on while the probe waits
        clock.advanceMillis(500);
        prober.tick();
        assertThat(events).isEmpty();
        assertThat(a.healthTracker().state()).isNotEqualTo(HealthState.EJECTED);
        assertThat(a.healthTracker().lastError()).contains("timed out").contains("ignored");

        // the next probe times out with nothing heard from a meanwhile: a is down
        clock.advance(policy.probeInterval());
        prober.tick();
        probe.answer("b", 200);
        clock.advance(policy.probeTimeout());
        prober.tick();
        assertThat(events).containsExactly("ejected a: probe timed out after 2000 ms");
    }

    @Test
    void passiveEjectionsReachTheSameListenerAndStopProbesUntilTheBackoffEnds() {
        prober.tick();
        probe.answerAll(200);
        for (int i = 0; i < 3; i++) {
            b.healthTracker().onRequestFailure("HTTP 500");
        }
        assertThat(events).containsExactly("ejected b: HTTP 500");

        clock.advance(Duration.ofMillis(999));
        assertThat(prober.tick()).isZero();
        clock.advanceMillis(1);
        assertThat(prober.tick()).isEqualTo(1);
        assertThat(probe.calls.get(probe.calls.size() - 1)).isEqualTo("b /api/version");
        probe.answer("b", 200);
        assertThat(events).containsExactly("ejected b: HTTP 500", "recovered b");
    }

    @Test
    void disabledBackendsAreNotProbed() {
        fleet.reload(List.of(config("a"), new BackendConfig("b", URI.create("http://127.0.0.1:2"), 1, null, false)));
        assertThat(prober.tick()).isEqualTo(1);
        assertThat(probe.calls).containsExactly("a /api/version");
    }

    @Test
    void aProbeThatThrowsCountsAsFailed() {
        probe.throwOnGet = true;
        prober.tick();
        assertThat(events).hasSize(2);
        assertThat(prober.inFlight()).isZero();
    }

    private static BackendConfig config(String name) {
        return new BackendConfig(name, URI.create("http://127.0.0.1:" + (name.charAt(0) == 'a' ? 1 : 2)), 4, null,
                true);
    }

    /** Records every GET and lets the test complete them. */
    private static final class FakeProbe implements BackendProbe {
        final List<String> calls = new ArrayList<>();
        final List<Backend> backends = new ArrayList<>();
        final List<CompletableFuture<Reply>> futures = new ArrayList<>();
        boolean throwOnGet;

        @Override
        public synchronized CompletableFuture<Reply> get(Backend backend, String path) {
            if (throwOnGet) {
                throw new IllegalStateException("no event loop");
            }
            calls.add(backend.name() + " " + path);
            CompletableFuture<Reply> f = new CompletableFuture<>();
            backends.add(backend);
            futures.add(f);
            return f;
        }

        /** Completes the oldest pending probe of that backend. */
        void answer(String name, int status) {
            pending(name).complete(new Reply(status, "{\"version\":\"0.9.0\"}".getBytes(StandardCharsets.UTF_8)));
        }

        void fail(String name, Throwable cause) {
            pending(name).completeExceptionally(cause);
        }

        void answerAll(int status) {
            for (Backend b : List.copyOf(backends)) {
                CompletableFuture<Reply> f = futures.get(backends.indexOf(b));
                if (!f.isDone()) {
                    answer(b.name(), status);
                }
            }
        }

        private synchronized CompletableFuture<Reply> pending(String name) {
            for (int i = 0; i < backends.size(); i++) {
                if (backends.get(i).name().equals(name) && !futures.get(i).isDone()) {
                    return futures.get(i);
                }
            }
            throw new AssertionError("no pending probe for " + name);
        }
    }
}

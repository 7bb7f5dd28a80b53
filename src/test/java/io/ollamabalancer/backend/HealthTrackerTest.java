package io.ollamabalancer.backend;

import io.ollamabalancer.backend.HealthTracker.Transition;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;

class HealthTrackerTest {
    private final FakeClock clock = new FakeClock();
    private final List<String> events = new ArrayList<>();
    private final HealthPolicy policy = HealthPolicy.defaults();
    private final HealthTracker t = new HealthTracker(policy, clock, (tr, why) -> events.add(tr + ":" + why));

    @Test
    void startsUnknownAndRoutableThenUpOnFirstSuccessWithoutSlowStart() {
        assertThat(t.state()).isEqualTo(HealthState.UNKNOWN);
        assertThat(t.mayTakeRequest()).isTrue();
        assertThat(t.effectiveConcurrency(8)).isEqualTo(8);

        assertThat(t.onProbeSuccess()).isEqualTo(Transition.NONE);

        assertThat(t.state()).isEqualTo(HealthState.UP);
        assertThat(t.effectiveConcurrency(8)).isEqualTo(8);
        assertThat(t.weight()).isEqualTo(1.0);
        assertThat(events).isEmpty();
    }

    @Test
    void refusedConnectionEjectsAtOnce() {
        t.onProbeSuccess();

        assertThat(t.onConnectFailure(new ConnectException("Connection refused: /127.0.0.1:11434")))
                .isEqualTo(Transition.EJECTED);

        assertThat(t.state()).isEqualTo(HealthState.EJECTED);
        assertThat(t.health()).isEqualTo(Health.DOWN);
        assertThat(t.mayTakeRequest()).isFalse();
        assertThat(t.tryAdmit()).isFalse();
        assertThat(t.effectiveConcurrency(4)).isZero();
        assertThat(t.ejections()).isEqualTo(1);
        assertThat(t.lastError()).contains("refused");
        assertThat(events).containsExactly("EJECTED:Connection refused: /127.0.0.1:11434");
    }

    @Test
    void passiveFailuresEjectOnlyAtTheThresholdAndASuccessResetsTheCount() {
        t.onRequestFailure("HTTP 500");
        t.onRequestFailure("HTTP 502");
        t.onRequestSuccess();
        t.onRequestFailure("HTTP 500");
        t.onRequestFailure("HTTP 500");
        assertThat(t.state()).isEqualTo(HealthState.UP);
        assertThat(t.passiveFailures()).isEqualTo(2);

        assertThat(t.onRequestFailure("stream died")).isEqualTo(Transition.EJECTED);

        assertThat(t.state()).isEqualTo(HealthState.EJECTED);
        assertThat(t.lastError()).isEqualTo("stream died");
    }

    @Test
    void aConnectTimeoutOnlyCounts() {
        assertThat(t.onConnectFailure(new CompletionException(new ConnectException("connection timed out"))))
                .isEqualTo(Transition.NONE);
        assertThat(t.passiveFailures()).isEqualTo(1);
        assertThat(t.lastError()).isEqualTo("connection timed out");
    }

    @Test
    void twoFailedProbesInARowEjectButOneDoesNot() {
        t.onProbeSuccess();
        assertThat(t.onProbeFailure("timeout")).isEqualTo(Transition.NONE);
        assertThat(t.onProbeSuccess()).isEqualTo(Transition.NONE);
        assertThat(t.onProbeFailure("timeout")).as("a success in between resets the count")
                .isEqualTo(Transition.NONE);
        assertThat(t.onProbeFailure("HTTP 503")).isEqualTo(Transition.EJECTED);
        assertThat(t.state()).isEqualTo(HealthState.EJECTED);
    }

    @Test
    void ejectionTimeDoublesOnEveryFailedTrialAndIsCapped() {
        t.onConnectionRefused("refused");
        List<Long> seconds = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            seconds.add(t.ejectionNanos() / 1_000_000_000L);
            long waitNanos = t.nextProbeAtNanos() - clock.getAsLong();
            assertThat(waitNanos).isEqualTo(t.ejectionNanos());
            clock.advance(Duration.ofNanos(waitNanos - 1));
            assertThat(t.state()).isEqualTo(HealthState.EJECTED);
            assertThat(t.allowProbe()).isFalse();
            clock.advance(Duration.ofNanos(1));
            assertThat(t.state()).isEqualTo(HealthState.HALF_OPEN);
            assertThat(t.allowProbe()).isTrue();
            assertThat(t.onProbeFailure("still down")).isEqualTo(Transition.EJECTED);
        }
        assertThat(seconds).containsExactly(1L, 2L, 4L, 8L, 16L, 32L, 60L, 60L, 60L);
        assertThat(t.ejections()).isEqualTo(10);
    }

    @Test
    void backoffRestartsFromTheBaseAfterALongHealthyPeriodButNotAfterAShortOne() {
        t.onConnectionRefused("refused");
        recoverAfterBackoff();
        t.onConnectionRefused("refused again");
        assertThat(t.ejectionNanos()).isEqualTo(Duration.ofSeconds(2).toNanos());

        recoverAfterBackoff();
        clock.advance(policy.backoffResetAfter());
        t.onConnectionRefused("refused much later");
        assertThat(t.ejectionNanos()).isEqualTo(Duration.ofSeconds(1).toNanos());
    }

    @Test
    void halfOpenLetsExactlyOneTrialThroughUntilItReportsOrExpires() {
        t.onConnectionRefused("refused");
        clock.advance(Duration.ofSeconds(1));

        assertThat(t.state()).isEqualTo(HealthState.HALF_OPEN);
        assertThat(t.health()).isEqualTo(Health.DOWN);
        assertThat(t.mayTakeRequest()).isTrue();
        assertThat(t.effectiveConcurrency(8)).isEqualTo(1);

        assertThat(t.tryAdmit()).isTrue();
        assertThat(t.mayTakeRequest()).isFalse();
        assertThat(t.tryAdmit()).isFalse();
        assertThat(t.allowProbe()).isFalse();
        assertThat(t.nextProbeAtNanos()).isEqualTo(clock.getAsLong() + policy.trialTimeout().toNanos());

        clock.advance(policy.trialTimeout().minusNanos(1));
        assertThat(t.allowProbe()).isFalse();
        clock.advance(Duration.ofNanos(1));
        assertThat(t.mayTakeRequest()).isTrue();
        assertThat(t.allowProbe()).isTrue();
        assertThat(t.tryAdmit()).isFalse();
    }

    @Test
    void aCancelledTrialFreesTheTrial() {
        t.onConnectionRefused("refused");
        clock.advance(Duration.ofSeconds(1));
        assertThat(t.tryAdmit()).isTrue();

        t.cancelAdmit();

        assertThat(t.mayTakeRequest()).isTrue();
        assertThat(t.tryAdmit()).isTrue();
    }

    @Test
    void aSuccessfulTrialRequestRecoversOnceAndAFailedOneEjectsAgain() {
        t.onConnectionRefused("refused");
        clock.advance(Duration.ofSeconds(1));
        assertThat(t.tryAdmit()).isTrue();
        assertThat(t.onRequestFailure("HTTP 500")).isEqualTo(Transition.EJECTED);
        assertThat(t.ejectionNanos()).isEqualTo(Duration.ofSeconds(2).toNanos());

        clock.advance(Duration.ofSeconds(2));
        assertThat(t.tryAdmit()).isTrue();
        assertThat(t.onRequestSuccess()).isEqualTo(Transition.RECOVERED);
        assertThat(t.onRequestSuccess()).isEqualTo(Transition.NONE);
        assertThat(t.onProbeSuccess()).isEqualTo(Transition.NONE);

        assertThat(t.state()).isEqualTo(HealthState.UP);
        assertThat(events).containsExactly("EJECTED:refused", "EJECTED:HTTP 500", "RECOVERED:null");
    }

    @Test
    void slowStartRampsTheLimitLinearlyFromOneToMax() {
        t.onConnectionRefused("refused");
        recoverAfterBackoff();
        long ramp = policy.slowStart().toNanos();

        int[] limits = new int[5];
        double[] weights = new double[5];
        for (int i = 0; i < 5; i++) {
            limits[i] = t.effectiveConcurrency(9);
            weights[i] = t.weight();
            clock.advance(Duration.ofNanos(ramp / 4));
        }

        // 1 + 8 * fraction of the ramp, rounded down; the full limit at the end.
        assertThat(limits).containsExactly(1, 3, 5, 7, 9);
        assertThat(weights[0]).isEqualTo(0.05);
        assertThat(weights[1]).isCloseTo(0.25, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(weights[2]).isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(weights[4]).isEqualTo(1.0);
        assertThat(t.effectiveConcurrency(1)).isEqualTo(1);
    }

    @Test
    void slowStartIsCutShortByANewEjection() {
        t.onConnectionRefused("refused");
        recoverAfterBackoff();
        clock.advance(policy.slowStart().dividedBy(2));
        t.onConnectionRefused("refused again");
        assertThat(t.effectiveConcurrency(9)).isZero();
        assertThat(t.weight()).isEqualTo(0.05);
    }

    @Test
    void anEjectedBackendIgnoresLateOutcomesUntilItsBackoffEnds() {
        t.onConnectionRefused("refused");

        assertThat(t.onProbeSuccess()).isEqualTo(Transition.NONE);
        assertThat(t.onRequestSuccess()).isEqualTo(Transition.NONE);
        assertThat(t.onRequestFailure("old stream died")).isEqualTo(Transition.NONE);
        assertThat(t.onConnectionRefused("refused")).isEqualTo(Transition.NONE);

        assertThat(t.state()).isEqualTo(HealthState.EJECTED);
        assertThat(t.ejections()).isEqualTo(1);
        assertThat(t.ejectionNanos()).isEqualTo(Duration.ofSeconds(1).toNanos());
    }

    @Test
    void healthyProbesAreDueEveryInterval() {
        assertThat(t.allowProbe()).isTrue();
        assertThat(t.allowProbe()).isFalse();
        assertThat(t.nextProbeAtNanos()).isEqualTo(clock.getAsLong() + policy.probeInterval().toNanos());
        clock.advance(policy.probeInterval().minusMillis(1));
        assertThat(t.allowProbe()).isFalse();
        clock.advanceMillis(1);
        assertThat(t.allowProbe()).isTrue();
    }

    @Test
    void resetForgetsTheEjection() {
        t.onConnectionRefused("refused");
        t.reset();
        assertThat(t.state()).isEqualTo(HealthState.UNKNOWN);
        assertThat(t.mayTakeRequest()).isTrue();
    }

    @Test
    void classifiesRefusalsApart() {
        assertThat(Failures.isConnectionRefused(new CompletionException(
                new ConnectException("finishConnect(..) failed: Connection refused")))).isTrue();
        assertThat(Failures.isConnectionRefused(new UnknownHostException("nope.invalid"))).isTrue();
        assertThat(Failures.isConnectionRefused(new ConnectException("connection timed out: /10.0.0.1:80")))
                .isFalse();
        assertThat(Failures.isConnectionRefused(new SocketTimeoutException("Read timed out"))).isFalse();
        assertThat(Failures.describe(new CompletionException(new IllegalStateException()))).isEqualTo(
                "IllegalStateException");
    }

    private void recoverAfterBackoff() {
        clock.advance(Duration.ofNanos(t.nextProbeAtNanos() - clock.getAsLong()));
        assertThat(t.allowProbe()).isTrue();
        assertThat(t.onProbeSuccess()).isEqualTo(Transition.RECOVERED);
    }
}

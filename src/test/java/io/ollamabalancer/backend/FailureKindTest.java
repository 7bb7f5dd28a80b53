package io.ollamabalancer.backend;

import io.ollamabalancer.backend.HealthTracker.Transition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.ConnectException;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;

/** The failure kinds' classification and their health rules, applied by {@link HealthTracker#onFailure}. */
class FailureKindTest {
    private final FakeClock clock = new FakeClock();
    private final HealthTracker t = new HealthTracker(HealthPolicy.defaults(), clock, null);

    /** What the pool's connection bound throws, as far as this package can see it. */
    private static final class LimitReached extends Exception implements LocalFailure {
    }

    @Test
    void connectFailuresAreClassifiedByCause() {
        assertThat(FailureKind.ofConnect(new LimitReached())).isEqualTo(FailureKind.POOL_EXHAUSTED);
        assertThat(FailureKind.ofConnect(new CompletionException(new LimitReached())))
                .isEqualTo(FailureKind.POOL_EXHAUSTED);
        assertThat(FailureKind.ofConnect(new ConnectException("Connection refused: /127.0.0.1:11434")))
                .isEqualTo(FailureKind.REFUSED);
        assertThat(FailureKind.ofConnect(new ConnectException("connection timed out")))
                .isEqualTo(FailureKind.CONNECT_FAILED);
        assertThat(FailureKind.ofEarlyClose(true)).isEqualTo(FailureKind.RESET_ON_REUSED);
        assertThat(FailureKind.ofEarlyClose(false)).isEqualTo(FailureKind.RESET_BEFORE_RESPONSE);
    }

    @ParameterizedTest
    @EnumSource(value = FailureKind.class, names = {"POOL_EXHAUSTED", "RESET_ON_REUSED", "BUSY", "ERROR_STATUS",
            "CLIENT_GONE"})
    void failuresThatAreNotTheBackendsNeverEjectIt(FailureKind kind) {
        t.onProbeSuccess();
        for (int i = 0; i < 20; i++) {
            assertThat(t.onFailure(kind, "x")).isEqualTo(Transition.NONE);
        }
        assertThat(t.passiveFailures()).isZero();
        assertThat(t.mayTakeRequest()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(value = FailureKind.class, names = {"CONNECT_FAILED", "RESET_BEFORE_RESPONSE", "ERROR_LINE",
            "DIED_MID_STREAM", "STALL", "FIRST_BYTE_TIMEOUT"})
    void failuresThatSayTheBackendIsUnwellCountTowardsTheThreshold(FailureKind kind) {
        t.onProbeSuccess();
        int threshold = HealthPolicy.defaults().passiveFailureThreshold();
        for (int i = 1; i < threshold; i++) {
            assertThat(t.onFailure(kind, "x")).isEqualTo(Transition.NONE);
            assertThat(t.passiveFailures()).isEqualTo(i);
        }
        assertThat(t.onFailure(kind, "x")).isEqualTo(Transition.EJECTED);
    }

    @Test
    void aRefusedConnectionEjectsAtOnce() {
        t.onProbeSuccess();
        assertThat(t.onFailure(FailureKind.REFUSED, "refused")).isEqualTo(Transition.EJECTED);
    }

    @Test
    void aNeutralFailureGivesAHalfOpenTrialBack() {
        t.onProbeSuccess();
        t.onFailure(FailureKind.REFUSED, "refused");
        clock.advance(HealthPolicy.defaults().maxEjection());
        assertThat(t.tryAdmit()).as("the trial").isTrue();
        assertThat(t.tryAdmit()).as("only one trial at a time").isFalse();
        t.onFailure(FailureKind.POOL_EXHAUSTED, "limit");
        assertThat(t.tryAdmit()).as("the trial is free again").isTrue();
    }
}

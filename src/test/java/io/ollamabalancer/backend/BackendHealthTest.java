package io.ollamabalancer.backend;

import io.ollamabalancer.config.BackendConfig;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How {@link Backend}'s slots, availability and coarse health follow its {@link HealthTracker}. */
class BackendHealthTest {
    private final FakeClock clock = new FakeClock();
    private final HealthPolicy policy = HealthPolicy.defaults().withSlowStart(Duration.ofSeconds(10));

    private Backend backend(int maxConcurrency) {
        return new Backend(new BackendConfig("a", URI.create("http://127.0.0.1:11434"), maxConcurrency, null, true),
                policy, clock);
    }

    @Test
    void slotsFollowTheSlowStartRamp() {
        Backend b = backend(5);
        b.healthTracker().onConnectionRefused("refused");
        clock.advance(Duration.ofSeconds(1));
        b.healthTracker().onProbeSuccess();

        assertThat(b.tryAcquireSlot()).isTrue();
        assertThat(b.tryAcquireSlot()).isFalse();
        assertThat(b.hasFreeSlot()).isFalse();

        clock.advance(Duration.ofMillis(5_000)); // halfway: 1 + 4 * 0.5 = 3
        assertThat(b.effectiveConcurrency()).isEqualTo(3);
        assertThat(b.tryAcquireSlot()).isTrue();
        assertThat(b.tryAcquireSlot()).isTrue();
        assertThat(b.tryAcquireSlot()).isFalse();

        clock.advance(Duration.ofSeconds(5));
        assertThat(b.tryAcquireSlot()).isTrue();
        assertThat(b.tryAcquireSlot()).isTrue();
        assertThat(b.tryAcquireSlot()).isFalse();
        assertThat(b.slotsInUse()).isEqualTo(5);
    }

    @Test
    void anEjectedBackendIsUnavailableAndGivesNoSlot() {
        Backend b = backend(4);
        b.healthTracker().onConnectionRefused("refused");

        assertThat(b.isAvailable()).isFalse();
        assertThat(b.health()).isEqualTo(Health.DOWN);
        assertThat(b.tryAcquireSlot()).isFalse();
        assertThat(b.slotsInUse()).isZero();
    }

    @Test
    void aHalfOpenBackendGivesItsOneTrialSlotToOneRequestOnly() {
        Backend b = backend(4);
        b.healthTracker().onConnectionRefused("refused");
        clock.advance(Duration.ofSeconds(1));

        assertThat(b.isAvailable()).isTrue();
        assertThat(b.tryAcquireSlot()).isTrue();
        assertThat(b.isAvailable()).isFalse();
        assertThat(b.tryAcquireSlot()).isFalse();
        assertThat(b.slotsInUse()).isEqualTo(1);

        b.releaseSlot();
        b.healthTracker().onRequestSuccess();
        assertThat(b.health()).isEqualTo(Health.UP);
        assertThat(b.isAvailable()).isTrue();
    }

    @Test
    void aHalfOpenTrialIsNotTakenWhenOldStreamsStillHoldSlots() {
        Backend b = backend(4);
        assertThat(b.tryAcquireSlot()).isTrue();
        b.healthTracker().onConnectionRefused("refused");
        clock.advance(Duration.ofSeconds(1));

        assertThat(b.tryAcquireSlot()).isFalse();
        // The failed slot attempt must give the trial back: a probe can still be the trial.
        assertThat(b.healthTracker().allowProbe()).isTrue();
    }

    @Test
    void theOldHealthSetterMapsOntoTheTracker() {
        Backend b = backend(2);
        b.health(Health.UP);
        assertThat(b.healthTracker().state()).isEqualTo(HealthState.UP);

        b.health(Health.DOWN);
        assertThat(b.healthTracker().state()).isEqualTo(HealthState.EJECTED);
        assertThat(b.isAvailable()).isFalse();

        b.health(Health.UP); // a poll success inside the backoff does not cut it short
        assertThat(b.health()).isEqualTo(Health.DOWN);

        clock.advance(Duration.ofSeconds(1));
        b.health(Health.UP);
        assertThat(b.health()).isEqualTo(Health.UP);

        b.health(Health.UNKNOWN);
        assertThat(b.health()).isEqualTo(Health.UNKNOWN);
    }

    @Test
    void reconfigureChangesLimitsModelsAndEnabledInPlaceKeepingSlots() {
        Backend b = backend(3);
        assertThat(b.tryAcquireSlot()).isTrue();
        assertThat(b.tryAcquireSlot()).isTrue();

        b.reconfigure(new BackendConfig("a", URI.create("http://127.0.0.1:11434"), 1, List.of("Llama3.2"), false));

        assertThat(b.slotsInUse()).isEqualTo(2);
        assertThat(b.tryAcquireSlot()).isFalse();
        assertThat(b.isAvailable()).isFalse();
        assertThat(b.hasModel("llama3.2:latest")).isTrue();
        b.releaseSlot();
        b.releaseSlot();
        assertThat(b.tryAcquireSlot()).isTrue();

        b.reconfigure(new BackendConfig("a", URI.create("http://127.0.0.1:11434"), 1, null, true));
        assertThat(b.modelsKnown()).isFalse();
        assertThat(b.isAvailable()).isTrue();

        assertThatThrownBy(() -> b.reconfigure(new BackendConfig("a", URI.create("http://127.0.0.1:9"), 1, null,
                true))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void transitionsReachTheListenerOnce() {
        Backend b = backend(2);
        StringBuilder seen = new StringBuilder();
        b.healthListener(new HealthListener() {
            @Override
            public void onEjected(Backend backend, String why) {
                seen.append("ejected ").append(backend.name()).append(' ').append(why).append(';');
            }

            @Override
            public void onRecovered(Backend backend) {
                seen.append("recovered ").append(backend.name()).append(';');
            }
        });
        b.healthTracker().onRequestFailure("HTTP 500");
        b.healthTracker().onRequestFailure("HTTP 500");
        b.healthTracker().onRequestFailure("HTTP 503");
        b.healthTracker().onRequestFailure("late");
        clock.advance(Duration.ofSeconds(1));
        b.healthTracker().onProbeSuccess();
        b.healthTracker().onProbeSuccess();

        assertThat(seen).hasToString("ejected a HTTP 503;recovered a;");
    }
}

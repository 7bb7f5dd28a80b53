package io.ollamabalancer.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The bound on open connections to a backend ({@code --max-connections-per-backend}), automatic or set. */
class ConnectionBoundSettingTest {
    @Test
    void theAutomaticBoundLeavesEverySlotAConnectionAndRoomBesides() {
        BalancerConfig auto = BalancerConfig.defaults();
        assertThat(auto.maxConnectionsPerBackend()).isZero();
        assertThat(auto.maxConnectionsFor(4)).isEqualTo(1024);
        assertThat(auto.maxConnectionsFor(1250)).isEqualTo(1250 + 16);
    }

    @Test
    void aBoundSetByTheUserIsKeptWhateverTheSlots() {
        assertThat(BalancerConfig.builder().maxConnectionsPerBackend(2).build().maxConnectionsFor(8)).isEqualTo(2);
        assertThat(BalancerConfig.builder().maxConnectionsPerBackend(4096).build().maxConnectionsFor(8))
                .isEqualTo(4096);
    }
}

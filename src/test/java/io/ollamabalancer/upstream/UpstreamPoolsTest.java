package io.ollamabalancer.upstream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The bound on open connections to a backend, automatic or set. */
class UpstreamPoolsTest {
    @Test
    void theAutomaticBoundLeavesEverySlotAConnectionAndRoomBesides() {
        assertThat(UpstreamPools.maxOpen(UpstreamPools.AUTO, 4)).isEqualTo(1024);
        assertThat(UpstreamPools.maxOpen(UpstreamPools.AUTO, 1250)).isEqualTo(1250 + 16);
    }

    @Test
    void aBoundSetByTheUserIsKeptWhateverTheSlots() {
        assertThat(UpstreamPools.maxOpen(2, 8)).isEqualTo(2);
        assertThat(UpstreamPools.maxOpen(4096, 8)).isEqualTo(4096);
    }
}

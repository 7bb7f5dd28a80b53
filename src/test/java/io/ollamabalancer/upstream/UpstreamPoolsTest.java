package io.ollamabalancer.upstream;

import io.netty.channel.embedded.EmbeddedChannel;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.config.BackendConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** How many channels a loop's pool keeps idle for a backend. */
class UpstreamPoolsTest {
    private final Fleet fleet = new Fleet(List.of(new BackendConfig("b", URI.create("http://127.0.0.1:1"), 1,
            List.of("llama3.2:1b"), true)));
    private final Backend backend = fleet.byName("b");
    private final EmbeddedChannel client = new EmbeddedChannel();
    private final EmbeddedChannel[] channels = new EmbeddedChannel[1_300];
    private UpstreamPools pools;

    @AfterEach
    void tearDown() {
        for (EmbeddedChannel ch : channels) {
            if (ch != null) {
                ch.finishAndReleaseAll();
            }
        }
        client.finishAndReleaseAll();
        if (pools != null) {
            pools.close();
        }
    }

    private void giveBack(int n, int maxOpen) {
        pools = EmbeddedUpstream.pools(backend, client.eventLoop(), maxOpen);
        UpstreamPool pool = pools.pool(backend, client.eventLoop());
        for (int i = 0; i < n; i++) {
            channels[i] = EmbeddedUpstream.channel();
            pool.giveBack(channels[i]);
        }
    }

    @Test
    void aLoopKeepsAsManyIdleChannelsAsTheBackendsBoundAllows() {
        // 1,250 slots' worth of streams ending together: the channels stay open for the next ones.
        giveBack(1_250, 1_266);
        assertThat(pools.idleConnections(backend)).isEqualTo(1_250);
        assertThat(channels[1_249].isOpen()).isTrue();
    }

    @Test
    void beyondTheBoundTheyAreClosed() {
        giveBack(1_300, 1_266);
        assertThat(pools.idleConnections(backend)).isEqualTo(1_266);
        assertThat(channels[0].isOpen()).isTrue();
        assertThat(channels[1_299].isOpen()).isFalse();
    }

    @Test
    void aSmallBoundStillKeepsTheLeastIdle() {
        giveBack(300, 8);
        assertThat(pools.idleConnections(backend)).isEqualTo(256);
    }
}

package io.ollamabalancer.server;

import io.ollamabalancer.api.LoadedModel;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.config.BackendConfig;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.OffsetDateTime;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** How {@link FleetMonitor} turns {@code /api/ps} entries into what the backend's memory model learns from. */
class FleetMonitorTest {

    @Test
    void expiresAtIsReadWithItsOffset() {
        assertThat(FleetMonitor.expiresAtMillis("2025-06-01T12:06:02.118031-07:00"))
                .isEqualTo(OffsetDateTime.parse("2025-06-01T19:06:02.118Z").toInstant().toEpochMilli());
        // keep_alive -1: Ollama writes now + MaxInt64 ns, around 2318; still a real (far) time.
        assertThat(FleetMonitor.expiresAtMillis("2318-08-07T03:55:24-07:00")).isGreaterThan(10_000_000_000_000L);
        assertThat(FleetMonitor.expiresAtMillis(null)).isEqualTo(Long.MAX_VALUE);
        assertThat(FleetMonitor.expiresAtMillis("soon")).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void snapshotsFeedTheBackendsMemory() {
        Backend b = new Backend(new BackendConfig("a", URI.create("http://h:1"), 1, null, true));
        long t0 = OffsetDateTime.parse("2025-06-01T12:00:00-07:00").toInstant().toEpochMilli();
        FleetMonitor.loaded(b, List.of(new LoadedModel("Llama3.2", 0, "2025-06-01T12:05:00-07:00", 4096,
                2_000_000_000L)), t0);
        assertThat(b.isLoaded("llama3.2:latest")).isTrue();
        assertThat(b.memory().sizeOf("llama3.2:latest")).isEqualTo(2_000_000_000L); // size, though size_vram is 0
        // A minute later llama3.2 is gone four minutes early and qwen arrived: an eviction on a one-model server.
        FleetMonitor.loaded(b, List.of(new LoadedModel("qwen2:0.5b", 500, "2025-06-01T12:06:00-07:00", 4096, 500)),
                t0 + 60_000);
        assertThat(b.memory().evictionsSeen()).isEqualTo(1);
        assertThat(b.memory().modelLimit()).isEqualTo(1);
    }
}

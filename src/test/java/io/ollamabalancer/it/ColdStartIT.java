package io.ollamabalancer.it;

import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A new fleet, nothing learned: the balancer's first requests go to the backend whose {@code /api/ps} shows its
 * model in GPU memory, not to CPU backends that are just as idle (issue #9's cold start, tried as the demo runs).
 */
class ColdStartIT {
    private static final List<SimModel> MODEL = List.of(
            SimModel.completion("llama3.2:1b", 1_300_000_000L, "llama", "1.2B", "Q8_0", true));

    private TestFleet fleet;

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    @Test
    void theFirstSequentialRequestsGoToTheGpuBackend() throws Exception {
        // Listed CPU first, so that config order or rotation alone would not pick the GPU.
        fleet = new TestFleet()
                .sim("cpu-1", b -> b.models(MODEL).slots(2).decodeTokensPerSecond(60).meanOutputTokens(20)
                        .maxOutputTokens(20))
                .sim("cpu-2", b -> b.models(MODEL).slots(2).decodeTokensPerSecond(40).meanOutputTokens(20)
                        .maxOutputTokens(20))
                .sim("gpu-1", b -> b.models(MODEL).slots(4).decodeTokensPerSecond(300).gpu(true)
                        .meanOutputTokens(20).maxOutputTokens(20))
                .start();
        // The first /api/ps poll has to have answered (it runs every second).
        Thread.sleep(1500);
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = Http.post(fleet.url() + "/api/generate",
                    "{\"model\":\"llama3.2:1b\",\"prompt\":\"question " + i + "\",\"stream\":false}");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("x-balancer-backend")).as("request %d", i).contains("gpu-1");
        }
    }
}

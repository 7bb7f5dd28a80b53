package io.ollamabalancer.server;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendProbe;
import io.ollamabalancer.sim.OllamaSimulator;
import io.ollamabalancer.testing.Http;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link ModelPreloader} against a real simulator that holds one model at a time. */
class ModelPreloaderTest {
    private OneModelBackend one;
    private OllamaSimulator sim;
    private Backend backend;
    private ModelPreloader preloader;
    private final AtomicInteger drains = new AtomicInteger();

    @BeforeEach
    void start() {
        one = new OneModelBackend(200);
        sim = one.sim;
        backend = one.backend;
        preloader = new ModelPreloader(one.fetcher, one.monitor::refreshLoaded, drains::incrementAndGet,
                System::nanoTime);
    }

    @AfterEach
    void stop() {
        one.close();
    }

    @Test
    void preloadLoadsTheModelThenPollsItAndDrains() throws Exception {
        BackendProbe.Reply r = preloader.send(backend, "qwen2.5:0.5b").get(10, TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo(200);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains("\"done_reason\":\"load\"");
        assertThat(Http.get(sim.baseUrl() + "/api/ps").body()).contains("\"name\":\"qwen2.5:0.5b\"");
        assertThat(sim.counters().loads()).isEqualTo(1);
        assertThat(backend.isLoaded("qwen2.5:0.5b")).as("/api/ps polled after the answer").isTrue();
        assertThat(drains.get()).isEqualTo(1);

        // The other model evicts it on a one-model server; the poll after the answer sees that too.
        preloader.send(backend, "llama3.2:1b").get(10, TimeUnit.SECONDS);
        assertThat(backend.isLoaded("llama3.2:1b")).isTrue();
        assertThat(backend.isLoaded("qwen2.5:0.5b")).isFalse();
        assertThat(sim.counters().evictions()).isEqualTo(1);
    }

    @Test
    void preloadReturnsAtOnceAndSendsOnePerModelAtATime() throws Exception {
        long t0 = System.nanoTime();
        preloader.preload(backend, "qwen2.5:0.5b");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).as("the 200 ms load is not waited for")
                .isLessThan(150);
        assertThat(preloader.send(backend, "qwen2.5:0.5b").get(1, TimeUnit.SECONDS)).as("already under way").isNull();
        org.awaitility.Awaitility.await().atMost(5, TimeUnit.SECONDS)
                .until(() -> backend.isLoaded("qwen2.5:0.5b"));
        assertThat(sim.counters().loads()).isEqualTo(1);
    }

    @Test
    void anUnknownModelIsA404ThatNeverCountsAgainstTheBackend() throws Exception {
        for (int i = 0; i < 10; i++) {
            BackendProbe.Reply r = preloader.send(backend, "no-such-model:latest").get(10, TimeUnit.SECONDS);
            assertThat(r.status()).isEqualTo(404);
        }
        assertThat(backend.healthTracker().passiveFailures()).isZero();
        assertThat(backend.isAvailable()).isTrue();
        assertThat(backend.healthTracker().ejections()).isZero();
        assertThat(drains.get()).isEqualTo(10);
    }

    @Test
    void anUnreachableBackendFailsQuietly() throws Exception {
        sim.close();
        assertThat(preloader.send(backend, "qwen2.5:0.5b").get(10, TimeUnit.SECONDS)).isNull();
        assertThat(backend.healthTracker().passiveFailures()).isZero();
        assertThat(backend.healthTracker().ejections()).isZero();
    }
}

package io.ollamabalancer.server;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendMemory;
import io.ollamabalancer.sim.OllamaSimulator;
import io.ollamabalancer.testing.Http;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@link LoadWatch} against a real simulator that holds one model at a time, with no regular {@code /api/ps} poll:
 * only the snapshots the watch takes (and the ones the test asks for) reach the backend's memory model.
 */
class LoadWatchTest {
    private static final String LLAMA = OneModelBackend.LLAMA;
    private static final String QWEN = OneModelBackend.QWEN;

    private OneModelBackend one;
    private OllamaSimulator sim;
    private Backend backend;
    private LoadWatch watch;

    @BeforeEach
    void start() throws Exception {
        one = new OneModelBackend(800);
        sim = one.sim;
        backend = one.backend;
        watch = new LoadWatch(one.monitor::refreshLoaded, one.group.next(), System::nanoTime);
        // llama resident, and seen so
        assertThat(generate(LLAMA).get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        one.monitor.refreshLoaded(backend).get(5, TimeUnit.SECONDS);
        assertThat(backend.isLoaded(LLAMA)).isTrue();
    }

    @AfterEach
    void stop() {
        one.close();
    }

    private CompletableFuture<HttpResponse<String>> generate(String model) {
        return Http.postAsync(sim.baseUrl() + "/api/generate",
                "{\"model\":\"" + model + "\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":4}}",
                "Content-Type", "application/json", java.time.Duration.ofSeconds(30));
    }

    @Test
    void aSwapAndTheSwapBackBetweenTwoRegularPollsAreLearned() throws Exception {
        // qwen evicts llama, answers, and llama (asked meanwhile) comes back: over before any regular poll would
        // have looked twice. The watch, started at the cold dispatch, sees qwen resident without llama.
        CompletableFuture<HttpResponse<String>> q = generate(QWEN);
        watch.coldDispatch(backend, QWEN);
        assertThat(watch.watching(backend)).isTrue();
        Thread.sleep(50);
        CompletableFuture<HttpResponse<String>> back = generate(LLAMA);
        assertThat(q.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(back.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(sim.counters().evictions()).isEqualTo(2);

        BackendMemory memory = backend.memory();
        assertThat(memory.evictionsSeen()).as("llama pushed out by qwen").isGreaterThanOrEqualTo(1);
        assertThat(memory.modelLimit()).isEqualTo(1);
        await().atMost(10, TimeUnit.SECONDS).until(() -> !watch.watching(backend));
    }

    @Test
    void theWatchEndsOnceTheModelIsListed() throws Exception {
        CompletableFuture<HttpResponse<String>> q = generate(QWEN);
        watch.coldDispatch(backend, QWEN);
        await().atMost(LoadWatch.WATCH_MILLIS, TimeUnit.MILLISECONDS).until(() -> !watch.watching(backend));
        assertThat(backend.isLoaded(QWEN)).isTrue();
        assertThat(backend.memory().modelLimit()).isEqualTo(1);
        assertThat(q.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }

    @Test
    void aModelNeverListedIsWatchedNoLongerThanTheWatchLasts() throws Exception {
        // The backend lacks this model (a 404 the scheduler would not send, but a lost request looks the same).
        watch.coldDispatch(backend, "no-such-model:latest");
        assertThat(watch.watching(backend)).isTrue();
        await().atMost(LoadWatch.WATCH_MILLIS + 5_000, TimeUnit.MILLISECONDS).until(() -> !watch.watching(backend));
        assertThat(backend.memory().evictionsSeen()).isZero();
    }
}

package io.ollamabalancer.server;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendMemory;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.backend.HealthPolicy;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.sim.OllamaSimulator;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.upstream.UpstreamFetcher;
import io.ollamabalancer.upstream.UpstreamPools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@link LoadWatch} against a real simulator that holds one model at a time, with no regular {@code /api/ps} poll:
 * only the snapshots the watch takes (and the ones the test asks for) reach the backend's memory model.
 */
class LoadWatchTest {
    private static final String LLAMA = "llama3.2:1b";
    private static final String QWEN = "qwen2.5:0.5b";

    private OllamaSimulator sim;
    private EventLoopGroup group;
    private UpstreamPools pools;
    private Backend backend;
    private FleetMonitor monitor;
    private LoadWatch watch;

    @BeforeEach
    void start() throws Exception {
        sim = OllamaSimulator.start(SimulatorConfig.builder().name("one").port(0).host("127.0.0.1")
                .models(List.of(
                        SimModel.completion(LLAMA, 1_000_000_000L, "llama", "1B", "Q8_0", false),
                        SimModel.completion(QWEN, 400_000_000L, "qwen2", "0.5B", "Q4_K_M", false)))
                .maxLoadedModels(1).loadTimeMillis(800).slots(2).build());
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        pools = new UpstreamPools(NioSocketChannel.class, NioDatagramChannel.class, 2_000, 60_000, 16,
                io.ollamabalancer.tls.TlsContexts.backends(null));
        UpstreamFetcher fetcher = new UpstreamFetcher(pools, group, 5_000);
        Fleet fleet = new Fleet(List.of(new BackendConfig("one", URI.create(sim.baseUrl()), 2, null, true)),
                HealthPolicy.defaults(), System::nanoTime);
        backend = fleet.all().get(0);
        monitor = new FleetMonitor(fleet, fetcher, null);
        watch = new LoadWatch(monitor::refreshLoaded, group.next(), System::nanoTime);
        // llama resident, and seen so
        assertThat(generate(LLAMA).get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        monitor.refreshLoaded(backend).get(5, TimeUnit.SECONDS);
        assertThat(backend.isLoaded(LLAMA)).isTrue();
    }

    @AfterEach
    void stop() {
        pools.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        sim.close();
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

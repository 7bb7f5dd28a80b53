package io.ollamabalancer.server;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendProbe;
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
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link ModelPreloader} against a real simulator that holds one model at a time. */
class ModelPreloaderTest {
    private OllamaSimulator sim;
    private EventLoopGroup group;
    private UpstreamPools pools;
    private Backend backend;
    private ModelPreloader preloader;
    private final AtomicInteger drains = new AtomicInteger();

    @BeforeEach
    void start() {
        sim = OllamaSimulator.start(SimulatorConfig.builder().name("one").port(0).host("127.0.0.1")
                .models(List.of(
                        SimModel.completion("llama3.2:1b", 1_000_000_000L, "llama", "1B", "Q8_0", false),
                        SimModel.completion("qwen2.5:0.5b", 400_000_000L, "qwen2", "0.5B", "Q4_K_M", false)))
                .maxLoadedModels(1).loadTimeMillis(200).slots(2).build());
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        pools = new UpstreamPools(NioSocketChannel.class, NioDatagramChannel.class, 2_000, 60_000, 16,
                io.ollamabalancer.tls.TlsContexts.backends(null));
        UpstreamFetcher fetcher = new UpstreamFetcher(pools, group, 5_000);
        Fleet fleet = new Fleet(List.of(new BackendConfig("one", URI.create(sim.baseUrl()), 2, null, true)),
                HealthPolicy.defaults(), System::nanoTime);
        backend = fleet.all().get(0);
        FleetMonitor monitor = new FleetMonitor(fleet, fetcher, null);
        preloader = new ModelPreloader(fetcher, monitor::refreshLoaded, drains::incrementAndGet, System::nanoTime);
    }

    @AfterEach
    void stop() {
        pools.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        sim.close();
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

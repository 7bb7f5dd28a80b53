package io.ollamabalancer.server;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.backend.HealthPolicy;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.sim.OllamaSimulator;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;
import io.ollamabalancer.upstream.UpstreamFetcher;
import io.ollamabalancer.upstream.UpstreamPools;

import java.net.URI;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test fixture: a real simulator that holds one model at a time (llama3.2:1b and qwen2.5:0.5b installed, two slots),
 * seen by the balancer as a one-backend fleet through real upstream pools on one event loop, with the
 * {@link FleetMonitor} that polls it (and no regular poll). Closes all of it.
 */
final class OneModelBackend implements AutoCloseable {
    static final String LLAMA = "llama3.2:1b";
    static final String QWEN = "qwen2.5:0.5b";

    final OllamaSimulator sim;
    final EventLoopGroup group;
    final UpstreamPools pools;
    final UpstreamFetcher fetcher;
    final Backend backend;
    final FleetMonitor monitor;

    /** @param loadMillis how long a model load takes */
    OneModelBackend(long loadMillis) {
        sim = OllamaSimulator.start(SimulatorConfig.builder().name("one").port(0).host("127.0.0.1")
                .models(List.of(
                        SimModel.completion(LLAMA, 1_000_000_000L, "llama", "1B", "Q8_0", false),
                        SimModel.completion(QWEN, 400_000_000L, "qwen2", "0.5B", "Q4_K_M", false)))
                .maxLoadedModels(1).loadTimeMillis(loadMillis).slots(2).build());
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        pools = new UpstreamPools(NioSocketChannel.class, NioDatagramChannel.class, 2_000, 60_000, slots -> 16,
                io.ollamabalancer.tls.TlsContexts.backends(null));
        fetcher = new UpstreamFetcher(pools, group, 5_000);
        Fleet fleet = new Fleet(List.of(new BackendConfig("one", URI.create(sim.baseUrl()), 2, null, true)),
                HealthPolicy.defaults(), System::nanoTime);
        backend = fleet.all().get(0);
        monitor = new FleetMonitor(fleet, fetcher, null);
    }

    @Override
    public void close() {
        pools.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        sim.close();
    }
}

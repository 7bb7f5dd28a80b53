package io.ollamabalancer.testing;

import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.server.BalancerServer;
import io.ollamabalancer.sim.OllamaSimulator;
import io.ollamabalancer.sim.SimulatorConfig;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Simulators on ephemeral loopback ports with a balancer in front of them, for integration tests. Closing it
 * stops everything. Not thread-safe; one per test (class).
 */
public final class TestFleet implements AutoCloseable {
    private final List<OllamaSimulator> sims = new ArrayList<>();
    private final List<BackendConfig> backends = new ArrayList<>();
    private BalancerServer balancer;

    /** Adds a simulator built from fast-test defaults changed by {@code tweak}; {@code slots} become its maxConcurrency. */
    public TestFleet sim(String name, UnaryOperator<SimulatorConfig.Builder> tweak) {
        SimulatorConfig cfg = tweak.apply(SimulatorConfig.builder()
                .name(name)
                .prefillTokensPerSecond(20_000)
                .decodeTokensPerSecond(500)
                .loadTimeMillis(5)
                .meanOutputTokens(12)
                .maxOutputTokens(40)
                .jitter(0)
                .slots(2)).build();
        OllamaSimulator sim = OllamaSimulator.start(cfg);
        sims.add(sim);
        backends.add(new BackendConfig(name, URI.create(sim.baseUrl()), cfg.slots(), null, true));
        return this;
    }

    /** Starts the balancer in front of the simulators added so far. */
    public TestFleet start() throws InterruptedException {
        return start(b -> b);
    }

    public TestFleet start(UnaryOperator<BalancerConfig.Builder> tweak) throws InterruptedException {
        BalancerConfig cfg = tweak.apply(BalancerConfig.builder()
                .bind("127.0.0.1")
                .port(0)
                .backendsFile(null)
                .modelRefreshInterval(Duration.ofMillis(500))
                .connectTimeout(Duration.ofSeconds(2))).build();
        balancer = BalancerServer.start(cfg, backends);
        return this;
    }

    /** The backend entries of the simulators added so far (what a backends file for them would hold). */
    public List<BackendConfig> backends() {
        return List.copyOf(backends);
    }

    /** Starts the balancer in front of only the first {@code n} simulators (the rest wait for a config reload). */
    public TestFleet startWith(int n, UnaryOperator<BalancerConfig.Builder> tweak) throws InterruptedException {
        List<BackendConfig> all = new ArrayList<>(backends);
        backends.clear();
        backends.addAll(all.subList(0, n));
        try {
            return start(tweak);
        } finally {
            backends.clear();
            backends.addAll(all);
        }
    }

    public OllamaSimulator sim(int i) {
        return sims.get(i);
    }

    public BalancerServer balancer() {
        return balancer;
    }

    public String url() {
        return "http://127.0.0.1:" + balancer.port();
    }

    public int port() {
        return balancer.port();
    }

    @Override
    public void close() {
        if (balancer != null) {
            balancer.close();
        }
        for (OllamaSimulator s : sims) {
            s.close();
        }
    }
}

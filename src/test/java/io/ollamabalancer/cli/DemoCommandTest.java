package io.ollamabalancer.cli;

import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.sim.SimulatorConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class DemoCommandTest {
    private final List<BalancerConfig> configs = new ArrayList<>();
    private final List<List<BackendConfig>> fleets = new ArrayList<>();
    private boolean balancerClosed;
    private final Launcher launcher = (config, backends) -> {
        configs.add(config);
        fleets.add(backends);
        return new Launcher.Running() {
            @Override
            public int port() {
                return 4321;
            }

            @Override
            public void awaitClose() {
            }

            @Override
            public void close() {
                balancerClosed = true;
            }
        };
    };

    private DemoCommand parse(String... args) {
        DemoCommand demo = new DemoCommand(launcher);
        new CommandLine(demo).parseArgs(args);
        return demo;
    }

    @Test
    void optionsHaveDefaultsAndAcceptTheUsualFlags() {
        DemoCommand d = parse();
        assertThat(d.port).isEqualTo(3000);
        assertThat(d.bind).isEqualTo("127.0.0.1");
        assertThat(d.backends).isEqualTo(3);
        assertThat(d.policy).isEqualTo("eft");
        DemoCommand p = parse("--port", "8080", "--bind", "0.0.0.0", "--backends", "5", "--policy", "round-robin",
                "--seed", "9");
        assertThat(p.port).isEqualTo(8080);
        assertThat(p.bind).isEqualTo("0.0.0.0");
        assertThat(p.backends).isEqualTo(5);
        assertThat(p.policy).isEqualTo("round-robin");
        assertThat(p.seed).isEqualTo(9);
    }

    @Test
    void fleetMixesOneFastAndSlowerBackends() {
        List<SimulatorConfig> plan = DemoFleet.plan(5, 100);
        assertThat(plan).extracting(SimulatorConfig::name).containsExactly("gpu-1", "cpu-1", "cpu-2", "gpu-2", "cpu-3");
        assertThat(plan).extracting(SimulatorConfig::decodeTokensPerSecond).containsExactly(300.0, 60.0, 40.0, 300.0,
                60.0);
        assertThat(plan).extracting(SimulatorConfig::slots).containsExactly(4, 2, 2, 4, 2);
        assertThat(plan).extracting(SimulatorConfig::seed).containsExactly(100L, 101L, 102L, 103L, 104L);
        assertThat(plan).allSatisfy(c -> {
            assertThat(c.port()).isZero();
            assertThat(c.host()).isEqualTo("127.0.0.1");
        });
        assertThat(plan.get(0).models()).extracting(m -> m.name())
                .containsExactly("llama3.2:1b", "qwen2.5:0.5b", "all-minilm");
        assertThat(plan.get(0).models().get(2).embeddingDims()).isEqualTo(384);
        assertThat(plan.get(1).models()).extracting(m -> m.name()).containsExactly("llama3.2:1b", "all-minilm");
        assertThat(plan.get(2).models()).extracting(m -> m.name()).containsExactly("llama3.2:1b", "qwen2.5:0.5b");
    }

    @Test
    void startsSimulatorsAndPutsTheBalancerInFrontOfThem() throws Exception {
        DemoCommand d = parse("--port", "0", "--backends", "2", "--policy", "least-connections");
        try (DemoCommand.Demo demo = d.start()) {
            BalancerConfig c = configs.get(0);
            assertThat(c.port()).isZero();
            assertThat(c.bind()).isEqualTo("127.0.0.1");
            assertThat(c.policy()).isEqualTo("least-connections");
            assertThat(c.redisUrl()).isNull();
            List<BackendConfig> fleet = fleets.get(0);
            assertThat(fleet).extracting(BackendConfig::name).containsExactly("gpu-1", "cpu-1");
            assertThat(fleet).extracting(BackendConfig::maxConcurrency).containsExactly(4, 2);
            HttpClient http = HttpClient.newHttpClient();
            for (BackendConfig b : fleet) {
                assertThat(b.url().getHost()).isEqualTo("127.0.0.1");
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(b.url().resolve("/api/version")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
            }
            String text = demo.instructions();
            assertThat(text).contains("http://127.0.0.1:4321 in front of 2 simulated Ollama servers",
                    "curl http://127.0.0.1:4321/api/generate", "curl http://127.0.0.1:4321/api/chat",
                    "curl http://127.0.0.1:4321/v1/chat/completions", "curl http://127.0.0.1:4321/api/tags",
                    "curl http://127.0.0.1:4321/balancer/status", fleet.get(0).url().toString());
        }
        assertThat(balancerClosed).isTrue();
    }

    @Test
    void aBadDemoOptionIsOneLineAndStartsNothing() {
        StringWriter err = new StringWriter();
        int code = Cli.run(new String[] {"demo", "--backends", "0"}, new CliContext(Map.of(), Path.of(".")), launcher,
                new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertThat(code).isEqualTo(2);
        assertThat(err.toString().lines()).containsExactly(
                "ollama-balancer: --backends must be between 1 and 12, found 0");
        StringWriter err2 = new StringWriter();
        code = Cli.run(new String[] {"demo", "--policy", "fastest"}, new CliContext(Map.of(), Path.of(".")), launcher,
                new PrintWriter(new StringWriter()), new PrintWriter(err2));
        assertThat(code).isEqualTo(2);
        assertThat(err2.toString().lines()).containsExactly("ollama-balancer: --policy: unknown policy \"fastest\""
                + " (expected eft, least-connections, round-robin or legacy)");
        StringWriter err3 = new StringWriter();
        code = Cli.run(new String[] {"demo", "--port", "http"}, new CliContext(Map.of(), Path.of(".")), launcher,
                new PrintWriter(new StringWriter()), new PrintWriter(err3));
        assertThat(code).isEqualTo(2);
        assertThat(err3.toString().lines()).hasSize(1).first().asString()
                .startsWith("ollama-balancer: Invalid value for option '--port': 'http' is not an int");
        assertThat(configs).isEmpty();
    }

    @Test
    void backendUrlsComeFromTheSimulators() {
        SimulatorConfig c = DemoFleet.plan(1, 1).get(0);
        assertThat(DemoFleet.backend(c, "http://127.0.0.1:5555"))
                .isEqualTo(new BackendConfig("gpu-1", URI.create("http://127.0.0.1:5555"), 4, null, true));
    }
}

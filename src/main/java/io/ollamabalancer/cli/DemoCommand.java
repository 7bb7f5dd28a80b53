package io.ollamabalancer.cli;

import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.config.ConfigException;
import io.ollamabalancer.config.Setting;
import io.ollamabalancer.server.PortInUse;
import io.ollamabalancer.sim.OllamaSimulator;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * {@code demo}: starts a few simulated Ollama servers in this process ({@link DemoFleet}), the balancer in front of
 * them, prints how to talk to it, and blocks until Ctrl-C. Nothing to install, no Redis. Runs on the main thread;
 * Ctrl-C or SIGTERM drains the balancer gracefully, then the simulators close; the shutdown hook (any other stop)
 * closes the balancer and then the simulators.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false, versionProvider = VersionProvider.class,
        description = "Start simulated Ollama backends in this process and the balancer in front of them.")
final class DemoCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--port", paramLabel = "PORT", description = "balancer port (0 = any free port; default 3000)")
    int port = 3000;

    @Option(names = "--bind", paramLabel = "HOST", description = "balancer address (default 127.0.0.1)")
    String bind = "127.0.0.1";

    @Option(names = "--backends", paramLabel = "N", description = "simulated backends, 1-12 (default 3)")
    int backends = 3;

    @Option(names = "--policy", paramLabel = "POLICY",
            description = "dispatch policy: eft, least-connections, round-robin or legacy (default eft)")
    String policy = "eft";

    @Option(names = "--seed", paramLabel = "N", description = "seed of the simulated answers (default 42)")
    long seed = 42;

    private final Launcher launcher;

    DemoCommand(Launcher launcher) {
        this.launcher = launcher;
    }

    @Override
    public Integer call() throws Exception {
        try (Demo demo = start()) {
            PrintWriter out = spec.commandLine().getOut();
            out.print(demo.instructions());
            out.flush();
            // Ctrl-C drains the balancer gracefully while the simulators still answer, then closes them.
            AutoCloseable signals = ShutdownHooks.onStopSignals(demo.balancer::shutdown, demo.balancer::hurry);
            Thread hook = ShutdownHooks.register("demo-shutdown", demo::close);
            try {
                demo.balancer.awaitClose();
            } finally {
                ShutdownHooks.unregister(hook);
                signals.close();
            }
        }
        return 0;
    }

    /** Starts simulators and balancer; on any failure, closes what had started. */
    Demo start() throws Exception {
        if (backends < 1 || backends > DemoFleet.MAX_BACKENDS) {
            throw new ConfigException("--backends must be between 1 and " + DemoFleet.MAX_BACKENDS + ", found "
                    + backends);
        }
        BalancerConfig.Builder builder = BalancerConfig.builder().backendsFile(null); // no file to watch
        for (Setting s : List.of(Setting.PORT, Setting.BIND, Setting.POLICY)) {
            String value = switch (s) {
                case PORT -> String.valueOf(port);
                case BIND -> bind;
                default -> policy;
            };
            try {
                s.apply(builder, value);
            } catch (ConfigException e) {
                throw e.prefixed(s.flag());
            }
        }
        // Before any simulator starts: a taken port is then one line and nothing to stop.
        PortInUse.check(bind, port, "--port");
        Demo demo = new Demo();
        try {
            List<BackendConfig> fleet = new ArrayList<>();
            for (SimulatorConfig c : DemoFleet.plan(backends, seed)) {
                OllamaSimulator sim = OllamaSimulator.start(c);
                demo.sims.add(sim);
                fleet.add(DemoFleet.backend(c, sim.baseUrl()));
            }
            demo.balancer = launcher.start(builder.build(), fleet);
            demo.bind = bind;
            return demo;
        } catch (Exception | Error e) {
            demo.close();
            throw e;
        }
    }

    /** What the demo started; closing it stops the balancer first, then the simulators. */
    static final class Demo implements AutoCloseable {
        final List<OllamaSimulator> sims = new ArrayList<>();
        private final AtomicBoolean closed = new AtomicBoolean();
        Launcher.Running balancer;
        String bind;

        String instructions() {
            String host = bind.equals("0.0.0.0") || bind.equals("::") ? "localhost" : bind.contains(":")
                    ? "[" + bind + "]" : bind;
            String url = "http://" + host + ":" + balancer.port();
            StringBuilder sb = new StringBuilder();
            sb.append("Ollama Balancer demo: ").append(url).append(" in front of ").append(sims.size())
                    .append(" simulated Ollama servers\n");
            for (OllamaSimulator s : sims) {
                SimulatorConfig c = s.config();
                sb.append(String.format(Locale.ROOT, "  %-6s %s  %4.0f tok/s decode, %d slots, models: %s%n", c.name(), s.baseUrl(),
                        c.decodeTokensPerSecond(), c.slots(),
                        c.models().stream().map(SimModel::name).collect(Collectors.joining(", "))));
            }
            sb.append("\nTry:\n");
            sb.append("  curl ").append(url).append("/api/generate -d '{\"model\":\"llama3.2:1b\",\"prompt\":\"Why is the")
                    .append(" sky blue?\"}'\n");
            sb.append("  curl ").append(url).append("/api/chat -d '{\"model\":\"llama3.2:1b\",\"messages\":[{\"role\":")
                    .append("\"user\",\"content\":\"Hello\"}],\"stream\":false}'\n");
            sb.append("  curl ").append(url).append("/v1/chat/completions -H 'Content-Type: application/json' -d ")
                    .append("'{\"model\":\"llama3.2:1b\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'\n");
            sb.append("  curl ").append(url).append("/api/embed -d '{\"model\":\"all-minilm\",\"input\":\"hello\"}'\n");
            sb.append("  curl ").append(url).append("/api/tags\n");
            sb.append("  curl ").append(url).append("/balancer/status\n");
            sb.append("\nWatch it live: ").append(url).append("/balancer/ui in a browser.\n");
            sb.append("\nOr point any Ollama client at it: OLLAMA_HOST=").append(url).append(" ollama run llama3.2:1b\n");
            sb.append("Press Ctrl-C to stop.\n");
            return sb.toString();
        }

        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            if (balancer != null) {
                balancer.close();
            }
            for (int i = sims.size() - 1; i >= 0; i--) {
                sims.get(i).close();
            }
        }
    }
}

package io.ollamabalancer.cli;

import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.config.BackendsFile;
import io.ollamabalancer.config.ConfigException;
import io.ollamabalancer.config.Sizes;
import io.ollamabalancer.sim.OllamaSimulator;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

/**
 * {@code simulate}: starts one or more simulated Ollama servers, described by flags or by a fleet file
 * ({@link FleetFile}), prints their URLs and blocks until Ctrl-C. With {@code --write-backends} it also writes a
 * backends file for the balancer pointing at them. Runs on the main thread; the shutdown hook closes the simulators.
 */
@Command(name = "simulate", mixinStandardHelpOptions = true, sortOptions = false,
        versionProvider = VersionProvider.class,
        description = {
            "Run simulated Ollama servers (for trying the balancer, tests and benchmarks).",
            "Either flags describe identical servers on the given ports, or --fleet FILE describes each one."
        })
final class SimulateCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--port", paramLabel = "PORT", description = "a port to serve on; repeat for several servers")
    List<Integer> port = new ArrayList<>();

    @Option(names = "--ports", paramLabel = "PORT", split = ",",
            description = "several ports at once, e.g. 11434,11435 (default: one server on 11434)")
    List<Integer> ports = new ArrayList<>();

    @Option(names = "--bind", paramLabel = "HOST", description = "address to listen on (default 127.0.0.1)")
    String bind;

    @Option(names = "--name", paramLabel = "NAME", description = "server name; several get NAME-1, NAME-2... (default sim)")
    String name;

    @Option(names = "--models", paramLabel = "MODEL", split = ",",
            description = "installed models (default llama3.2:1b,qwen2.5:0.5b,all-minilm)")
    List<String> models;

    @Option(names = "--decode-tps", paramLabel = "TPS", description = "generation speed, tokens/s of one stream (default 40)")
    Double decodeTps;

    @Option(names = "--prefill-tps", paramLabel = "TPS", description = "prompt processing speed, tokens/s (default 250)")
    Double prefillTps;

    @Option(names = "--slots", paramLabel = "N", description = "parallel generations, OLLAMA_NUM_PARALLEL (default 1)")
    Integer slots;

    @Option(names = "--max-queue", paramLabel = "N", description = "requests that may wait for a slot before 503 (default 512)")
    Integer maxQueue;

    @Option(names = "--load-ms", paramLabel = "MS", description = "cold model load time in milliseconds (default 1000)")
    Long loadMs;

    @Option(names = "--seed", paramLabel = "N", description = "seed of answers; server i gets SEED+i (default 42)")
    Long seed;

    @Option(names = "--gpu", description = "report models as loaded in VRAM")
    boolean gpu;

    @Option(names = "--max-loaded-models", paramLabel = "N",
            description = "models held in memory at once, OLLAMA_MAX_LOADED_MODELS; loading one more evicts one"
                    + " (default 0: no limit)")
    Integer maxLoadedModels;

    @Option(names = "--vram", paramLabel = "BYTES",
            description = "memory for loaded models, each taking its file size, e.g. 8GB (default: no limit)")
    String vram;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "serve HTTPS with this certificate chain (PEM; with --tls-key)")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "the private key of --tls-cert (PKCS#8 PEM)")
    Path tlsKey;

    @Option(names = "--fleet", paramLabel = "FILE", description = "a fleet file describing each server (JSON)")
    Path fleet;

    @Option(names = "--write-backends", paramLabel = "FILE",
            description = "write a backends file (containers.config.json format) for the started servers")
    Path writeBackends;

    @Override
    public Integer call() throws Exception {
        List<OllamaSimulator> sims = startAll(plan());
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = ShutdownHooks.register("simulate-shutdown", () -> {
            closeAll(sims);
            stopped.countDown();
        });
        try {
            PrintWriter out = spec.commandLine().getOut();
            if (writeBackends != null) {
                BackendsFile.write(backends(sims), writeBackends);
                out.println("Wrote " + writeBackends + " for the balancer.");
            }
            out.print(describe(sims));
            out.println("Press Ctrl-C to stop.");
            out.flush();
            stopped.await();
        } catch (IOException e) {
            closeAll(sims);
            throw new ConfigException(writeBackends + ": cannot write: " + e.getMessage());
        } finally {
            ShutdownHooks.unregister(hook);
        }
        return 0;
    }

    /** The servers the options describe, not yet started. */
    List<SimulatorConfig> plan() {
        if (fleet != null) {
            if (!port.isEmpty() || !ports.isEmpty() || bind != null || name != null || models != null
                    || decodeTps != null || prefillTps != null || slots != null || maxQueue != null || loadMs != null
                    || seed != null || gpu || maxLoadedModels != null || vram != null) {
                throw new ConfigException("--fleet describes every server; it cannot be combined with other"
                        + " simulator options");
            }
            return FleetFile.load(fleet, fleet.toString());
        }
        List<Integer> all = new ArrayList<>(port);
        all.addAll(ports);
        if (all.isEmpty()) {
            all.add(11434);
        }
        String base = name == null ? "sim" : name;
        long vramBytes = vram == null ? 0 : parseVram(vram);
        List<SimulatorConfig> out = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            SimulatorConfig.Builder b = SimulatorConfig.builder()
                    .name(all.size() == 1 ? base : base + "-" + (i + 1))
                    .port(all.get(i))
                    .gpu(gpu);
            if (bind != null) {
                b.host(bind);
            }
            if (models != null) {
                b.models(SimModels.list(models));
            }
            if (decodeTps != null) {
                b.decodeTokensPerSecond(decodeTps);
            }
            if (prefillTps != null) {
                b.prefillTokensPerSecond(prefillTps);
            }
            if (slots != null) {
                b.slots(slots);
            }
            if (maxQueue != null) {
                b.maxQueue(maxQueue);
            }
            if (loadMs != null) {
                b.loadTimeMillis(loadMs);
            }
            if (seed != null) {
                b.seed(seed + i);
            }
            if (maxLoadedModels != null) {
                b.maxLoadedModels(maxLoadedModels);
            }
            b.vramBytes(vramBytes);
            if ((tlsCert == null) != (tlsKey == null)) {
                throw new ConfigException("simulate: --tls-cert and --tls-key go together");
            }
            b.tls(tlsCert, tlsKey);
            try {
                out.add(b.build());
            } catch (IllegalArgumentException e) {
                throw new ConfigException("simulate: " + e.getMessage());
            }
        }
        return out;
    }

    private static long parseVram(String text) {
        try {
            return Sizes.parseBytes(text);
        } catch (ConfigException e) {
            throw new ConfigException("simulate: --vram: " + e.getMessage());
        }
    }

    private static List<OllamaSimulator> startAll(List<SimulatorConfig> configs) {
        List<OllamaSimulator> sims = new ArrayList<>();
        try {
            for (SimulatorConfig c : configs) {
                sims.add(OllamaSimulator.start(c));
            }
            return sims;
        } catch (RuntimeException e) {
            closeAll(sims);
            throw e;
        }
    }

    private static void closeAll(List<OllamaSimulator> sims) {
        for (int i = sims.size() - 1; i >= 0; i--) {
            sims.get(i).close();
        }
    }

    static List<BackendConfig> backends(List<OllamaSimulator> sims) {
        return sims.stream().map(s -> DemoFleet.backend(s.config(), s.baseUrl())).toList();
    }

    /** The memory limits for {@link #describe}, empty when there are none (as before they existed). */
    private static String memory(SimulatorConfig c) {
        String s = "";
        if (c.maxLoadedModels() > 0) {
            s += ", at most " + c.maxLoadedModels() + " loaded";
        }
        if (c.vramBytes() > 0) {
            s += ", " + Sizes.format(c.vramBytes()) + " memory";
        }
        return s;
    }

    static String describe(List<OllamaSimulator> sims) {
        StringBuilder sb = new StringBuilder();
        for (OllamaSimulator s : sims) {
            SimulatorConfig c = s.config();
            sb.append(String.format(Locale.ROOT, "%s  %s  %.0f tok/s decode, %.0f tok/s prefill, %d slots%s, models: %s%n",
                    c.name(), s.baseUrl(), c.decodeTokensPerSecond(), c.prefillTokensPerSecond(), c.slots(),
                    memory(c), c.models().stream().map(SimModel::name).collect(Collectors.joining(", "))));
        }
        return sb.toString();
    }
}

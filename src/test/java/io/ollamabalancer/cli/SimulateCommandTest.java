package io.ollamabalancer.cli;

import io.ollamabalancer.config.ConfigException;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SimulateCommandTest {

    private static List<SimulatorConfig> plan(String... args) {
        SimulateCommand c = new SimulateCommand();
        new CommandLine(c).parseArgs(args);
        return c.plan();
    }

    @Test
    void withoutOptionsOneSimulatorLikeOllama() {
        assertThat(plan()).containsExactly(SimulatorConfig.builder().name("sim").port(11434).build());
    }

    @Test
    void portsAndSharedSettingsMakeNumberedServersWithDistinctSeeds() {
        List<SimulatorConfig> sims = plan("--ports", "11434,11435", "--port", "11500", "--name", "cpu",
                "--models", "llama3.2:1b,nomic-embed-text", "--decode-tps", "55.5", "--prefill-tps", "300",
                "--slots", "3", "--max-queue", "7", "--load-ms", "0", "--seed", "5", "--bind", "127.0.0.1", "--gpu");
        assertThat(sims).extracting(SimulatorConfig::name).containsExactly("cpu-1", "cpu-2", "cpu-3");
        assertThat(sims).extracting(SimulatorConfig::port).containsExactly(11500, 11434, 11435);
        assertThat(sims).extracting(SimulatorConfig::seed).containsExactly(5L, 6L, 7L);
        SimulatorConfig first = sims.get(0);
        assertThat(first.models()).extracting(SimModel::name).containsExactly("llama3.2:1b", "nomic-embed-text");
        assertThat(first.models().get(1).embeddingDims()).isEqualTo(768);
        assertThat(first.decodeTokensPerSecond()).isEqualTo(55.5);
        assertThat(first.prefillTokensPerSecond()).isEqualTo(300);
        assertThat(first.slots()).isEqualTo(3);
        assertThat(first.maxQueue()).isEqualTo(7);
        assertThat(first.loadTimeMillis()).isZero();
        assertThat(first.gpu()).isTrue();
    }

    @Test
    void memoryFlagsReachEveryServer() {
        List<SimulatorConfig> sims = plan("--ports", "11434,11435", "--max-loaded-models", "2", "--vram", "8GB");
        assertThat(sims).extracting(SimulatorConfig::maxLoadedModels).containsExactly(2, 2);
        assertThat(sims).extracting(SimulatorConfig::vramBytes).containsExactly(8L << 30, 8L << 30);
        assertThat(plan("--vram", "1048576").get(0).vramBytes()).isEqualTo(1 << 20);
        assertThat(plan().get(0).memoryLimited()).isFalse();
    }

    @Test
    void invalidSimulatorSettingsAreConfigErrors() {
        assertThatThrownBy(() -> plan("--slots", "0")).isInstanceOf(ConfigException.class)
                .hasMessage("simulate: slots must be >= 1");
        assertThatThrownBy(() -> plan("--max-loaded-models", "-1")).isInstanceOf(ConfigException.class)
                .hasMessage("simulate: maxLoadedModels must be >= 0 (0: no limit)");
        assertThatThrownBy(() -> plan("--vram", "lots")).isInstanceOf(ConfigException.class)
                .hasMessage("simulate: --vram: invalid size \"lots\" (expected e.g. 256MB, 64KB, 1g or 1048576)");
        assertThatThrownBy(() -> plan("--fleet", "f.json", "--vram", "1g")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("cannot be combined");
    }

    @Test
    void fleetFileDescribesEveryServerAndExcludesOtherFlags(@TempDir Path dir) throws Exception {
        Path fleet = dir.resolve("fleet.json");
        Files.writeString(fleet, "[{\"name\":\"a\",\"port\":0},{\"name\":\"b\",\"port\":0,\"slots\":2}]");
        assertThat(plan("--fleet", fleet.toString())).extracting(SimulatorConfig::name).containsExactly("a", "b");

        StringWriter err = new StringWriter();
        int code = Cli.run(new String[] {"simulate", "--fleet", fleet.toString(), "--slots", "2"},
                new CliContext(Map.of(), dir), (c, b) -> {
                    throw new AssertionError("simulate never starts a balancer");
                }, new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertThat(code).isEqualTo(2);
        assertThat(err.toString().lines()).containsExactly("ollama-balancer: --fleet describes every server; it"
                + " cannot be combined with other simulator options");
    }

    @Test
    void aMissingFleetFileIsOneLine(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        int code = Cli.run(new String[] {"simulate", "--fleet", dir.resolve("none.json").toString()},
                new CliContext(Map.of(), dir), Launcher.SERVER, new PrintWriter(new StringWriter()),
                new PrintWriter(err));
        assertThat(code).isEqualTo(2);
        assertThat(err.toString().lines()).containsExactly("ollama-balancer: " + dir.resolve("none.json")
                + ": file not found");
    }

    @Test
    void helpStatesTheSimulatorDefaults() {
        SimulatorConfig d = SimulatorConfig.builder().build();
        String help = new CommandLine(new SimulateCommand()).getUsageMessage().replaceAll("\\s+", " ");
        assertThat(help).contains(
                "tokens/s of one stream (default " + Math.round(d.decodeTokensPerSecond()) + ")",
                "prompt processing speed, tokens/s (default " + Math.round(d.prefillTokensPerSecond()) + ")",
                "OLLAMA_NUM_PARALLEL (default " + d.slots() + ")",
                "before 503 (default " + d.maxQueue() + ")",
                "milliseconds (default " + d.loadTimeMillis() + ")",
                "SEED+i (default " + d.seed() + ")");
        // the models line wraps in the usage text, so compare without spaces
        assertThat(help.replace(" ", "")).contains("installedmodels(default" + String.join(",",
                d.models().stream().map(SimModel::name).toList()) + ")");
    }
}

package io.ollamabalancer.cli;

import io.ollamabalancer.config.ConfigException;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FleetFileTest {
    private static final String FILE = "fleet.json";

    private static List<SimulatorConfig> parse(String json) {
        return FleetFile.parse(json.replace('\'', '"').getBytes(StandardCharsets.UTF_8), FILE);
    }

    @Test
    void bareArrayUsesBuilderDefaultsForWhatIsNotSaid() {
        List<SimulatorConfig> sims = parse("[{'name':'a','port':11434},{'port':11435,'slots':3}]");
        SimulatorConfig defaults = SimulatorConfig.builder().build();
        assertThat(sims).hasSize(2);
        assertThat(sims.get(0)).isEqualTo(defaults.toBuilder().name("a").port(11434).build());
        assertThat(sims.get(1)).isEqualTo(defaults.toBuilder().name("sim-2").port(11435).slots(3).build());
    }

    @Test
    void everyFieldReachesTheConfigAndDefaultsApplyUnderEachSimulator() {
        List<SimulatorConfig> sims = parse("""
                {
                  "defaults": {"host": "127.0.0.2", "seed": 7, "maxQueue": 5},
                  "simulators": [
                    {"name": "gpu", "port": 0, "models": ["llama3.2:1b", {"name": "all-minilm", "loadedAtStart": true}],
                     "prefillTokensPerSecond": 4000, "decodeTokensPerSecond": 300.5, "slots": 4, "maxQueue": 9,
                     "loadTimeMillis": 800, "version": "0.9.9", "meanOutputTokens": 50, "maxOutputTokens": 500,
                     "decodeSlowdown": 0.3, "jitter": 0, "keepAliveMillis": -1, "checkHost": true, "gpu": true,
                     "contextLength": 8192}
                  ]
                }
                """);
        SimulatorConfig expected = SimulatorConfig.builder().name("gpu").host("127.0.0.2").port(0)
                .models(List.of(SimModels.named("llama3.2:1b"), SimModels.named("all-minilm").withLoadedAtStart(true)))
                .prefillTokensPerSecond(4000).decodeTokensPerSecond(300.5).slots(4).maxQueue(9).loadTimeMillis(800)
                .seed(7).version("0.9.9").meanOutputTokens(50).maxOutputTokens(500).decodeSlowdown(0.3).jitter(0)
                .keepAliveMillis(-1).checkHost(true).gpu(true).contextLength(8192).build();
        assertThat(sims).containsExactly(expected);
    }

    @Test
    void memoryLimitsTakeDefaultsAndSizeStrings() {
        List<SimulatorConfig> sims = parse("{'defaults':{'maxLoadedModels':2,'vramBytes':'8GB'},"
                + "'simulators':[{'name':'a'},{'name':'b','maxLoadedModels':0,'vramBytes':1000}]}");
        assertThat(sims.get(0).maxLoadedModels()).isEqualTo(2);
        assertThat(sims.get(0).vramBytes()).isEqualTo(8L << 30);
        assertThat(sims.get(0).memoryLimited()).isTrue();
        assertThat(sims.get(1).maxLoadedModels()).isZero();
        assertThat(sims.get(1).vramBytes()).isEqualTo(1000);
        assertThat(parse("[{'name':'c'}]").get(0).memoryLimited()).isFalse();
    }

    @Test
    void countMakesNumberedCopiesOnConsecutivePortsWithDistinctSeeds() {
        List<SimulatorConfig> sims = parse("{'simulators':[{'name':'cpu','count':3,'port':12000,'seed':10},"
                + "{'name':'eph','count':2}]}");
        assertThat(sims).extracting(SimulatorConfig::name).containsExactly("cpu-1", "cpu-2", "cpu-3", "eph-1", "eph-2");
        assertThat(sims).extracting(SimulatorConfig::port).containsExactly(12000, 12001, 12002, 0, 0);
        assertThat(sims.subList(0, 3)).extracting(SimulatorConfig::seed).containsExactly(10L, 11L, 12L);
    }

    @Test
    void modelObjectsStartFromTheNamedModel() {
        SimModel m = parse("[{'models':[{'name':'my-embedder','embeddingDims':1024,'sizeBytes':5}]}]").get(0)
                .models().get(0);
        assertThat(m.name()).isEqualTo("my-embedder");
        assertThat(m.embeddingDims()).isEqualTo(1024);
        assertThat(m.sizeBytes()).isEqualTo(5);
        assertThat(m.family()).isEqualTo(SimModels.named("my-embedder").family());
        SimModel known = parse("[{'models':['qwen2.5:0.5b']}]").get(0).models().get(0);
        assertThat(known).isEqualTo(SimModel.defaults().get(1));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "empty            | ``                                   | no simulators defined (the file is empty)",
        "empty array      | []                                   | no simulators defined",
        "top-level number | 3                                    | expected an array of simulators or an object with a \"simulators\" array, found a number",
        "unknown top      | {'simulators':[{}],'x':1}            | unknown field \"x\" (expected \"defaults\" and \"simulators\")",
        "no simulators    | {'defaults':{}}                      | expected a \"simulators\" array",
        "defaults array   | {'defaults':[],'simulators':[{}]}    | \"defaults\" must be an object, found an array",
        "entry not object | [{}, 'x']                            | simulator #2: expected an object, found a string",
        "unknown field    | [{'name':'a','slot':2}]              | simulator \"a\": unknown field \"slot\"",
        "unnamed unknown  | [{'slot':2}]                         | simulator #1: unknown field \"slot\"",
        "string slots     | [{'name':'a','slots':'2'}]           | simulator \"a\": \"slots\" must be a whole number, found \"2\"",
        "fraction port    | [{'name':'a','port':1.5}]            | simulator \"a\": \"port\" must be a whole number, found 1.5",
        "bool as string   | [{'name':'a','gpu':'yes'}]           | simulator \"a\": \"gpu\" must be true or false, found \"yes\"",
        "rate as string   | [{'name':'a','decodeTokensPerSecond':'fast'}] | simulator \"a\": \"decodeTokensPerSecond\" must be a number, found \"fast\"",
        "zero slots       | [{'name':'a','slots':0}]             | simulator \"a\": slots must be >= 1",
        "negative models  | [{'name':'a','maxLoadedModels':-1}]  | simulator \"a\": maxLoadedModels must be >= 0 (0: no limit)",
        "vram fraction    | [{'name':'a','vramBytes':1.5}]       | simulator \"a\": \"vramBytes\" must be a byte count (e.g. 8589934592 or \"8GB\"), found 1.5",
        "vram bad unit    | [{'name':'a','vramBytes':'8 parsecs'}] | simulator \"a\": \"vramBytes\": invalid size \"8 parsecs\" (expected e.g. 256MB, 64KB, 1g or 1048576)",
        "vram negative    | [{'name':'a','vramBytes':-1}]        | simulator \"a\": vramBytes must be >= 0 (0: no limit)",
        "bad port         | [{'name':'a','port':70000}]          | simulator \"a\": port out of range: 70000",
        "bad count        | [{'name':'a','count':0}]             | simulator \"a\": \"count\" must be between 1 and 256, found 0",
        "models string    | [{'name':'a','models':'llama3'}]     | simulator \"a\": \"models\" must be an array, found a string",
        "model number     | [{'name':'a','models':[3]}]          | simulator \"a\": each model must be a name or an object, found 3",
        "model no name    | [{'name':'a','models':[{}]}]         | simulator \"a\": a model object needs a \"name\"",
        "model unknown    | [{'name':'a','models':[{'name':'m','dims':3}]}] | simulator \"a\": model \"m\": unknown field \"dims\"",
        "model dup        | [{'name':'a','models':['m','M:latest']}] | simulator \"a\": duplicate model M:latest",
        "duplicate names  | [{'name':'a'},{'name':'a'}]          | two simulators are named \"a\"",
        "duplicate ports  | [{'name':'a','port':5000},{'name':'b','port':5000}] | simulator \"b\": port 5000 is already used by another simulator",
    })
    void mistakesAreOneLine(String label, String json, String message) {
        assertThatThrownBy(() -> parse(json == null ? "" : json)).isInstanceOf(ConfigException.class)
                .hasMessage(FILE + ": " + message);
    }
}

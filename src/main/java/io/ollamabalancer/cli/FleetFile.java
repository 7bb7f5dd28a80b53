package io.ollamabalancer.cli;

import io.ollamabalancer.config.ConfigException;
import io.ollamabalancer.config.ConfigJson;
import io.ollamabalancer.config.ConfigJson.Node;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a simulator fleet file, the JSON that {@code simulate --fleet} and the benchmarks use to describe several
 * simulated Ollama servers at once:
 * <pre>
 * {
 *   "defaults":   { "host": "127.0.0.1", "seed": 7 },
 *   "simulators": [
 *     { "name": "gpu", "port": 11434, "decodeTokensPerSecond": 300, "prefillTokensPerSecond": 4000, "slots": 4,
 *       "gpu": true, "decodeSlowdown": 0.3,
 *       "models": ["llama3.2:1b", {"name": "all-minilm", "embeddingDims": 384, "loadedAtStart": true}] },
 *     { "name": "cpu", "count": 2, "port": 11435, "decodeTokensPerSecond": 50, "slots": 2 }
 *   ]
 * }
 * </pre>
 * A bare array of simulators is accepted too. Each simulator's fields are {@link SimulatorConfig}'s, by the same
 * names ({@code name host port models prefillTokensPerSecond decodeTokensPerSecond slots maxQueue loadTimeMillis
 * seed version meanOutputTokens maxOutputTokens decodeSlowdown jitter keepAliveMillis checkHost gpu
 * contextLength maxLoadedModels vramBytes idleTimeoutMillis}), all optional, {@code vramBytes} also as a size
 * string such as {@code "8GB"}, falling back to {@code "defaults"} and then to {@link SimulatorConfig#builder()}.
 * Two more: {@code count} starts that many copies named {@code name-1..name-N}, on consecutive ports (or ephemeral
 * ones for port 0) with seeds {@code seed, seed+1, ...}; a model is a name ({@link SimModels#named}) or an object
 * with {@link SimModel}'s fields, where the name is required and the rest default to the named model's.
 * Unknown fields are errors (a typo in a benchmark should not pass silently). Stateless and thread-safe.
 */
public final class FleetFile {
    private static final Set<String> MODEL_FIELDS = Set.of("name", "sizeBytes", "family", "parameterSize",
            "quantization", "embeddingDims", "loadedAtStart");

    private FleetFile() {
    }

    public static List<SimulatorConfig> load(Path file, String shownName) {
        return parse(ConfigJson.readFile(file, shownName), shownName);
    }

    public static List<SimulatorConfig> parse(byte[] json, String file) {
        Node root = ConfigJson.parse(json, file);
        Map<String, Node> defaults = Map.of();
        List<Node> entries;
        if (root == null) {
            throw new ConfigException(file + ": no simulators defined (the file is empty)");
        } else if (root.isArray()) {
            entries = root.items();
        } else if (root.isObject()) {
            for (String field : root.fields().keySet()) {
                if (!field.equals("defaults") && !field.equals("simulators")) {
                    throw new ConfigException(file + ": unknown field \"" + field + "\" (expected \"defaults\" and"
                            + " \"simulators\")");
                }
            }
            Node d = root.fields().get("defaults");
            if (d != null && !d.isObject()) {
                throw new ConfigException(file + ": \"defaults\" must be an object, found " + d.describe());
            }
            defaults = d == null ? Map.of() : d.fields();
            Node s = root.fields().get("simulators");
            if (s == null || !s.isArray()) {
                throw new ConfigException(file + ": expected a \"simulators\" array" + (s == null ? ""
                        : ", found " + s.describe()));
            }
            entries = s.items();
        } else {
            throw new ConfigException(file + ": expected an array of simulators or an object with a \"simulators\""
                    + " array, found " + root.describe());
        }
        if (entries.isEmpty()) {
            throw new ConfigException(file + ": no simulators defined");
        }
        List<SimulatorConfig> out = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            Node e = entries.get(i);
            if (!e.isObject()) {
                throw new ConfigException(file + ": simulator #" + (i + 1) + ": expected an object, found "
                        + e.describe());
            }
            Map<String, Node> fields = new LinkedHashMap<>(defaults);
            fields.putAll(e.fields());
            out.addAll(simulators(fields, i + 1, file));
        }
        checkUnique(out, file);
        return List.copyOf(out);
    }

    private static List<SimulatorConfig> simulators(Map<String, Node> f, int number, String file) {
        Node nameNode = f.get("name");
        String name = nameNode != null && nameNode.isString() && !nameNode.text().isBlank() ? nameNode.text().strip()
                : "sim-" + number;
        String at = file + ": simulator " + (nameNode != null && nameNode.isString() ? "\"" + name + "\""
                : "#" + number);
        FleetFields fields = new FleetFields(f, at);
        SimulatorConfig.Builder b = SimulatorConfig.builder().name(name);
        for (String field : f.keySet()) {
            switch (field) {
                case "name" -> fields.string(field);
                case "count" -> fields.integer(field);
                case "host" -> b.host(fields.string(field));
                case "port" -> b.port(fields.integer(field));
                case "models" -> b.models(models(f.get(field), at));
                case "prefillTokensPerSecond" -> b.prefillTokensPerSecond(fields.number(field));
                case "decodeTokensPerSecond" -> b.decodeTokensPerSecond(fields.number(field));
                case "slots" -> b.slots(fields.integer(field));
                case "maxQueue" -> b.maxQueue(fields.integer(field));
                case "loadTimeMillis" -> b.loadTimeMillis(fields.whole(field));
                case "seed" -> b.seed(fields.whole(field));
                case "version" -> b.version(fields.string(field));
                case "meanOutputTokens" -> b.meanOutputTokens(fields.integer(field));
                case "maxOutputTokens" -> b.maxOutputTokens(fields.integer(field));
                case "decodeSlowdown" -> b.decodeSlowdown(fields.number(field));
                case "jitter" -> b.jitter(fields.number(field));
                case "keepAliveMillis" -> b.keepAliveMillis(fields.whole(field));
                case "checkHost" -> b.checkHost(fields.bool(field));
                case "gpu" -> b.gpu(fields.bool(field));
                case "contextLength" -> b.contextLength(fields.integer(field));
                case "maxLoadedModels" -> b.maxLoadedModels(fields.integer(field));
                case "vramBytes" -> b.vramBytes(fields.bytes(field));
                case "idleTimeoutMillis" -> b.idleTimeoutMillis(fields.whole(field));
                default -> throw new ConfigException(at + ": unknown field \"" + field + "\"");
            }
        }
        int count = f.containsKey("count") ? fields.integer("count") : 1;
        if (count < 1 || count > 256) {
            throw new ConfigException(at + ": \"count\" must be between 1 and 256, found " + count);
        }
        SimulatorConfig base = build(b, at);
        if (count == 1) {
            return List.of(base);
        }
        List<SimulatorConfig> copies = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int port = base.port() == 0 ? 0 : base.port() + i;
            copies.add(build(base.toBuilder().name(name + "-" + (i + 1)).port(port).seed(base.seed() + i), at));
        }
        return copies;
    }

    private static SimulatorConfig build(SimulatorConfig.Builder b, String at) {
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(at + ": " + e.getMessage());
        }
    }

    private static List<SimModel> models(Node node, String at) {
        if (!node.isArray()) {
            throw new ConfigException(at + ": \"models\" must be an array, found " + node.describe());
        }
        List<SimModel> out = new ArrayList<>();
        for (Node m : node.items()) {
            if (m.isString() && !m.text().isBlank()) {
                out.add(SimModels.named(m.text()));
            } else if (m.isObject()) {
                out.add(model(m.fields(), at));
            } else {
                throw new ConfigException(at + ": each model must be a name or an object, found " + m.shown());
            }
        }
        return out;
    }

    private static SimModel model(Map<String, Node> f, String at) {
        Node n = f.get("name");
        if (n == null || !n.isString() || n.text().isBlank()) {
            throw new ConfigException(at + ": a model object needs a \"name\"");
        }
        String where = at + ": model \"" + n.text() + "\"";
        for (String field : f.keySet()) {
            if (!MODEL_FIELDS.contains(field)) {
                throw new ConfigException(where + ": unknown field \"" + field + "\"");
            }
        }
        FleetFields fields = new FleetFields(f, where);
        SimModel base = SimModels.named(n.text());
        try {
            return new SimModel(base.name(),
                    f.containsKey("sizeBytes") ? fields.whole("sizeBytes") : base.sizeBytes(),
                    f.containsKey("family") ? fields.string("family") : base.family(),
                    f.containsKey("parameterSize") ? fields.string("parameterSize") : base.parameterSize(),
                    f.containsKey("quantization") ? fields.string("quantization") : base.quantization(),
                    f.containsKey("embeddingDims") ? fields.integer("embeddingDims") : base.embeddingDims(),
                    f.containsKey("loadedAtStart") ? fields.bool("loadedAtStart") : base.loadedAtStart());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(where + ": " + e.getMessage());
        }
    }

    private static void checkUnique(List<SimulatorConfig> sims, String file) {
        Set<String> names = new HashSet<>();
        Set<String> ports = new HashSet<>();
        for (SimulatorConfig c : sims) {
            if (!names.add(c.name())) {
                throw new ConfigException(file + ": two simulators are named \"" + c.name() + "\"");
            }
            if (c.port() != 0 && !ports.add(c.host() + ":" + c.port())) {
                throw new ConfigException(file + ": simulator \"" + c.name() + "\": port " + c.port()
                        + " is already used by another simulator");
            }
        }
    }
}

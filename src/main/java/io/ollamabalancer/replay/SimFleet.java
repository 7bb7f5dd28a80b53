package io.ollamabalancer.replay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.ollamabalancer.backend.ModelNames;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A simulated fleet as the benchmark sees it: the simulators of a fleet file, and the simulator's timing model
 * (slot, load if cold, 1–4 ms warm-up, prefill, then one token every
 * {@code (1 + decodeSlowdown × (k − 1)) / decodeTokensPerSecond} seconds with k streams) used by the
 * discrete-event replay, the oracle and the load calculation. Immutable.
 *
 * @param name label for reports (the fleet file's name, usually)
 * @param sims the simulators, in file order
 */
public record SimFleet(String name, List<SimulatorConfig> sims) {
    /** The simulator's mean warm-model overhead ({@code load_duration} when warm: 1–4 ms). */
    static final double WARM_SECONDS = 0.0025;
    private static final JsonFactory JSON = new JsonFactory();

    public SimFleet {
        sims = List.copyOf(sims);
        if (sims.isEmpty()) {
            throw new IllegalArgumentException("a fleet needs at least one simulator");
        }
    }

    public SimAnswers answers() {
        return SimAnswers.of(sims);
    }

    /** Whether {@code sim} has the model (any spelling of its name). */
    static boolean has(SimulatorConfig sim, String model) {
        String key = ModelNames.normalize(model);
        for (SimModel m : sim.models()) {
            if (ModelNames.normalize(m.name()).equals(key)) {
                return true;
            }
        }
        return false;
    }

    /** Normalised names of the models {@code sim} has loaded when it starts. */
    static List<String> loadedAtStart(SimulatorConfig sim) {
        List<String> out = new ArrayList<>();
        for (SimModel m : sim.models()) {
            if (m.loadedAtStart()) {
                out.add(ModelNames.normalize(m.name()));
            }
        }
        return out;
    }

    /** Seconds of prefill for {@code r} on {@code sim}. */
    static double prefillSeconds(TraceRequest r, SimulatorConfig sim) {
        return r.promptTokens() / sim.prefillTokensPerSecond();
    }

    /** Seconds between two tokens on {@code sim} with {@code streams} generations running. */
    static double tokenSeconds(SimulatorConfig sim, int streams) {
        return (1 + sim.decodeSlowdown() * (Math.max(1, streams) - 1)) / sim.decodeTokensPerSecond();
    }

    /** Start-to-end seconds of {@code r} on {@code sim} with {@code streams} generations running there. */
    static double serviceSeconds(TraceRequest r, SimulatorConfig sim, boolean cold, int streams) {
        return (cold ? sim.loadTimeMillis() / 1000.0 : 0) + WARM_SECONDS + prefillSeconds(r, sim)
                + r.outputTokens() * tokenSeconds(sim, streams);
    }

    /**
     * Requests per second the fleet completes when every slot is busy with requests like {@code sample}'s: the sum
     * over simulators of slots over their mean warm service time with every slot busy (model placement and loads
     * ignored).
     */
    public double capacity(Trace sample) {
        double capacity = 0;
        for (SimulatorConfig sim : sims) {
            double total = 0;
            for (TraceRequest r : sample.requests()) {
                total += serviceSeconds(r, sim, false, sim.slots());
            }
            capacity += sim.slots() / (total / sample.size());
        }
        return capacity;
    }

    /** The arrival rate that keeps the fleet {@code load} busy (0.7: 70 %) with requests like {@code sample}'s. */
    public double rateFor(double load, Trace sample) {
        return load * capacity(sample);
    }

    /** Whether any simulator's memory limits which models it holds at once. */
    public boolean memoryLimited() {
        for (SimulatorConfig c : sims) {
            if (c.memoryLimited()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The same fleet without model swaps: every model each simulator has loaded at start, and no memory limits
     * ({@code maxLoadedModels} 0, {@code vramBytes} 0). Speeds, slots and model placement are unchanged, so the
     * same trace runs on it; {@link OracleReplay} on it is the no-swap oracle of a memory-limited fleet.
     */
    public SimFleet noSwap() {
        List<SimulatorConfig> out = new ArrayList<>();
        for (SimulatorConfig c : sims) {
            List<SimModel> models = new ArrayList<>();
            for (SimModel m : c.models()) {
                models.add(m.withLoadedAtStart(true));
            }
            out.add(c.toBuilder().models(models).maxLoadedModels(0).vramBytes(0).build());
        }
        return new SimFleet(name + " (no swap)", out);
    }

    /**
     * The fleet's generation models (embedding models left out), each once, in the order they first appear
     * (simulator by simulator, each in its file order).
     */
    public List<String> modelOrder() {
        List<String> out = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (SimulatorConfig c : sims) {
            for (SimModel m : c.models()) {
                String key = ModelNames.normalize(m.name());
                if (!m.isEmbedding() && !keys.contains(key)) {
                    keys.add(key);
                    out.add(m.name());
                }
            }
        }
        return out;
    }

    /** The same fleet {@code factor} times faster: token rates multiplied, load times divided. */
    public SimFleet speedup(double factor) {
        List<SimulatorConfig> out = new ArrayList<>();
        for (SimulatorConfig c : sims) {
            out.add(c.toBuilder().decodeTokensPerSecond(c.decodeTokensPerSecond() * factor)
                    .prefillTokensPerSecond(c.prefillTokensPerSecond() * factor)
                    .loadTimeMillis(Math.round(c.loadTimeMillis() / factor)).build());
        }
        return new SimFleet(name + " ×" + (factor == Math.rint(factor) ? String.valueOf((long) factor) : factor), out);
    }

    /** Writes the fleet in the fleet-file format ({@code simulate --fleet} reads it back). */
    public void write(Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file); JsonGenerator g = JSON.createGenerator(out)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeArrayFieldStart("simulators");
            for (SimulatorConfig c : sims) {
                g.writeStartObject();
                g.writeStringField("name", c.name());
                g.writeStringField("host", c.host());
                g.writeNumberField("port", c.port());
                g.writeNumberField("prefillTokensPerSecond", c.prefillTokensPerSecond());
                g.writeNumberField("decodeTokensPerSecond", c.decodeTokensPerSecond());
                g.writeNumberField("slots", c.slots());
                g.writeNumberField("maxQueue", c.maxQueue());
                g.writeNumberField("loadTimeMillis", c.loadTimeMillis());
                g.writeNumberField("seed", c.seed());
                g.writeStringField("version", c.version());
                g.writeNumberField("meanOutputTokens", c.meanOutputTokens());
                g.writeNumberField("maxOutputTokens", c.maxOutputTokens());
                g.writeNumberField("decodeSlowdown", c.decodeSlowdown());
                g.writeNumberField("jitter", c.jitter());
                g.writeNumberField("keepAliveMillis", c.keepAliveMillis());
                g.writeBooleanField("checkHost", c.checkHost());
                g.writeBooleanField("gpu", c.gpu());
                g.writeNumberField("contextLength", c.contextLength());
                g.writeNumberField("maxLoadedModels", c.maxLoadedModels()); g.writeNumberField("vramBytes", c.vramBytes());
                g.writeArrayFieldStart("models");
                for (SimModel m : c.models()) {
                    g.writeStartObject();
                    g.writeStringField("name", m.name());
                    g.writeNumberField("sizeBytes", m.sizeBytes());
                    g.writeStringField("family", m.family());
                    g.writeStringField("parameterSize", m.parameterSize());
                    g.writeStringField("quantization", m.quantization());
                    g.writeNumberField("embeddingDims", m.embeddingDims());
                    g.writeBooleanField("loadedAtStart", m.loadedAtStart());
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
    }
}

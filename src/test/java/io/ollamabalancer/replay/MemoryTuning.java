package io.ollamabalancer.replay;

import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A developer's harness (not a test): policies on memory-limited fleets in the discrete-event replay. */
public final class MemoryTuning {
    public static void main(String[] args) {
        String which = args.length > 0 ? args[0] : "swap";
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        String[] policies = args.length > 2 ? args[2].split(",") : new String[] {"eft", "least-connections"};
        double[] loads = {0.4, 0.6, 0.8};
        if (args.length > 3) {
            loads = java.util.Arrays.stream(args[3].split(",")).mapToDouble(Double::parseDouble).toArray();
        }
        SimFleet fleet = which.equals("zipf") ? zipf() : which.equals("swap") ? swap()
                : new SimFleet(which, io.ollamabalancer.cli.FleetFile.load(java.nio.file.Path.of(which), which));
        Map<String, Double> mix = new LinkedHashMap<>();
        if (!which.equals("zipf") && !which.equals("swap")) {
            mix.put("llama3.2:1b", 0.7);
            mix.put("qwen2.5:0.5b", 0.3);
            if (args.length <= 3) {
                loads = new double[] {0.5, 0.7, 0.85};
            }
        } else if (which.equals("zipf")) {
            String[] ms = {"llama3.1:8b", "qwen2.5:7b", "mistral:7b", "gemma3:1b", "llama3.2:1b", "qwen2.5:0.5b"};
            for (int i = 0; i < ms.length; i++) {
                mix.put(ms[i], 1.0 / (i + 1));
            }
        } else {
            mix.put("llama3.2:1b", 0.5);
            mix.put("qwen2.5:0.5b", 0.3);
            mix.put("gemma3:1b", 0.2);
        }
        if (args.length > 4) {
            mix = ModelMix.parse(args[4], fleet);
        }
        TraceShape shape = TraceShape.of(n, mix);
        Trace unit = TraceGenerator.generate(fleet.name(), 42, shape, fleet.answers());
        for (double load : loads) {
            Trace t = unit.atRate(fleet.name(), fleet.rateFor(load, unit));
            Summary o = Summary.of("oracle-noswap", OracleReplay.run(noSwap(fleet), t));
            System.out.println(String.format(Locale.ROOT, "%s load %.1f %-18s mean %7.2f p50 %7.2f p99 %7.2f",
                    which, load, "oracle-noswap", o.e2eMean(), o.e2eP50(), o.e2eP99()));
            for (String p : policies) {
                long t0 = System.nanoTime();
                VirtualReplay.Result r = VirtualReplay.runDetailed(fleet, t, p);
                Summary s = Summary.of(p, r.outcomes());
                double[] q = Stats.sorted(r.outcomes().stream().filter(Outcome::ok).toList(), Outcome::queue);
                System.out.println(String.format(Locale.ROOT,
                        "%s load %.1f %-18s mean %7.2f p50 %7.2f p99 %7.2f q99.9 %7.2f loads/100 %5.1f err %d "
                                + "per %s (%.1fs)", which, load, p, s.e2eMean(), s.e2eP50(), s.e2eP99(),
                        Stats.quantile(q, 0.999), r.loads() * 100.0 / n, s.errors(), s.perBackend(),
                        (System.nanoTime() - t0) / 1e9));
            }
        }
    }

    static SimFleet noSwap(SimFleet f) {
        List<SimulatorConfig> out = new ArrayList<>();
        for (SimulatorConfig c : f.sims()) {
            List<SimModel> ms = c.models().stream().map(m -> m.withLoadedAtStart(true)).toList();
            out.add(c.toBuilder().models(ms).maxLoadedModels(0).vramBytes(0).build());
        }
        return new SimFleet(f.name() + " no-swap", out);
    }

    static SimFleet swap() {
        List<SimModel> ms = List.of(
                SimModel.completion("llama3.2:1b", 1_321_098_329L, "llama", "1.2B", "Q8_0", false),
                SimModel.completion("qwen2.5:0.5b", 397_821_319L, "qwen2", "494M", "Q4_K_M", false),
                SimModel.completion("gemma3:1b", 815_319_791L, "gemma3", "1B", "Q4_K_M", false));
        List<SimulatorConfig> sims = new ArrayList<>();
        sims.add(base("fast", 150, 3000, ms).maxLoadedModels(1).build());
        sims.add(base("slow1", 50, 1000, ms).maxLoadedModels(1).build());
        sims.add(base("slow2", 50, 1000, ms).maxLoadedModels(1).build());
        return new SimFleet("swap", sims);
    }

    static SimFleet zipf() {
        List<SimModel> ms = List.of(
                SimModel.completion("llama3.1:8b", 4_920_753_328L, "llama", "8.0B", "Q4_K_M", false),
                SimModel.completion("qwen2.5:7b", 4_683_087_332L, "qwen2", "7.6B", "Q4_K_M", false),
                SimModel.completion("mistral:7b", 4_113_301_824L, "llama", "7.2B", "Q4_K_M", false),
                SimModel.completion("gemma3:1b", 815_319_791L, "gemma3", "1B", "Q4_K_M", false),
                SimModel.completion("llama3.2:1b", 1_321_098_329L, "llama", "1.2B", "Q8_0", false),
                SimModel.completion("qwen2.5:0.5b", 397_821_319L, "qwen2", "494M", "Q4_K_M", false));
        List<SimulatorConfig> sims = new ArrayList<>();
        long vram = 10_000_000_000L;
        sims.add(base("gpu1", 150, 3000, ms).vramBytes(vram).build());
        sims.add(base("gpu2", 150, 3000, ms).vramBytes(vram).build());
        sims.add(base("slow1", 60, 1200, ms).vramBytes(vram).build());
        sims.add(base("slow2", 60, 1200, ms).vramBytes(vram).build());
        return new SimFleet("swap-zipf", sims);
    }

    private static SimulatorConfig.Builder base(String name, double decode, double prefill, List<SimModel> ms) {
        return SimulatorConfig.builder().name(name).decodeTokensPerSecond(decode).prefillTokensPerSecond(prefill)
                .slots(2).loadTimeMillis(8000).keepAliveMillis(-1).decodeSlowdown(0.5).meanOutputTokens(150)
                .maxOutputTokens(2048).seed(7).models(ms);
    }
}

package io.ollamabalancer.cli;

import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * The simulated fleet behind {@code demo}: a mix of one fast GPU-like server and slower CPU-like ones with different
 * model sets, so that the balancer's choices are visible. Backend {@code i} (0-based) takes profile {@code i % 3}:
 * <pre>
 *   gpu-N  300 tok/s decode, 4000 tok/s prefill, 4 slots  llama3.2:1b, qwen2.5:0.5b, all-minilm
 *   cpu-N   60 tok/s decode,  400 tok/s prefill, 2 slots  llama3.2:1b, all-minilm
 *   cpu-N   40 tok/s decode,  250 tok/s prefill, 2 slots  llama3.2:1b, qwen2.5:0.5b
 * </pre>
 * Everything binds an ephemeral port on {@code 127.0.0.1}. Stateless and thread-safe.
 */
final class DemoFleet {
    static final int MAX_BACKENDS = 12;

    private DemoFleet() {
    }

    static List<SimulatorConfig> plan(int backends, long seed) {
        if (backends < 1 || backends > MAX_BACKENDS) {
            throw new IllegalArgumentException("backends must be 1-" + MAX_BACKENDS);
        }
        SimModel llama = SimModels.named("llama3.2:1b");
        SimModel qwen = SimModels.named("qwen2.5:0.5b");
        SimModel minilm = SimModels.named("all-minilm");
        List<SimulatorConfig> out = new ArrayList<>();
        int gpus = 0;
        int cpus = 0;
        for (int i = 0; i < backends; i++) {
            SimulatorConfig.Builder b = SimulatorConfig.builder().host("127.0.0.1").port(0).seed(seed + i);
            switch (i % 3) {
                case 0 -> b.name("gpu-" + (++gpus)).decodeTokensPerSecond(300).prefillTokensPerSecond(4000).slots(4)
                        .gpu(true).decodeSlowdown(0.3).loadTimeMillis(800).models(List.of(llama, qwen, minilm));
                case 1 -> b.name("cpu-" + (++cpus)).decodeTokensPerSecond(60).prefillTokensPerSecond(400).slots(2)
                        .loadTimeMillis(2000).models(List.of(llama, minilm));
                default -> b.name("cpu-" + (++cpus)).decodeTokensPerSecond(40).prefillTokensPerSecond(250).slots(2)
                        .loadTimeMillis(2500).models(List.of(llama, qwen));
            }
            out.add(b.build());
        }
        return out;
    }

    /** How the balancer should see a started simulator: its URL, and as many slots as it has. */
    static BackendConfig backend(SimulatorConfig config, String baseUrl) {
        return new BackendConfig(config.name(), URI.create(baseUrl), config.slots(), null, true);
    }
}

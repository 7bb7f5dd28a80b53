package io.ollamabalancer.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The outcome of {@link SettingsResolver}: the merged configuration, where each setting came from (a flag such as
 * {@code --port}, {@code environment variable PORT}, {@code .env: PORT}, {@code conf/balancer.properties: port} or
 * {@code default}) and the warnings worth logging. Immutable.
 */
public record ResolvedSettings(BalancerConfig config, Map<Setting, String> origins, List<String> warnings) {

    public ResolvedSettings {
        origins = Map.copyOf(origins);
        warnings = List.copyOf(warnings);
    }

    /** One {@code key=value (origin)} line per setting not left at its default; secrets are masked. */
    public List<String> describeOverrides() {
        List<String> out = new ArrayList<>();
        for (Setting s : Setting.values()) {
            String origin = origins.get(s);
            if (!"default".equals(origin)) {
                out.add(s.key() + "=" + s.show(config) + " (" + origin + ")");
            }
        }
        return out;
    }
}

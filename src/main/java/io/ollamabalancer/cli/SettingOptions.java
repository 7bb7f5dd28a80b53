package io.ollamabalancer.cli;

import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.config.Setting;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.EnumMap;
import java.util.Map;

/**
 * Adds one option per {@link Setting} (plus {@code --conf-dir}) to a command, generated from the settings table so
 * that the flags, their help text and the environment names never drift apart, and reads back the ones given.
 * Options are plain text with no default: "not given" must stay visible so that the environment, {@code .env} and
 * {@code conf/} can fill in (the merge itself is {@link io.ollamabalancer.config.SettingsResolver}'s job).
 * Stateless; call from the thread that builds and parses the command line.
 */
final class SettingOptions {
    static final String CONF_DIR = "--conf-dir";

    private SettingOptions() {
    }

    static void addTo(CommandSpec spec) {
        BalancerConfig defaults = BalancerConfig.defaults();
        for (Setting s : Setting.values()) {
            String shown = s.show(defaults);
            String def = shown == null ? "" : "; default " + shown;
            spec.addOption(OptionSpec.builder(s.flag())
                    .paramLabel(s.label())
                    .type(String.class)
                    .description(s.description() + " [env " + s.env() + def + "]")
                    .build());
        }
        spec.addOption(OptionSpec.builder(CONF_DIR)
                .paramLabel("DIR")
                .type(String.class)
                .description("directory holding balancer.properties [env CONF_DIR; default conf]")
                .build());
    }

    /** The raw text of every setting flag given on this parse. */
    static Map<Setting, String> given(CommandSpec spec) {
        Map<Setting, String> out = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            String v = spec.findOption(s.flag()).getValue();
            if (v != null) {
                out.put(s, v);
            }
        }
        return out;
    }

    /** The {@code --conf-dir} value, or {@code null}. */
    static String confDir(CommandSpec spec) {
        return spec.findOption(CONF_DIR).getValue();
    }
}

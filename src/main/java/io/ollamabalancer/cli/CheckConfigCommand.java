package io.ollamabalancer.cli;

import io.ollamabalancer.auth.ApiKeysFile;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.tls.ServerTls;
import io.ollamabalancer.tls.TlsContexts;
import io.ollamabalancer.config.ConfigLoader;
import io.ollamabalancer.config.Setting;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code check-config}: reads the settings and the backends file exactly as {@code serve} would, prints one line
 * per backend and any warnings, and exits 0; a mistake exits 2 with one line on stderr. Contacts no backend.
 * Runs on the calling thread.
 */
@Command(name = "check-config", mixinStandardHelpOptions = true, sortOptions = false,
        versionProvider = VersionProvider.class,
        description = "Validate the settings and the backends file without starting anything; exit 0 if valid, 2 if not.")
final class CheckConfigCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--settings", description = "also print every setting, its value and where it came from")
    private boolean showSettings;

    private final CliContext context;

    CheckConfigCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        ConfigLoader.Loaded loaded = ConfigLoader.load(SettingOptions.given(spec), SettingOptions.confDir(spec),
                context.env(), context.workDir());
        PrintWriter out = spec.commandLine().getOut();
        int width = loaded.backends().stream().mapToInt(b -> b.name().length()).max().orElse(0);
        for (BackendConfig b : loaded.backends()) {
            out.println(line(b, width));
        }
        for (String w : loaded.warnings()) {
            out.println("warning: " + w);
        }
        if (showSettings) {
            for (Setting s : Setting.values()) {
                String v = s.show(loaded.config());
                out.println(s.key() + " = " + (v == null ? "(unset)" : v) + "  [" + loaded.settings().origins().get(s)
                        + "]");
            }
        }
        if (loaded.config().apiKeysFile() != null) {
            // A bad keys file stops start-up: say so here too (ConfigException, exit 2).
            Path keys = context.workDir().resolve(loaded.config().apiKeysFile());
            out.println("OK: " + keys + ": " + ApiKeysFile.load(keys).size() + " API key(s)");
        }
        BalancerConfig resolved = TlsPaths.resolved(loaded.config(), context.workDir());
        // TLS files that do not load stop start-up: say so here too.
        ServerTls tls = ServerTls.of(resolved);
        if (tls != null) {
            out.println("OK: " + resolved.tlsCertFile() + ": HTTPS with " + tls.current());
        }
        if (resolved.backendCaFile() != null) {
            TlsContexts.backends(resolved.backendCaFile());
            out.println("OK: " + resolved.backendCaFile() + ": trusted for https:// backends");
        }
        long enabled = loaded.backends().stream().filter(BackendConfig::enabled).count();
        out.println("OK: " + loaded.config().backendsFile() + ": " + loaded.backends().size() + " backend"
                + (loaded.backends().size() == 1 ? "" : "s") + ", " + enabled + " enabled");
        out.flush();
        return 0;
    }

    static String line(BackendConfig b, int nameWidth) {
        String models = b.models() == null ? "models from /api/tags" : "models=" + String.join(",", b.models());
        return String.format(Locale.ROOT, "%-" + Math.max(1, nameWidth) + "s  %s  maxConcurrency=%d  %s  %s", b.name(), b.url(),
                b.maxConcurrency(), models, b.enabled() ? "enabled" : "disabled");
    }
}

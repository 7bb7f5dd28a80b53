package io.ollamabalancer.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Everything needed before the balancer can start, read in one go: the merged settings
 * ({@link SettingsLoader}) and then the backends file they point to ({@link BackendsFile}), whose
 * {@code maxConcurrency} default comes from those settings. Stateless and thread-safe.
 */
public final class ConfigLoader {

    /** The settings, the validated backends and every warning from both, in the order they were found. */
    public record Loaded(ResolvedSettings settings, List<BackendConfig> backends, List<String> warnings) {
        public Loaded {
            backends = List.copyOf(backends);
            warnings = List.copyOf(warnings);
        }

        public BalancerConfig config() {
            return settings.config();
        }
    }

    private ConfigLoader() {
    }

    /**
     * @param flags       raw text of the setting flags given on the command line
     * @param confDirFlag the {@code --conf-dir} value, or {@code null}
     * @param env         the process environment
     * @param workDir     the working directory ({@code .env}, and what relative paths are relative to)
     */
    public static Loaded load(Map<Setting, String> flags, String confDirFlag, Map<String, String> env, Path workDir) {
        ResolvedSettings settings = SettingsLoader.load(flags, confDirFlag, env, workDir);
        Path file = settings.config().backendsFile();
        BackendsFile.Loaded backends = BackendsFile.load(workDir.resolve(file), file.toString(),
                settings.config().defaultMaxConcurrency());
        List<String> warnings = new ArrayList<>(settings.warnings());
        warnings.addAll(backends.warnings());
        return new Loaded(settings, backends.backends(), warnings);
    }
}

package io.ollamabalancer.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * Finds and reads the two settings files, then hands everything to {@link SettingsResolver}: {@code .env} in the
 * working directory and {@code balancer.properties} in the conf directory. The conf directory is {@code conf/}
 * unless {@code --conf-dir} or {@code CONF_DIR} (environment, then {@code .env}) says otherwise; a missing default
 * directory is fine, a missing directory the operator named is an error. Relative paths are resolved against the
 * working directory given here, so tests need not change the process's. Stateless and thread-safe.
 */
public final class SettingsLoader {
    /** Name of the settings file inside the conf directory. */
    public static final String PROPERTIES_FILE = "balancer.properties";
    /** Environment variable naming the conf directory. */
    public static final String CONF_DIR_ENV = "CONF_DIR";

    private SettingsLoader() {
    }

    /**
     * @param flags       raw text of the setting flags given on the command line
     * @param confDirFlag the {@code --conf-dir} value, or {@code null}
     * @param env         the process environment
     * @param workDir     the working directory ({@code .env} and relative paths)
     */
    public static ResolvedSettings load(Map<Setting, String> flags, String confDirFlag, Map<String, String> env,
                                        Path workDir) {
        Map<String, String> dotEnv = EnvFile.loadIfPresent(workDir.resolve(".env"), ".env");
        String confDir = firstNonBlank(confDirFlag, env.get(CONF_DIR_ENV), dotEnv.get(CONF_DIR_ENV));
        boolean explicit = confDir != null;
        Path dir = workDir.resolve(explicit ? confDir : "conf");
        String shownDir = explicit ? confDir : "conf";
        String confName = shownDir.endsWith("/") ? shownDir + PROPERTIES_FILE : shownDir + "/" + PROPERTIES_FILE;
        Properties conf = readProperties(dir, explicit, confName);
        return new SettingsResolver(flags, env, dotEnv, conf).sourceNames(".env", confName).resolve();
    }

    private static Properties readProperties(Path dir, boolean explicit, String confName) {
        Properties p = new Properties();
        if (!Files.isDirectory(dir)) {
            if (explicit) {
                String shown = confName.substring(0, confName.length() - PROPERTIES_FILE.length() - 1);
                throw new ConfigException("conf directory " + shown + (Files.exists(dir) ? " is not a directory"
                        : " not found"));
            }
            return p;
        }
        Path file = dir.resolve(PROPERTIES_FILE);
        if (!Files.exists(file)) {
            if (explicit) {
                throw new ConfigException(confName + ": file not found");
            }
            return p;
        }
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
            return p;
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException(confName + ": cannot read: " + e.getMessage());
        }
    }

    private static String firstNonBlank(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v.strip();
            }
        }
        return null;
    }
}

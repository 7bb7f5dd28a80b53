package io.ollamabalancer.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;

/**
 * Merges the four places a setting can come from into one {@link BalancerConfig}. For each {@link Setting} the first
 * of these that has a non-blank value wins:
 * <ol>
 *   <li>a command-line flag ({@code --port 8080});</li>
 *   <li>an environment variable ({@code PORT=8080}), then its older aliases;</li>
 *   <li>the same variable in the {@code .env} file of the working directory;</li>
 *   <li>the key in {@code conf/balancer.properties} ({@code port=8080});</li>
 *   <li>the built-in default of {@link BalancerConfig#builder()}.</li>
 * </ol>
 * The Redis URL also accepts the old pair {@code REDIS_HOST}/{@code REDIS_PORT} (in the environment or {@code .env})
 * as {@code redis://host:port} when {@code REDIS_URL} is absent at that level. A blank value counts as unset, so
 * {@code REDIS_URL=} in a compose file does not hide a lower level.
 * Pure: reads only the maps it is given. Not thread-safe; use one per resolution.
 */
public final class SettingsResolver {
    private final Map<Setting, String> flags;
    private final Map<String, String> env;
    private final Map<String, String> dotEnv;
    private final Properties conf;
    private String dotEnvName = ".env";
    private String confName = "conf/balancer.properties";

    /**
     * @param flags  raw text of the flags given on the command line (absent = not given)
     * @param env    the process environment
     * @param dotEnv the variables of the {@code .env} file (empty if there is none)
     * @param conf   the properties of {@code conf/balancer.properties} (empty if there is none)
     */
    public SettingsResolver(Map<Setting, String> flags, Map<String, String> env, Map<String, String> dotEnv,
                            Properties conf) {
        this.flags = flags;
        this.env = env;
        this.dotEnv = dotEnv;
        this.conf = conf;
    }

    /** Names the two files as they should appear in messages (defaults: {@code .env}, {@code conf/balancer.properties}). */
    public SettingsResolver sourceNames(String dotEnvFile, String confFile) {
        this.dotEnvName = dotEnvFile;
        this.confName = confFile;
        return this;
    }

    /** Resolves every setting; throws {@link ConfigException} naming the source of the first bad value. */
    public ResolvedSettings resolve() {
        BalancerConfig.Builder builder = BalancerConfig.builder();
        Map<Setting, String> origins = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            Found found = find(s);
            if (found == null) {
                origins.put(s, "default");
                continue;
            }
            try {
                s.apply(builder, found.value);
            } catch (ConfigException e) {
                throw e.prefixed(found.origin);
            }
            origins.put(s, found.origin);
        }
        return new ResolvedSettings(builder.build(), Collections.unmodifiableMap(origins), warnings());
    }

    private Found find(Setting s) {
        String flag = flags.get(s);
        if (!isBlank(flag)) {
            return new Found(flag, s.flag());
        }
        Found fromEnv = fromVariables(s, env, "environment variable ");
        if (fromEnv != null) {
            return fromEnv;
        }
        Found fromDotEnv = fromVariables(s, dotEnv, dotEnvName + ": ");
        if (fromDotEnv != null) {
            return fromDotEnv;
        }
        String property = conf.getProperty(s.key());
        if (!isBlank(property)) {
            return new Found(property, confName + ": " + s.key());
        }
        return null;
    }

    private static Found fromVariables(Setting s, Map<String, String> vars, String prefix) {
        List<String> names = new ArrayList<>();
        names.add(s.env());
        names.addAll(s.envAliases());
        for (String name : names) {
            String v = vars.get(name);
            if (!isBlank(v)) {
                return new Found(v, prefix + name);
            }
        }
        return s == Setting.REDIS_URL ? legacyRedis(vars, prefix) : null;
    }

    /** The old deployment named Redis by host and port; both are optional, like the redis client defaults. */
    private static Found legacyRedis(Map<String, String> vars, String prefix) {
        String host = vars.get("REDIS_HOST");
        String port = vars.get("REDIS_PORT");
        if (isBlank(host) && isBlank(port)) {
            return null;
        }
        String h = isBlank(host) ? "localhost" : host.strip();
        String p = "6379";
        if (!isBlank(port)) {
            try {
                p = String.valueOf(SettingValues.port(port.strip()));
            } catch (ConfigException e) {
                throw e.prefixed(prefix + "REDIS_PORT");
            }
        }
        String origin = prefix + (isBlank(host) ? "REDIS_PORT" : isBlank(port) ? "REDIS_HOST" : "REDIS_HOST/REDIS_PORT");
        boolean ipv6 = h.indexOf(':') >= 0 && !h.startsWith("[");
        return new Found("redis://" + (ipv6 ? "[" + h + "]" : h) + ":" + p, origin);
    }

    private List<String> warnings() {
        List<String> out = new ArrayList<>();
        for (String key : new TreeSet<>(conf.stringPropertyNames())) {
            if (Setting.byKey(key) == null) {
                out.add(confName + ": unknown setting \"" + key + "\" ignored");
            }
        }
        return List.copyOf(out);
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }

    private record Found(String value, String origin) {
    }
}

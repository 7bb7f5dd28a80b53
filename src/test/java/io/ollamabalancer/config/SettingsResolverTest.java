package io.ollamabalancer.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SettingsResolverTest {
    private final Map<Setting, String> flags = new EnumMap<>(Setting.class);
    private final Map<String, String> env = new HashMap<>();
    private final Map<String, String> dotEnv = new HashMap<>();
    private final Properties conf = new Properties();

    private ResolvedSettings resolve() {
        return new SettingsResolver(flags, env, dotEnv, conf).resolve();
    }

    @Test
    void nothingGivenMeansBuiltInDefaults() {
        ResolvedSettings r = resolve();
        assertThat(r.config()).isEqualTo(BalancerConfig.defaults());
        assertThat(r.origins()).hasSize(Setting.values().length).allSatisfy((s, o) -> assertThat(o).isEqualTo("default"));
        assertThat(r.describeOverrides()).isEmpty();
    }

    @Test
    void eachLevelBeatsTheOnesBelowIt() {
        conf.setProperty("port", "1001");
        assertThat(resolve().config().port()).isEqualTo(1001);
        assertThat(resolve().origins().get(Setting.PORT)).isEqualTo("conf/balancer.properties: port");

        dotEnv.put("PORT", "1002");
        assertThat(resolve().config().port()).isEqualTo(1002);
        assertThat(resolve().origins().get(Setting.PORT)).isEqualTo(".env: PORT");

        env.put("PORT", "1003");
        assertThat(resolve().config().port()).isEqualTo(1003);
        assertThat(resolve().origins().get(Setting.PORT)).isEqualTo("environment variable PORT");

        flags.put(Setting.PORT, "1004");
        assertThat(resolve().config().port()).isEqualTo(1004);
        assertThat(resolve().origins().get(Setting.PORT)).isEqualTo("--port");
    }

    @Test
    void levelsMixPerSetting() {
        flags.put(Setting.PORT, "8080");
        env.put("BALANCER_POLICY", "round-robin");
        dotEnv.put("MAX_BODY_SIZE", "1g");
        conf.setProperty("queue.wait", "30s");
        conf.setProperty("port", "9999");
        BalancerConfig c = resolve().config();
        assertThat(c.port()).isEqualTo(8080);
        assertThat(c.policy()).isEqualTo("round-robin");
        assertThat(c.maxBodyBytes()).isEqualTo(1L << 30);
        assertThat(c.maxQueueWait()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.bind()).isEqualTo(BalancerConfig.defaults().bind());
    }

    @Test
    void blankValuesDoNotHideLowerLevels() {
        env.put("REDIS_URL", "");
        dotEnv.put("REDIS_URL", "  ");
        conf.setProperty("redis.url", "redis://conf:6379");
        flags.put(Setting.BIND, "");
        assertThat(resolve().config().redisUrl()).isEqualTo("redis://conf:6379");
        assertThat(resolve().config().bind()).isEqualTo("0.0.0.0");
    }

    @Test
    void everySettingReachesTheConfig() {
        flags.put(Setting.BIND, "127.0.0.1");
        flags.put(Setting.PORT, "0");
        flags.put(Setting.BACKENDS_FILE, "/etc/ob/backends.json");
        flags.put(Setting.MAX_BODY_SIZE, "16MB");
        flags.put(Setting.MAX_HEADER_SIZE, "32KB");
        flags.put(Setting.CLIENT_IDLE_TIMEOUT, "1m");
        flags.put(Setting.CONNECT_TIMEOUT, "2s");
        flags.put(Setting.UPSTREAM_IDLE_TIMEOUT, "45s");
        flags.put(Setting.MAX_CONNECTIONS_PER_BACKEND, "64");
        flags.put(Setting.MODEL_REFRESH_INTERVAL, "750ms");
        flags.put(Setting.DEFAULT_MAX_CONCURRENCY, "4");
        flags.put(Setting.POLICY, "Least_Connections");
        flags.put(Setting.REDIS_URL, "rediss://:secret@cache:6380/1");
        flags.put(Setting.CLUSTER_NAMESPACE, "ollama-balancer:staging");
        flags.put(Setting.CLUSTER_LEASE, "1m30s");
        flags.put(Setting.CLUSTER_REPLICA_ID, "balancer-0");
        flags.put(Setting.ADMIN_TOKEN, "t0ken");
        flags.put(Setting.ADMIN_PORT, "9090");
        flags.put(Setting.QUEUE_DEPTH, "0");
        flags.put(Setting.QUEUE_WAIT, "0");
        flags.put(Setting.CORS_ORIGINS, "https://*.example.com");
        flags.put(Setting.PREWARM, "OFF");
        flags.put(Setting.STREAM_IDLE_TIMEOUT, "90s");
        flags.put(Setting.FIRST_BYTE_TIMEOUT, "0");
        flags.put(Setting.SHUTDOWN_DELAY, "15s");
        flags.put(Setting.SHUTDOWN_GRACE, "2m");
        flags.put(Setting.HEADER_TIMEOUT, "3s");
        flags.put(Setting.BODY_READ_TIMEOUT, "20s");
        flags.put(Setting.MAX_CLIENT_CONNECTIONS, "500");
        flags.put(Setting.MAX_INFLIGHT_BODY_BYTES, "1GB");
        flags.put(Setting.API_KEYS_FILE, "/etc/ob/keys.json");
        flags.put(Setting.ENSURE_MODELS, " llama3.2:1b, all-minilm ,,llama3.2:1b");
        flags.put(Setting.REQUEST_STATUS_RETENTION, "2m");
        flags.put(Setting.FAIR_SHARE, "off");
        flags.put(Setting.TLS_CERT_FILE, "/etc/ob/tls.crt");
        flags.put(Setting.TLS_KEY_FILE, "/etc/ob/tls.key");
        flags.put(Setting.BACKEND_CA_FILE, "/etc/ob/ca.pem");
        BalancerConfig expected = new BalancerConfig("127.0.0.1", 0, Path.of("/etc/ob/backends.json"), 16L << 20,
                32 << 10, Duration.ofMinutes(1), Duration.ofSeconds(2), Duration.ofSeconds(45), 64,
                Duration.ofMillis(750), 4, "least-connections", "rediss://:secret@cache:6380/1",
                "ollama-balancer:staging", Duration.ofSeconds(90), "balancer-0", "t0ken", 9090, 0, Duration.ZERO,
                "https://*.example.com", false, Duration.ofSeconds(90), Duration.ZERO, Duration.ofSeconds(15),
                Duration.ofMinutes(2), Duration.ofSeconds(3), Duration.ofSeconds(20), 500, 1L << 30,
                Path.of("/etc/ob/keys.json"), java.util.List.of("llama3.2:1b", "all-minilm"), Duration.ofMinutes(2), false,
                Path.of("/etc/ob/tls.crt"), Path.of("/etc/ob/tls.key"), Path.of("/etc/ob/ca.pem"));
        assertThat(flags).hasSize(Setting.values().length);
        assertThat(resolve().config()).isEqualTo(expected);
    }

    @Test
    void clusterSettingsFollowThePrecedenceAndDefaultToTodaysBehaviour() {
        BalancerConfig d = resolve().config();
        assertThat(d.clusterNamespace()).isEqualTo("ollama-balancer");
        assertThat(d.clusterLease()).isEqualTo(Duration.ofSeconds(3));
        assertThat(d.clusterReplicaId()).as("unset: the cluster makes one from the host name").isNull();

        conf.setProperty("cluster.namespace", "from-conf");
        conf.setProperty("cluster.lease", "10s");
        conf.setProperty("cluster.replica.id", "conf-0");
        dotEnv.put("CLUSTER_NAMESPACE", "from-dotenv");
        dotEnv.put("CLUSTER_LEASE", "20s");
        env.put("CLUSTER_LEASE", "30s");
        env.put("CLUSTER_REPLICA_ID", "env-0");
        flags.put(Setting.CLUSTER_REPLICA_ID, "flag-0");
        ResolvedSettings r = resolve();
        assertThat(r.config().clusterNamespace()).isEqualTo("from-dotenv");
        assertThat(r.config().clusterLease()).isEqualTo(Duration.ofSeconds(30));
        assertThat(r.config().clusterReplicaId()).isEqualTo("flag-0");
        assertThat(r.describeOverrides()).containsExactly("cluster.namespace=from-dotenv (.env: CLUSTER_NAMESPACE)",
                "cluster.lease=30s (environment variable CLUSTER_LEASE)", "cluster.replica.id=flag-0 (--replica-id)");

        dotEnv.clear();
        env.clear();
        flags.clear();
        r = resolve();
        assertThat(r.config().clusterNamespace()).isEqualTo("from-conf");
        assertThat(r.config().clusterLease()).isEqualTo(Duration.ofSeconds(10));
        assertThat(r.config().clusterReplicaId()).isEqualTo("conf-0");
        assertThat(r.origins().get(Setting.CLUSTER_LEASE)).isEqualTo("conf/balancer.properties: cluster.lease");
    }

    @Test
    void clusterLeaseAcceptsItsBoundsAndRefusesBeyondThem() {
        flags.put(Setting.CLUSTER_LEASE, "2s");
        assertThat(resolve().config().clusterLease()).isEqualTo(Duration.ofSeconds(2));
        flags.put(Setting.CLUSTER_LEASE, "5m");
        assertThat(resolve().config().clusterLease()).isEqualTo(Duration.ofMinutes(5));

        flags.put(Setting.CLUSTER_LEASE, "1999ms");
        assertThatThrownBy(this::resolve).isInstanceOf(ConfigException.class)
                .hasMessage("--cluster-lease: lease 1999ms is out of range (expected 2s to 5m)");
        flags.put(Setting.CLUSTER_LEASE, "5m1s");
        assertThatThrownBy(this::resolve).hasMessage("--cluster-lease: lease 301s is out of range (expected 2s to 5m)");
        flags.clear();
        env.put("CLUSTER_LEASE", "0");
        assertThatThrownBy(this::resolve)
                .hasMessage("environment variable CLUSTER_LEASE: lease 0 is out of range (expected 2s to 5m)");
        env.put("CLUSTER_LEASE", "3");
        assertThatThrownBy(this::resolve)
                .hasMessage("environment variable CLUSTER_LEASE: duration \"3\" needs a unit (e.g. 3s or 3ms)");
    }

    @Test
    void clusterNamesRefuseWhatWouldBreakTheirRedisKeys() {
        for (String good : new String[] {"ollama-balancer", "prod", "ob:staging", "A.b_c-1", "x".repeat(64)}) {
            env.put("CLUSTER_NAMESPACE", good);
            assertThat(resolve().config().clusterNamespace()).isEqualTo(good);
        }
        for (String bad : new String[] {"{prod}", "a}b", "two words", "prod/eu", "ü", "x".repeat(65)}) {
            env.put("CLUSTER_NAMESPACE", bad);
            assertThatThrownBy(this::resolve).isInstanceOf(ConfigException.class)
                    .hasMessage("environment variable CLUSTER_NAMESPACE: invalid cluster namespace \"" + bad
                            + "\" (expected 1-64 letters, digits, . _ - :)");
        }
        env.clear();

        conf.setProperty("cluster.replica.id", "balancer-0.eu_1");
        assertThat(resolve().config().clusterReplicaId()).isEqualTo("balancer-0.eu_1");
        for (String bad : new String[] {"a:b", "a b", "{a}", "pod/0", "x".repeat(65)}) {
            conf.setProperty("cluster.replica.id", bad);
            assertThatThrownBy(this::resolve)
                    .hasMessage("conf/balancer.properties: cluster.replica.id: invalid replica id \"" + bad
                            + "\" (expected 1-64 letters, digits, . _ -)");
        }
    }

    @Test
    void secretsAreMaskedInDescriptions() {
        env.put("ADMIN_TOKEN", "hunter2");
        env.put("PORT", "81");
        assertThat(resolve().describeOverrides()).containsExactly("port=81 (environment variable PORT)",
                "admin.token=*** (environment variable ADMIN_TOKEN)");
    }

    @Test
    void legacyRedisHostAndPortBecomeAUrl() {
        env.put("REDIS_HOST", "cache");
        env.put("REDIS_PORT", "6380");
        assertThat(resolve().config().redisUrl()).isEqualTo("redis://cache:6380");
        assertThat(resolve().origins().get(Setting.REDIS_URL)).isEqualTo("environment variable REDIS_HOST/REDIS_PORT");

        env.remove("REDIS_PORT");
        assertThat(resolve().config().redisUrl()).isEqualTo("redis://cache:6379");

        env.remove("REDIS_HOST");
        env.put("REDIS_PORT", "7000");
        assertThat(resolve().config().redisUrl()).isEqualTo("redis://localhost:7000");

        env.put("REDIS_HOST", "fd00::5");
        assertThat(resolve().config().redisUrl()).isEqualTo("redis://[fd00::5]:7000");
    }

    @Test
    void redisUrlBeatsLegacyPairAtTheSameLevelButLevelsStillCount() {
        dotEnv.put("REDIS_HOST", "old");
        dotEnv.put("REDIS_URL", "redis://new:1");
        assertThat(resolve().config().redisUrl()).isEqualTo("redis://new:1");
        env.put("REDIS_HOST", "envhost");
        assertThat(resolve().config().redisUrl()).isEqualTo("redis://envhost:6379");
        flags.put(Setting.REDIS_URL, "redis://flag:2");
        assertThat(resolve().config().redisUrl()).isEqualTo("redis://flag:2");
    }

    @Test
    void legacyConfigFileNameIsAnAlias() {
        env.put("CONTAINERS_CONFIG", "old.json");
        assertThat(resolve().config().backendsFile()).isEqualTo(Path.of("old.json"));
        env.put("CONFIG_FILE", "new.json");
        assertThat(resolve().config().backendsFile()).isEqualTo(Path.of("new.json"));
    }

    @Test
    void badValuesNameWhereTheyCameFrom() {
        flags.put(Setting.PORT, "http");
        assertThatThrownBy(this::resolve).isInstanceOf(ConfigException.class)
                .hasMessage("--port: invalid port \"http\" (expected a whole number)");
        flags.clear();

        env.put("PORT", "70000");
        assertThatThrownBy(this::resolve)
                .hasMessage("environment variable PORT: port 70000 is out of range (expected 0-65535)");
        env.clear();

        dotEnv.put("BALANCER_POLICY", "fastest");
        assertThatThrownBy(this::resolve).hasMessage(".env: BALANCER_POLICY: unknown policy \"fastest\" (expected"
                + " eft, least-connections, round-robin or legacy)");
        dotEnv.clear();

        conf.setProperty("queue.wait", "10");
        assertThatThrownBy(this::resolve)
                .hasMessage("conf/balancer.properties: queue.wait: duration \"10\" needs a unit (e.g. 10s or 10ms)");
        conf.clear();

        env.put("DEFAULT_MAX_CONCURRENCY", "0");
        assertThatThrownBy(this::resolve)
                .hasMessage("environment variable DEFAULT_MAX_CONCURRENCY: must be at least 1, found 0");
        env.clear();

        env.put("REDIS_PORT", "six");
        assertThatThrownBy(this::resolve)
                .hasMessage("environment variable REDIS_PORT: invalid port \"six\" (expected a whole number)");
        env.clear();

        flags.put(Setting.REDIS_URL, "http://cache:6379");
        assertThatThrownBy(this::resolve)
                .hasMessage("--redis-url: invalid Redis URL \"http://cache:6379\" (expected redis://host:port)");
        flags.clear();

        flags.put(Setting.CONNECT_TIMEOUT, "0s");
        assertThatThrownBy(this::resolve).hasMessage("--connect-timeout: duration must be greater than zero");
        flags.clear();

        env.put("PREWARM", "sometimes");
        assertThatThrownBy(this::resolve)
                .hasMessage("environment variable PREWARM: invalid value \"sometimes\" (expected on or off)");
        env.clear();
        flags.clear();

        flags.put(Setting.MAX_HEADER_SIZE, "4g");
        assertThatThrownBy(this::resolve).hasMessage("--max-header: size \"4g\" is too large (at most 2047MB)");
    }

    @Test
    void unknownConfKeysAreWarnedAboutInOrder() {
        conf.setProperty("prot", "1");
        conf.setProperty("port", "2");
        conf.setProperty("alpha", "3");
        ResolvedSettings r = new SettingsResolver(flags, env, dotEnv, conf).sourceNames(".env", "etc/b.properties")
                .resolve();
        assertThat(r.warnings()).containsExactly("etc/b.properties: unknown setting \"alpha\" ignored",
                "etc/b.properties: unknown setting \"prot\" ignored");
        assertThat(r.config().port()).isEqualTo(2);
    }
}

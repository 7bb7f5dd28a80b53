package io.ollamabalancer.cli;

import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.config.BalancerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class CliTest {
    @TempDir
    Path dir;

    private final Map<String, String> env = new HashMap<>();
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    private final List<BalancerConfig> started = new ArrayList<>();
    private final List<List<BackendConfig>> startedBackends = new ArrayList<>();
    private Launcher launcher = (config, backends) -> {
        started.add(config);
        startedBackends.add(backends);
        return new Launcher.Running() {
            @Override
            public int port() {
                return config.port();
            }

            @Override
            public void awaitClose() {
            }

            @Override
            public void close() {
            }
        };
    };

    private int run(String... args) {
        return Cli.run(args, new CliContext(env, dir), launcher, new PrintWriter(out), new PrintWriter(err));
    }

    private void writeBackends(String name, String json) throws Exception {
        Files.writeString(dir.resolve(name), json.replace('\'', '"'));
    }

    private List<String> errLines() {
        return err.toString().lines().toList();
    }

    @Test
    void helpListsTheCommands() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("Usage: ollama-balancer", "serve", "check-config", "--version");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void versionPrintsTheName() {
        assertThat(run("--version")).isZero();
        assertThat(out.toString()).startsWith("ollama-balancer ").contains("Java ");
    }

    @Test
    void serveHelpShowsEveryFlagWithItsVariableAndDefault() {
        assertThat(run("serve", "--help")).isZero();
        assertThat(out.toString().replaceAll("\\s+", " ")).contains("--port=PORT", "[env PORT; default 3000]", "--max-body=SIZE",
                "default 256MB", "--redis-url=URL", "[env REDIS_URL]", "--conf-dir=DIR", "--queue-wait=DURATION");
    }

    @Test
    void unknownFlagIsOneLineAndStatusTwo() {
        // A name close to no real flag (a close one earns a "did you mean").
        assertThat(run("--xyzzy")).isEqualTo(2);
        assertThat(errLines()).containsExactly(
                "ollama-balancer: Unknown option: '--xyzzy' (see 'ollama-balancer serve --help')");
        assertThat(started).isEmpty();
    }

    @Test
    void misspelledCommandSuggestsTheRightOne() {
        assertThat(run("chek-config")).isEqualTo(2);
        assertThat(errLines()).hasSize(1);
        assertThat(errLines().get(0)).startsWith("ollama-balancer: Unmatched argument at index 0: 'chek-config'")
                .contains("did you mean check-config?");
    }

    @Test
    void flagWithoutValueIsAUsageError() {
        assertThat(run("serve", "--port")).isEqualTo(2);
        assertThat(errLines()).hasSize(1);
        assertThat(errLines().get(0)).startsWith("ollama-balancer: Missing required parameter for option '--port'");
    }

    @Test
    void checkConfigOnABadFileIsOneLineOnStderrAndStatusTwo() throws Exception {
        writeBackends("containers.config.json", "[{'name':'a','url':'ftp://h:1'}]");
        assertThat(run("check-config")).isEqualTo(2);
        assertThat(errLines()).containsExactly(
                "ollama-balancer: containers.config.json: backend \"a\": url \"ftp://h:1\" must be http://host:port or https://host:port");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void checkConfigReadsTheKeysFileAndABadOneIsOneLineAndStatusTwo() throws Exception {
        writeBackends("containers.config.json", "[{'name':'a','url':'http://h:1'}]");
        writeBackends("keys.json", "{'keys': [{'name': 'team', 'key': 'sk-1', 'requestsPerMinute': 60}]}");
        assertThat(run("check-config", "--api-keys", "keys.json")).isEqualTo(0);
        assertThat(out.toString()).contains(": 1 API key(s)");
        writeBackends("keys.json", "{'keys': [{'name': 'team', 'key': 'sk-1', 'requestsPerMinute': -1}]}");
        env.put("API_KEYS_FILE", "keys.json");
        assertThat(run("check-config")).isEqualTo(2);
        assertThat(errLines()).containsExactly("ollama-balancer: keys.json: key #1 (\"team\"): \"requestsPerMinute\" "
                + "must be a positive whole number, found -1");
    }

    @Test
    void checkConfigLoadsTheTlsPairAndHalfAPairIsOneLineAndStatusTwo() throws Exception {
        writeBackends("containers.config.json", "[{'name':'a','url':'https://h:1'}]");
        io.ollamabalancer.testing.TestCertificate.selfSigned(dir, "tls", "balancer.test");
        assertThat(run("check-config", "--tls-cert", "tls.crt", "--tls-key", "tls.key")).isEqualTo(0);
        assertThat(out.toString()).contains("tls.crt: HTTPS with CN=balancer.test (valid until ");
        env.put("TLS_CERT_FILE", "tls.crt");
        assertThat(run("check-config")).isEqualTo(2);
        assertThat(errLines()).containsExactly(
                "ollama-balancer: --tls-cert is set but --tls-key is not; HTTPS needs both");
        err.getBuffer().setLength(0);
        assertThat(run("check-config", "--tls-key", "tls.crt")).isEqualTo(2);
        assertThat(errLines()).containsExactly("ollama-balancer: --tls-key " + dir.resolve("tls.crt")
                + ": expected a PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----); convert one with: openssl pkcs8 -topk8"
                + " -nocrypt -in old.key -out tls.crt");
    }

    @Test
    void checkConfigWithoutAFileSaysSo() {
        assertThat(run("check-config", "--config", "missing.json")).isEqualTo(2);
        assertThat(errLines()).containsExactly("ollama-balancer: missing.json: file not found");
    }

    @Test
    void checkConfigOnABadSettingNamesIt() throws Exception {
        writeBackends("containers.config.json", "[{'name':'a','url':'http://h:1'}]");
        env.put("QUEUE_WAIT", "soon");
        assertThat(run("check-config")).isEqualTo(2);
        assertThat(errLines()).containsExactly("ollama-balancer: environment variable QUEUE_WAIT: invalid duration"
                + " \"soon\" (expected e.g. 250ms, 30s, 5m, 1h or 1m30s)");
    }

    @Test
    void checkConfigOnABadPrewarmValueNamesIt() throws Exception {
        writeBackends("containers.config.json", "[{'name':'a','url':'http://h:1'}]");
        assertThat(run("check-config", "--prewarm", "maybe")).isEqualTo(2);
        assertThat(errLines())
                .containsExactly("ollama-balancer: --prewarm: invalid value \"maybe\" (expected on or off)");
    }

    @Test
    void checkConfigPrintsOneLinePerBackend() throws Exception {
        writeBackends("fleet.json", "{'backends':[{'name':'gpu','url':'http://10.0.0.5:11434','maxConcurrency':4,"
                + "'models':['llama3.2:1b','all-minilm']},{'name':'cpu-1','url':'http://10.0.0.6:11434',"
                + "'enabled':false,'color':'red'}]}");
        env.put("CONFIG_FILE", "fleet.json");
        assertThat(run("check-config", "--max-concurrency", "2")).isZero();
        assertThat(out.toString().lines()).containsExactly(
                "gpu    http://10.0.0.5:11434  maxConcurrency=4  models=llama3.2:1b,all-minilm  enabled",
                "cpu-1  http://10.0.0.6:11434  maxConcurrency=2  models from /api/tags  disabled",
                "warning: fleet.json: backend \"cpu-1\": unknown field \"color\" ignored",
                "OK: fleet.json: 2 backends, 1 enabled");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void checkConfigCanShowWhereEachSettingCameFrom() throws Exception {
        writeBackends("containers.config.json", "[{'name':'a','url':'http://h:1'}]");
        env.put("ADMIN_TOKEN", "s3cret");
        assertThat(run("check-config", "--settings", "--port", "81")).isZero();
        assertThat(out.toString()).contains("port = 81  [--port]", "admin.token = ***  [environment variable"
                + " ADMIN_TOKEN]", "policy = eft  [default]", "redis.url = (unset)  [default]")
                .doesNotContain("s3cret");
    }

    @Test
    void clusterFlagsReachServeAndABadOneStopsStartUpWithOneLine() throws Exception {
        writeBackends("containers.config.json", "[{'name':'a','url':'http://h:1'}]");
        assertThat(run("serve", "--help")).isZero();
        assertThat(out.toString().replaceAll("\\s+", " ")).contains("--cluster-namespace=NAME",
                "[env CLUSTER_NAMESPACE; default ollama-balancer]", "--cluster-lease=DURATION",
                "[env CLUSTER_LEASE; default 3s]", "--replica-id=ID", "two live replicas must never share one",
                "[env CLUSTER_REPLICA_ID]");

        env.put("CLUSTER_NAMESPACE", "staging");
        assertThat(run("--redis-url", "redis://r:1", "--cluster-lease", "10s", "--replica-id", "balancer-0")).isZero();
        BalancerConfig c = started.get(0);
        assertThat(c.clusterNamespace()).isEqualTo("staging");
        assertThat(c.clusterLease()).isEqualTo(java.time.Duration.ofSeconds(10));
        assertThat(c.clusterReplicaId()).isEqualTo("balancer-0");

        assertThat(run("serve", "--cluster-namespace", "{prod}")).isEqualTo(2);
        assertThat(errLines()).containsExactly("ollama-balancer: --cluster-namespace: invalid cluster namespace"
                + " \"{prod}\" (expected 1-64 letters, digits, . _ - :)");
        assertThat(started).hasSize(1);
    }

    @Test
    void checkConfigValidatesAndShowsTheClusterSettings() throws Exception {
        writeBackends("containers.config.json", "[{'name':'a','url':'http://h:1'}]");
        assertThat(run("check-config", "--settings", "--cluster-lease", "1m")).isZero();
        assertThat(out.toString()).contains("cluster.namespace = ollama-balancer  [default]",
                "cluster.lease = 1m  [--cluster-lease]", "cluster.replica.id = (unset)  [default]");

        env.put("CLUSTER_LEASE", "10m");
        assertThat(run("check-config")).isEqualTo(2);
        assertThat(errLines()).containsExactly("ollama-balancer: environment variable CLUSTER_LEASE: lease 10m is out"
                + " of range (expected 2s to 5m)");
    }

    @Test
    void noArgumentsServesWithTheDefaults() throws Exception {
        writeBackends("containers.config.json", "[{'name':'a','url':'http://h:1'}]");
        assertThat(run()).isZero();
        assertThat(started).hasSize(1);
        assertThat(started.get(0).port()).isEqualTo(3000);
        assertThat(started.get(0).backendsFile()).isEqualTo(dir.resolve("containers.config.json"));
        assertThat(startedBackends.get(0)).extracting(BackendConfig::name).containsExactly("a");
    }

    @Test
    void optionsWithoutACommandGoToServeAndFlagsBeatEverythingElse() throws Exception {
        writeBackends("containers.config.json", "[{'name':'a','url':'http://h:1'}]");
        Files.createDirectory(dir.resolve("conf"));
        Files.writeString(dir.resolve("conf/balancer.properties"), "port=1001\npolicy=legacy\nbind=10.0.0.1\n"
                + "default.max.concurrency=3\n");
        Files.writeString(dir.resolve(".env"), "PORT=1002\nBALANCER_POLICY=round-robin\n");
        env.put("PORT", "1003");
        assertThat(run("--port", "1004")).isZero();
        BalancerConfig c = started.get(0);
        assertThat(c.port()).isEqualTo(1004);
        assertThat(c.policy()).isEqualTo("round-robin");
        assertThat(c.bind()).isEqualTo("10.0.0.1");
        assertThat(startedBackends.get(0).get(0).maxConcurrency()).isEqualTo(3);
    }

    @Test
    void serveDoesNotStartOnABadConfig() throws Exception {
        writeBackends("containers.config.json", "[\n{'name':'a' 'url':'http://h:1'}]");
        assertThat(run("serve")).isEqualTo(2);
        assertThat(errLines()).containsExactly("ollama-balancer: containers.config.json: invalid JSON at line 2,"
                + " column 13: Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries");
        assertThat(started).isEmpty();
    }

    @Test
    void aFailureToStartIsOneLineAndStatusOne() throws Exception {
        writeBackends("containers.config.json", "[{'name':'a','url':'http://h:1'}]");
        launcher = (config, backends) -> {
            throw new BindException("Address already in use");
        };
        assertThat(run("serve", "--port", "3000")).isEqualTo(1);
        assertThat(errLines()).containsExactly("ollama-balancer: BindException: Address already in use");
    }
}

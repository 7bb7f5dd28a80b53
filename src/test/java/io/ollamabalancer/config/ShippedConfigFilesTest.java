package io.ollamabalancer.config;

import org.junit.jupiter.api.Test;

import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** The example files at the repository root must stay true to the code: every setting documented, defaults right. */
class ShippedConfigFilesTest {

    @Test
    void confPropertiesDocumentsEverySettingWithItsBuiltInDefault() throws Exception {
        Path file = Path.of("conf/balancer.properties");
        String text = Files.readString(file);
        for (Setting s : Setting.values()) {
            assertThat(text).as("conf/balancer.properties documents %s", s.key())
                    .containsPattern("(?m)^#?" + java.util.regex.Pattern.quote(s.key()) + "=")
                    .contains(s.flag()).contains("env " + s.env());
        }
        Properties conf = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            conf.load(r);
        }
        ResolvedSettings r = new SettingsResolver(Map.of(), Map.of(), Map.of(), conf).resolve();
        assertThat(r.warnings()).isEmpty();
        assertThat(r.config()).isEqualTo(BalancerConfig.defaults());
    }

    @Test
    void envExampleListsEveryVariableAndParsesWhenUncommented() throws Exception {
        String text = Files.readString(Path.of(".env.example"));
        for (Setting s : Setting.values()) {
            assertThat(text).containsPattern("(?m)^#" + s.env() + "=");
        }
        assertThat(text).containsPattern("(?m)^#CONF_DIR=").containsPattern("(?m)^#LOG_LEVEL=")
                .containsPattern("(?m)^#REDIS_HOST=").containsPattern("(?m)^#REDIS_PORT=");
        Map<String, String> vars = EnvFile.parse(text.replaceAll("(?m)^#([A-Z_]+=)", "$1"), ".env.example");
        ResolvedSettings r = new SettingsResolver(new EnumMap<>(Setting.class), Map.of(), vars, new Properties())
                .resolve();
        BalancerConfig expected = BalancerConfig.defaults().toBuilder().redisUrl("redis://localhost:6379")
                .clusterReplicaId("balancer-0").adminToken("change-me").corsOrigins("https://chat.example.com")
                .apiKeysFile(Path.of("keys.json"))
                .tlsCertFile(Path.of("tls.crt")).tlsKeyFile(Path.of("tls.key")).backendCaFile(Path.of("backend-ca.pem"))
                .ensureModels(java.util.List.of("llama3.2:1b")).build();
        assertThat(r.config()).isEqualTo(expected);
    }

    @Test
    void exampleBackendsFileIsTheOriginalFormatWithTwoLocalBackends() {
        BackendsFile.Loaded l = BackendsFile.load(Path.of("containers.config.json"), "containers.config.json", 1);
        assertThat(l.warnings()).isEmpty();
        assertThat(l.backends()).extracting(b -> b.url().toString())
                .containsExactly("http://localhost:11434", "http://localhost:11435");
    }

    @Test
    void composeBackendsFileNamesTheComposeServices() throws Exception {
        BackendsFile.Loaded l = BackendsFile.load(Path.of("conf/containers.compose.json"), "compose", 1);
        assertThat(l.warnings()).isEmpty();
        String compose = Files.readString(Path.of("docker-compose.yaml"));
        for (BackendConfig b : l.backends()) {
            assertThat(compose).as("docker-compose.yaml has a service for %s", b.url())
                    .containsPattern("(?m)^  " + b.url().getHost() + ":$");
            assertThat(b.port()).isEqualTo(11434);
        }
        assertThat(compose).contains("./conf/containers.compose.json:/app/containers.config.json:ro");
    }
}

package io.ollamabalancer.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SettingsLoaderTest {
    @TempDir
    Path dir;

    @Test
    void readsDotEnvAndDefaultConfDirFromTheWorkingDirectory() throws Exception {
        Files.writeString(dir.resolve(".env"), "PORT=4000\n");
        Files.createDirectory(dir.resolve("conf"));
        Files.writeString(dir.resolve("conf/balancer.properties"), "port=5000\nbind=127.0.0.1\n");
        ResolvedSettings r = SettingsLoader.load(Map.of(), null, Map.of(), dir);
        assertThat(r.config().port()).isEqualTo(4000);
        assertThat(r.config().bind()).isEqualTo("127.0.0.1");
        assertThat(r.origins().get(Setting.BIND)).isEqualTo("conf/balancer.properties: bind");
    }

    @Test
    void missingDefaultFilesAreFine() {
        assertThat(SettingsLoader.load(Map.of(), null, Map.of(), dir).config()).isEqualTo(BalancerConfig.defaults());
    }

    @Test
    void confDirComesFromFlagThenEnvThenDotEnv() throws Exception {
        for (String d : new String[] {"a", "b", "c"}) {
            Files.createDirectory(dir.resolve(d));
            Files.writeString(dir.resolve(d).resolve("balancer.properties"), "policy=" + switch (d) {
                case "a" -> "legacy";
                case "b" -> "round-robin";
                default -> "least-connections";
            });
        }
        Files.writeString(dir.resolve(".env"), "CONF_DIR=c\n");
        assertThat(SettingsLoader.load(Map.of(), null, Map.of(), dir).config().policy())
                .isEqualTo("least-connections");
        assertThat(SettingsLoader.load(Map.of(), null, Map.of("CONF_DIR", "b"), dir).config().policy())
                .isEqualTo("round-robin");
        ResolvedSettings r = SettingsLoader.load(Map.of(), "a", Map.of("CONF_DIR", "b"), dir);
        assertThat(r.config().policy()).isEqualTo("legacy");
        assertThat(r.origins().get(Setting.POLICY)).isEqualTo("a/balancer.properties: policy");
    }

    @Test
    void anExplicitConfDirMustExist() throws Exception {
        assertThatThrownBy(() -> SettingsLoader.load(Map.of(), "nope", Map.of(), dir))
                .isInstanceOf(ConfigException.class).hasMessage("conf directory nope not found");
        Files.createDirectory(dir.resolve("empty"));
        assertThatThrownBy(() -> SettingsLoader.load(Map.of(), "empty/", Map.of(), dir))
                .hasMessage("empty/balancer.properties: file not found");
        Files.writeString(dir.resolve("file"), "");
        assertThatThrownBy(() -> SettingsLoader.load(Map.of(), "file", Map.of(), dir))
                .hasMessage("conf directory file is not a directory");
    }

    @Test
    void badDotEnvLineStopsLoading() throws Exception {
        Files.writeString(dir.resolve(".env"), "PORT=1\noops\n");
        assertThatThrownBy(() -> SettingsLoader.load(Map.of(), null, Map.of(), dir))
                .hasMessage(".env line 2: expected KEY=VALUE, found \"oops\"");
    }
}

package io.ollamabalancer.auth;

import io.ollamabalancer.config.ConfigException;
import io.ollamabalancer.schedule.Priority;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ApiKeysFileTest {
    private static List<ApiKey> parse(String json) {
        return ApiKeysFile.parse(json.getBytes(StandardCharsets.UTF_8), "keys.json");
    }

    static String sha256Hex(String key) {
        return HexFormat.of().formatHex(ApiKeysFile.sha256(key));
    }

    @Test
    void readsEveryLimitAndKeepsOnlyDigests() {
        List<ApiKey> keys = parse("""
                {"keys": [
                  {"name": "team-a", "key": "sk-team-a-secret", "requestsPerMinute": 60, "tokensPerMinute": 200000,
                   "maxConcurrent": 4, "models": ["llama3.2:*"], "maxPriority": "normal", "weight": 1},
                  {"name": "batch", "key": "sha256:%s", "maxPriority": "low"}
                ]}""".formatted(sha256Hex("sk-batch").toUpperCase(java.util.Locale.ROOT)));
        assertThat(keys).hasSize(2);
        ApiKey a = keys.get(0);
        assertThat(a.name()).isEqualTo("team-a");
        assertThat(a.digestHex()).isEqualTo(sha256Hex("sk-team-a-secret"));
        assertThat(a.toString()).doesNotContain("sk-team-a-secret");
        assertThat(a.requestsPerMinute()).isEqualTo(60);
        assertThat(a.tokensPerMinute()).isEqualTo(200_000);
        assertThat(a.maxConcurrent()).isEqualTo(4);
        assertThat(a.allows("llama3.2:1b")).isTrue();
        assertThat(a.allows("qwen2.5:7b")).isFalse();
        assertThat(a.clampPriority(Priority.HIGH)).isEqualTo(Priority.NORMAL);
        ApiKey b = keys.get(1);
        assertThat(b.digestHex()).isEqualTo(sha256Hex("sk-batch"));
        assertThat(b.requestsPerMinute()).isZero();
        assertThat(b.maxConcurrent()).isZero();
        assertThat(b.allows("anything:1b")).isTrue();
        assertThat(b.clampPriority(Priority.NORMAL)).isEqualTo(Priority.LOW);
        assertThat(b.clampPriority(-50)).isEqualTo(-50);
    }

    @Test
    void eachMistakeIsOneLineNamingTheEntryAndNeverTheKey() {
        assertThatThrownBy(() -> parse("[]")).isInstanceOf(ConfigException.class)
                .hasMessage("keys.json: expected an object with a \"keys\" array");
        assertThatThrownBy(() -> parse("{\"keys\": [{\"key\": \"sk-1\"}]}"))
                .hasMessage("keys.json: key #1: \"name\" is required (a non-empty string)");
        assertThatThrownBy(() -> parse("{\"keys\": [{\"name\": \"a\", \"key\": \"sk-1\", \"requestPerMinute\": 5}]}"))
                .hasMessageStartingWith("keys.json: key #1: unknown field \"requestPerMinute\"");
        assertThatThrownBy(() -> parse("{\"keys\": [{\"name\": \"a\", \"key\": \"sk-1\", \"maxConcurrent\": 0}]}"))
                .hasMessage("keys.json: key #1 (\"a\"): \"maxConcurrent\" must be a positive whole number, found 0");
        assertThatThrownBy(() -> parse("{\"keys\": [{\"name\": \"a\", \"key\": \"sha256:abc\"}]}"))
                .hasMessage("keys.json: key #1 (\"a\"): a \"sha256:\" key needs 64 hex digits after the prefix");
        assertThatThrownBy(() -> parse("{\"keys\": [{\"name\": \"a\", \"key\": \"sk-1\", \"maxPriority\": \"urgent\"}]}"))
                .hasMessageContaining("\"maxPriority\" must be high, normal, low or a whole number");
        assertThatThrownBy(() -> parse("{\"keys\": [{\"name\": \"a\", \"key\": \"sk-1\"}, {\"name\": \"a\", \"key\": \"sk-2\"}]}"))
                .hasMessage("keys.json: key #2: duplicate name \"a\" (also key #1)");
        assertThatThrownBy(() -> parse("{\"keys\": [{\"name\": \"a\", \"key\": \"sk-secret-1\"}, "
                + "{\"name\": \"b\", \"key\": \"sha256:" + sha256Hex("sk-secret-1") + "\"}]}"))
                .hasMessage("keys.json: key #2 (\"b\"): the same key as key #1")
                .message().doesNotContain("sk-secret-1");
        assertThatThrownBy(() -> parse("{\"keys\": [{\"name\": \"a\", \"key\": \"sk-1\",}"))
                .isInstanceOf(ConfigException.class).message().doesNotContain("\n");
    }

    @Test
    void describesAReloadByNames() {
        List<ApiKey> before = parse("{\"keys\": [{\"name\": \"a\", \"key\": \"k1\"}, {\"name\": \"b\", \"key\": \"k2\"}]}");
        List<ApiKey> after = parse("{\"keys\": [{\"name\": \"a\", \"key\": \"k1\", \"maxConcurrent\": 1}, "
                + "{\"name\": \"c\", \"key\": \"k3\"}]}");
        assertThat(ApiKeysFile.describeChange(before, after))
                .isEqualTo("2 key(s); added [c], removed [b], changed [a]");
    }
}

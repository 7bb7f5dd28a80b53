package io.ollamabalancer.loadgen;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LoadgenConfigTest {
    private static final BodyTemplate BODY = BodyTemplate.of("{}");
    private static final List<URI> TWO = List.of(URI.create("http://127.0.0.1:1"), URI.create("http://127.0.0.1:2"));

    private static LoadgenConfig config(List<URI> targets, int requests, int warmup, Duration duration) {
        return new LoadgenConfig(targets, "/api/generate", BODY, 5, requests, warmup, duration, Duration.ofSeconds(2),
                Duration.ofSeconds(10), 1);
    }

    @Test
    void connectionsAreSpreadOverTheTargets() {
        LoadgenConfig c = config(TWO, 1, 0, Duration.ZERO);
        assertThat(List.of(c.target(0), c.target(1), c.target(2), c.target(3))).containsExactly(TWO.get(0),
                TWO.get(1), TWO.get(0), TWO.get(1));
        assertThat(LoadgenConfig.port(URI.create("http://localhost"))).isEqualTo(80);
    }

    @Test
    void theBoundCoversRampUpAndEveryRequestOrTheDuration() {
        assertThat(config(TWO, 3, 1, Duration.ZERO).bound()).isEqualTo(Duration.ofSeconds(2 + 4 * 10 + 5));
        assertThat(config(TWO, 0, 0, Duration.ofSeconds(30)).bound()).isEqualTo(Duration.ofSeconds(2 + 30 + 10 + 5));
        assertThat(config(TWO, 1, 0, Duration.ofSeconds(30)).bound()).isEqualTo(Duration.ofSeconds(2 + 10 + 5));
    }

    @Test
    void mistakesAreRejectedWithOneLine() {
        assertThatThrownBy(() -> config(List.of(), 1, 0, Duration.ZERO)).hasMessage("at least one target is needed");
        assertThatThrownBy(() -> config(List.of(URI.create("ftp://x:1")), 1, 0, Duration.ZERO))
                .hasMessageContaining("http[s]://host");
        assertThat(config(List.of(URI.create("https://x")), 1, 0, Duration.ZERO).targets())
                .as("https targets are reached over TLS, on 443 unless a port is given")
                .containsExactly(URI.create("https://x"));
        assertThat(LoadgenConfig.port(URI.create("https://x"))).isEqualTo(443);
        assertThatThrownBy(() -> config(TWO, 0, 0, Duration.ZERO))
                .hasMessage("give a number of requests per connection or a duration");
        assertThatThrownBy(() -> new LoadgenConfig(TWO, "api", BODY, 1, 1, 0, Duration.ZERO, Duration.ZERO,
                Duration.ofSeconds(1), 1)).hasMessageContaining("path");
        assertThatThrownBy(() -> new LoadgenConfig(TWO, "/", BODY, 0, 1, 0, Duration.ZERO, Duration.ZERO,
                Duration.ofSeconds(1), 1)).hasMessageContaining("connections");
    }
}

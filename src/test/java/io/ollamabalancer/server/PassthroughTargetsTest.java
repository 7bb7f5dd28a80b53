package io.ollamabalancer.server;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BlobLocations;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.config.BackendConfig;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PassthroughTargetsTest {
    private static final String D1 = "sha256:" + "1".repeat(64);
    private static final String D2 = "sha256:" + "2".repeat(64);
    private static final String D3 = "sha256:" + "3".repeat(64);

    private final Fleet fleet = new Fleet(List.of(backend("a", 1), backend("b", 2), backend("c", 3)));
    private final BlobLocations blobs = BlobLocations.withDefaults();
    private final PassthroughTargets targets = new PassthroughTargets(fleet, blobs);

    private static BackendConfig backend(String name, int port) {
        return new BackendConfig(name, URI.create("http://127.0.0.1:" + port), 1, List.of("m"), true);
    }

    private String chosen(List<String> digests, String named) {
        PassthroughTargets.Choice c = targets.choose(digests, named);
        return c.backend() == null ? c.status() + " " + c.error() : c.backend().name();
    }

    @Test
    void withoutBlobsTheNamedBackendElseTheFirstAvailable() {
        assertThat(chosen(List.of(), null)).isEqualTo("a");
        assertThat(chosen(List.of(D1), null)).as("an unknown blob changes nothing").isEqualTo("a");
        assertThat(chosen(List.of(), "c")).isEqualTo("c");
        assertThat(chosen(List.of(), "zz")).isEqualTo("400 unknown backend 'zz'");
    }

    @Test
    void theHolderOfTheBlobsComesBeforeTheHeaderAndTheDefault() {
        blobs.stored(D1, "b");
        assertThat(chosen(List.of(D1), null)).isEqualTo("b");
        assertThat(chosen(List.of(D1), "c")).isEqualTo("b");
        assertThat(chosen(List.of(D2, D1), null)).isEqualTo("b");
    }

    @Test
    void theBackendHoldingMostOfTheBlobsWinsATieGoesToTheFirstNamed() {
        blobs.stored(D1, "b");
        blobs.stored(D2, "c");
        blobs.stored(D3, "c");
        assertThat(chosen(List.of(D1, D2, D3), null)).isEqualTo("c");
        assertThat(chosen(List.of(D1, D2), null)).isEqualTo("b");
        assertThat(chosen(List.of(D2, D1), null)).isEqualTo("c");
    }

    @Test
    void anUnavailableHolderIsPassedOver() {
        blobs.stored(D1, "b");
        Backend b = fleet.byName("b");
        b.draining(true);
        assertThat(chosen(List.of(D1), null)).isEqualTo("a");
        assertThat(chosen(List.of(D1), "c")).isEqualTo("c");
        b.draining(false);
        b.reconfigure(new BackendConfig("b", URI.create("http://127.0.0.1:2"), 1, List.of("m"), false));
        assertThat(chosen(List.of(D1), null)).as("disabled").isEqualTo("a");
    }

    @Test
    void noAvailableBackendIs503() {
        for (Backend b : fleet.all()) {
            b.draining(true);
        }
        PassthroughTargets.Choice c = targets.choose(List.of(), null);
        assertThat(c.backend()).isNull();
        assertThat(c.status()).isEqualTo(503);
        assertThat(c.retryAfterSeconds()).isEqualTo(1);
    }
}

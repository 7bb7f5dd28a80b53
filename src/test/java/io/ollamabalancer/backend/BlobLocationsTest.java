package io.ollamabalancer.backend;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class BlobLocationsTest {
    private static final String HEX = "a".repeat(64);
    private static final String D = "sha256:" + HEX;

    private static String digest(int i) {
        return "sha256:" + String.format("%064x", i);
    }

    @Test
    void rememberedBlobsAreFoundUnderEitherSpelling() {
        BlobLocations b = new BlobLocations(10, Duration.ofHours(1), new FakeClock());
        assertThat(b.holder(D)).isNull();
        b.stored(D, "gpu-1");
        assertThat(b.holder(D)).isEqualTo("gpu-1");
        assertThat(b.holder("sha256-" + HEX)).isEqualTo("gpu-1");
        b.stored("sha256-" + HEX, "gpu-2");
        assertThat(b.holder(D)).as("the latest confirmation wins").isEqualTo("gpu-2");
        assertThat(b.size()).isEqualTo(1);
    }

    @Test
    void hexCaseMattersAsItDoesForOllamasFileNames() {
        BlobLocations b = new BlobLocations(10, Duration.ofHours(1), new FakeClock());
        b.stored(D, "gpu-1");
        assertThat(b.holder("sha256:" + HEX.toUpperCase())).isNull();
    }

    @Test
    void whatIsNotADigestIsNotRemembered() {
        BlobLocations b = new BlobLocations(10, Duration.ofHours(1), new FakeClock());
        b.stored("sha256:abc", "gpu-1");
        b.stored("md5:" + HEX, "gpu-1");
        b.stored(null, "gpu-1");
        assertThat(b.size()).isZero();
        assertThat(b.holder(null)).isNull();
    }

    @Test
    void aMissOnTheHolderForgetsItAMissElsewhereDoesNot() {
        BlobLocations b = new BlobLocations(10, Duration.ofHours(1), new FakeClock());
        b.stored(D, "gpu-1");
        b.missing(D, "gpu-2");
        assertThat(b.holder(D)).isEqualTo("gpu-1");
        b.missing(D, "gpu-1");
        assertThat(b.holder(D)).isNull();
    }

    @Test
    void entriesExpireAfterTheirLastConfirmation() {
        FakeClock clock = new FakeClock();
        BlobLocations b = new BlobLocations(10, Duration.ofMinutes(10), clock);
        b.stored(D, "gpu-1");
        clock.advance(Duration.ofMinutes(9));
        assertThat(b.holder(D)).isEqualTo("gpu-1");
        b.stored(D, "gpu-1");
        clock.advance(Duration.ofMinutes(9));
        assertThat(b.holder(D)).as("confirmed again 9 minutes ago").isEqualTo("gpu-1");
        clock.advance(Duration.ofMinutes(2));
        assertThat(b.holder(D)).isNull();
        assertThat(b.size()).isZero();
    }

    @Test
    void theLeastRecentlyUsedGoesWhenFull() {
        BlobLocations b = new BlobLocations(3, Duration.ofHours(1), new FakeClock());
        b.stored(digest(1), "a");
        b.stored(digest(2), "a");
        b.stored(digest(3), "a");
        assertThat(b.holder(digest(1))).isEqualTo("a"); // used: 2 is now the eldest
        b.stored(digest(4), "a");
        assertThat(b.size()).isEqualTo(3);
        assertThat(b.holder(digest(2))).isNull();
        assertThat(b.holder(digest(1))).isEqualTo("a");
        assertThat(b.holder(digest(4))).isEqualTo("a");
    }
}

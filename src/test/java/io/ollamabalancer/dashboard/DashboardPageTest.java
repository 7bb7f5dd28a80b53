package io.ollamabalancer.dashboard;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

class DashboardPageTest {
    private final DashboardPage page = DashboardPage.load();

    @Test
    void thePageIsSelfContained() {
        String html = page.text();
        assertThat(html).contains("/balancer/ui/data", "<canvas", "<script>", "<style>");
        assertThat(html).as("nothing fetched from elsewhere (no CDN)").doesNotContain("http://", "https://",
                "<script src", "<link rel=\"stylesheet\"");
    }

    @Test
    void gzipWhenTheClientAcceptsIt() throws IOException {
        DashboardPage.Answer zipped = page.answer("gzip, deflate, br", null);
        assertThat(zipped.status()).isEqualTo(200);
        assertThat(zipped.gzip()).isTrue();
        assertThat(zipped.body().length).isLessThan(page.text().length() / 2);
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(zipped.body()))) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(page.text());
        }
        assertThat(page.answer(null, null).gzip()).isFalse();
        assertThat(page.answer("identity", null).gzip()).isFalse();
        assertThat(page.answer("gzip;q=0", null).gzip()).as("refused with weight 0").isFalse();
        assertThat(page.answer("br, GZIP;q=0.5", null).gzip()).isTrue();
        assertThat(page.answer("*", null).gzip()).isTrue();
    }

    @Test
    void aClientHoldingThisVersionGetsA304() {
        String etag = page.etag();
        assertThat(etag).matches("\"[0-9a-f]{24}\"");
        assertThat(page.answer("gzip", etag).status()).isEqualTo(304);
        assertThat(page.answer("gzip", etag).body()).isEmpty();
        assertThat(page.answer(null, "\"other\", W/" + etag).status()).isEqualTo(304);
        assertThat(page.answer(null, "\"other\"").status()).isEqualTo(200);
        assertThat(new DashboardPage("<p>changed</p>".getBytes(StandardCharsets.UTF_8)).etag())
                .as("a different page is a different version").isNotEqualTo(etag);
    }
}

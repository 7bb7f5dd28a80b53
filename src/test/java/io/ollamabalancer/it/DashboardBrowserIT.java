package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.HeadlessChromium;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The dashboard in a real browser: Debian's headless Chromium, driven over the DevTools protocol, against a balancer
 * in front of three simulators. Skipped (with the reason) where no browser can be started. Saves the page under
 * load as {@code target/dashboard.png}; {@code -Ddashboard.screenshot=docs/dashboard.png} refreshes the screenshot the
 * README shows (a test run leaves the repository's files alone).
 */
class DashboardBrowserIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "s3cret";
    private static final SimModel LLAMA = SimModel.completion("llama3.2:1b", 1_321_098_329L, "llama", "1.2B",
            "Q8_0", true);
    private static final SimModel QWEN = SimModel.completion("qwen2.5:0.5b", 397_821_319L, "qwen2", "494.03M",
            "Q4_K_M", false);
    private static final String SLOW =
            "{\"model\":\"llama3.2:1b\",\"prompt\":\"tell me a story\",\"stream\":false,\"options\":{\"num_predict\":40}}";

    private TestFleet fleet;
    private HeadlessChromium browser;

    @BeforeEach
    void startBrowser() {
        Path binary = HeadlessChromium.findBinary();
        Assumptions.assumeTrue(binary != null,
                "no Chromium on the PATH: install Debian's chromium package (.ci/run does) to run the dashboard test");
        try {
            browser = HeadlessChromium.start(binary, 1400, 1000);
        } catch (IOException e) {
            Assumptions.abort("Chromium could not be started here: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            Assumptions.abort("interrupted while starting Chromium");
        }
    }

    @AfterEach
    void stop() {
        if (browser != null) {
            browser.close();
        }
        if (fleet != null) {
            fleet.close();
        }
    }

    @Test
    void pageShowsFleetQueuesUnderLoadAndDrainsABackendFromItsButton() throws Exception {
        // Slow generations (1.6 s), one slot each: sixteen requests keep the backends busy and a queue waiting for seconds.
        fleet = new TestFleet()
                .sim("alpha", b -> b.models(List.of(LLAMA, QWEN)).decodeTokensPerSecond(25).meanOutputTokens(40)
                        .maxOutputTokens(40).slots(1))
                .sim("beta", b -> b.models(List.of(LLAMA, QWEN)).decodeTokensPerSecond(25).meanOutputTokens(40)
                        .maxOutputTokens(40).slots(1))
                .sim("gamma", b -> b.models(List.of(LLAMA)).decodeTokensPerSecond(25).meanOutputTokens(40)
                        .maxOutputTokens(40).slots(1))
                .start(c -> c.adminToken(TOKEN));
        browser.navigate(fleet.url() + "/balancer/ui");

        await("every backend and model on the page").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> texts("#backends tbody tr[data-name]", "r.dataset.name")
                        .equals(List.of("alpha", "beta", "gamma"))
                        && texts("#models tbody tr[data-model]", "r.dataset.model")
                        .equals(List.of("llama3.2:1b", "qwen2.5:0.5b")));

        long sent = System.nanoTime();
        List<CompletableFuture<HttpResponse<String>>> load = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            load.add(Http.postAsync(fleet.url() + "/api/generate", SLOW, "X-Request-Id", "load-" + i,
                    Duration.ofSeconds(30)));
        }
        await("the queue on the page").atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50))
                .until(() -> browser.evaluate("(() => { const r = document.querySelector("
                        + "'#queues tr[data-model=\"llama3.2:1b\"]'); return r ? Number(r.dataset.waiting) : 0; })()")
                        .asInt() > 0);
        assertThat(Duration.ofNanos(System.nanoTime() - sent)).as("the queue showed within 2 s of the load")
                .isLessThan(Duration.ofSeconds(2));

        browser.evaluate("document.getElementById('token').value = '" + TOKEN + "'");
        browser.evaluate("document.querySelector('button[data-act=drain][data-name=gamma]').click()");
        await("gamma shown as draining").atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50))
                .until(() -> browser.evaluate("document.querySelector('#backends tr[data-name=gamma]')"
                        + ".dataset.state").asText().equals("draining"));
        assertThat(backendStatus("gamma").get("draining").asBoolean()).as("the balancer drained it").isTrue();
        assertThat(browser.evaluate("document.getElementById('msg').textContent").asText())
                .isEqualTo("drain gamma: done");

        await("the charts have a few seconds of completed requests").atMost(Duration.ofSeconds(8))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> browser.evaluate("Number(document.body.dataset.busySeconds || 0)").asInt() >= 3);
        assertThat(texts("#queues tr[data-model]", "r.dataset.waiting")).as("still under load for the screenshot")
                .isNotEmpty();
        Path png = Path.of(System.getProperty("dashboard.screenshot", "target/dashboard.png"));
        Files.createDirectories(png.getParent());
        int height = browser.evaluate("Math.ceil(document.querySelector('main').getBoundingClientRect().bottom)")
                .asInt();
        Files.write(png, browser.screenshot(1400, height));
        assertThat(Files.size(png)).as("a screenshot was written").isGreaterThan(10_000);

        browser.evaluate("document.querySelector('button[data-act=enable][data-name=gamma]').click()");
        await("gamma serving again").atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50))
                .until(() -> browser.evaluate("document.querySelector('#backends tr[data-name=gamma]')"
                        + ".dataset.state").asText().equals("serving"));
        for (CompletableFuture<HttpResponse<String>> r : load) {
            assertThat(r.get().statusCode()).isEqualTo(200);
        }
        assertThat(browser.errors()).as("errors the browser reported").isEmpty();
    }

    /** Evaluates {@code expr} for each element matching {@code selector} (bound to {@code r}). */
    private List<String> texts(String selector, String expr) throws IOException {
        JsonNode v = browser.evaluate("[...document.querySelectorAll('" + selector + "')].map(r => " + expr + ")");
        List<String> out = new ArrayList<>();
        v.forEach(n -> out.add(n.asText()));
        return out;
    }

    private JsonNode backendStatus(String name) throws Exception {
        for (JsonNode b : JSON.readTree(Http.get(fleet.url() + "/balancer/status").body()).get("backends")) {
            if (b.get("name").asText().equals(name)) {
                return b;
            }
        }
        throw new AssertionError("no backend " + name);
    }
}

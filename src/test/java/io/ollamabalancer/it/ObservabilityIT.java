package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.TestFleet;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Known traffic through simulators, then what /metrics, /debug/latency and /balancer/status say about it. */
class ObservabilityIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int REQUESTS = 12;
    private static final int TOKENS = 8;
    private static TestFleet fleet;
    private static long generated;
    private static long prompt;

    @BeforeAll
    static void traffic() throws Exception {
        List<SimModel> models = List.of(SimModel.completion("llama3.2:1b", 1_300_000_000L, "llama", "1.2B", "Q8_0",
                true));
        // 100 tokens/s: 8 tokens take ~80 ms of decode, so every total lies between 70 ms and a few seconds.
        fleet = new TestFleet().sim("a", b -> b.models(models).decodeTokensPerSecond(100).meanOutputTokens(50)
                .maxOutputTokens(50)).start();
        for (int i = 0; i < REQUESTS; i++) {
            HttpResponse<String> r = Http.post(fleet.url() + "/api/generate", "{\"model\":\"llama3.2:1b\","
                    + "\"prompt\":\"count " + i + "\",\"options\":{\"num_predict\":" + TOKENS + "}}");
            assertThat(r.statusCode()).isEqualTo(200);
            String[] lines = r.body().split("\n");
            JsonNode last = JSON.readTree(lines[lines.length - 1]);
            generated += last.get("eval_count").asLong();
            prompt += last.get("prompt_eval_count").asLong();
        }
        assertThat(Http.post(fleet.url() + "/api/generate", "{\"model\":\"nope\",\"prompt\":\"x\"}").statusCode())
                .isEqualTo(404);
    }

    @AfterAll
    static void stop() {
        fleet.close();
    }

    private static double sample(String metrics, String prefix) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(prefix)) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("no sample " + prefix + " in\n" + metrics);
    }

    @Test
    void prometheusCountsTheTraffic() throws Exception {
        String m = Http.get(fleet.url() + "/metrics").body();
        assertThat(sample(m, "ollama_balancer_requests_total{endpoint=\"generate\",model=\"llama3.2:1b\","
                + "backend=\"a\",status=\"200\"}")).isEqualTo(REQUESTS);
        assertThat(m).contains("status=\"404\"");
        assertThat(sample(m, "ollama_balancer_generated_tokens_total{model=\"llama3.2:1b\",backend=\"a\"}"))
                .isEqualTo(generated);
        assertThat(sample(m, "ollama_balancer_prompt_tokens_total{model=\"llama3.2:1b\",backend=\"a\"}"))
                .isEqualTo(prompt);
        assertThat(sample(m, "ollama_balancer_backend_up{backend=\"a\"}")).isEqualTo(1.0);
        assertThat(sample(m, "ollama_balancer_backend_decode_tokens_per_second{backend=\"a\",model="))
                .as("learned from the timing fields").isBetween(50.0, 200.0);
        double p50 = sample(m, "ollama_balancer_request_duration_seconds{quantile=\"0.5\"}");
        assertThat(p50).isBetween(0.07, 5.0);
    }

    @Test
    void latencyDumpHoldsTheRequestsInPlausibleRanges() throws Exception {
        JsonNode doc = JSON.readTree(Http.get(fleet.url() + "/debug/latency?format=json").body());
        JsonNode total = null;
        JsonNode gap = null;
        for (JsonNode h : doc.get("histograms")) {
            if (h.get("labels").isEmpty() && h.get("name").asText().equals("total")) {
                total = h;
            }
            if (h.get("labels").isEmpty() && h.get("name").asText().equals("token_gap")) {
                gap = h;
            }
        }
        assertThat(total).isNotNull();
        assertThat(total.get("count").asLong()).isGreaterThanOrEqualTo(REQUESTS);
        assertThat(total.get("p50").asDouble()).as("ms").isBetween(70.0, 5000.0);
        assertThat(gap).isNotNull();
        // Streamed chunks at 100 tokens/s arrive ~10 ms apart.
        assertThat(gap.get("p50").asDouble()).isBetween(3.0, 100.0);
        assertThat(gap.get("count").asLong()).isGreaterThanOrEqualTo((long) REQUESTS * (TOKENS - 1));

        String hlog = Http.get(fleet.url() + "/debug/latency?format=hlog").body();
        HistogramLogReader reader = new HistogramLogReader(new ByteArrayInputStream(
                hlog.getBytes(StandardCharsets.UTF_8)));
        int histograms = 0;
        for (Histogram h = (Histogram) reader.nextIntervalHistogram(); h != null;
             h = (Histogram) reader.nextIntervalHistogram()) {
            assertThat(h.getTotalCount()).as("an interval in the log holds values").isPositive();
            histograms++;
        }
        assertThat(hlog).startsWith("#");
        long intervalLines = hlog.lines().filter(l -> !l.isBlank() && !l.startsWith("#") && !l.startsWith("\""))
                .count();
        // Every interval line the balancer wrote is one histogram HdrHistogram's own reader loads.
        assertThat(histograms).as("HdrHistogram's reader loads every interval line").isEqualTo(intervalLines);

        String hgrm = Http.get(fleet.url() + "/debug/latency?name=total").body();
        assertThat(hgrm).contains("Value     Percentile TotalCount 1/(1-Percentile)").contains("#[Mean");
    }

    @Test
    void statusShowsTheBackendAndItsLearnedSpeed() throws Exception {
        JsonNode status = JSON.readTree(Http.get(fleet.url() + "/balancer/status").body());
        JsonNode a = status.get("backends").get(0);
        assertThat(a.get("name").asText()).isEqualTo("a");
        assertThat(a.get("health").asText()).isEqualTo("up");
        assertThat(a.at("/models/installed").toString()).contains("llama3.2:1b");
        assertThat(a.get("speeds")).isNotEmpty();
    }
}

package io.ollamabalancer.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.metrics.FleetFixture;
import io.ollamabalancer.metrics.LatencyRecorders;
import io.ollamabalancer.metrics.Rendered;
import io.ollamabalancer.metrics.SpeedSample;
import io.ollamabalancer.metrics.Traffic;
import io.ollamabalancer.schedule.LeastConnectionsPolicy;
import io.ollamabalancer.schedule.Scheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class DashboardDataTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final FleetFixture fx = new FleetFixture();
    private final AtomicLong wallMs = new AtomicLong(1_700_000_000_000L);
    private final LatencyRecorders recorders = new LatencyRecorders(wallMs::get, 64, 10);
    private final ChartSampler sampler = new ChartSampler(recorders, fx.scheduler, wallMs::get, fx.nanos::get, 900);
    private final List<SpeedSample> speeds = List.of(new SpeedSample("b1", "llama3.2:1b", 42.54, 0.5, 812.25, 12),
            new SpeedSample("b1", "qwen2:0.5b", Double.NaN, 0.5, 0, 0));
    private final DashboardData data = new DashboardData(fx.fleet, fx.scheduler, () -> speeds, sampler,
            fx.nanos::get, wallMs::get);

    @AfterEach
    void close() {
        fx.close();
    }

    @Test
    void describesBackendsQueuesAndChartSamplesCompactly() throws Exception {
        fx.submit("llama3.2:1b", 0);
        fx.submit("llama3.2:1b", 0); // b1's two slots
        fx.submit("llama3.2:1b", 0); // waits from t=1 s
        fx.submit("llama3.2:1b", 5);
        fx.nanos.addAndGet(1_500_000_000L);
        recorders.requestCompleted(Traffic.ok(1, "llama3.2:1b", "b1", 100));
        wallMs.addAndGet(1_000);
        fx.nanos.addAndGet(1_000_000_000L);
        sampler.tick();

        Rendered r = data.render(0);
        assertThat(r.contentType()).startsWith("application/json");
        JsonNode d = JSON.readTree(r.body());
        assertThat(d.get("now").asLong()).isEqualTo(wallMs.get());
        JsonNode b1 = d.get("backends").get(0);
        assertThat(b1.get("name").asText()).isEqualTo("b1");
        assertThat(b1.get("health").asText()).isEqualTo("up");
        assertThat(b1.get("used").asInt()).isEqualTo(2);
        assertThat(b1.get("max").asInt()).isEqualTo(2);
        assertThat(b1.get("outstanding").asInt()).as("counted by the relay; nothing was relayed here").isZero();
        assertThat(d.get("models").toString()).isEqualTo("[\"llama3.2:1b\",\"qwen2:0.5b\"]");
        assertThat(b1.get("installed").toString()).as("indices into models").isEqualTo("[0,1]");
        assertThat(b1.get("warm").toString()).isEqualTo("[0]");
        assertThat(b1.get("speeds").toString()).as("[model index, prefill, decode], unknown as null")
                .isEqualTo("[[0,812.3,42.5],[1,null,null]]");
        assertThat(b1.get("memModels").isNull()).isTrue();
        JsonNode odd = d.get("backends").get(1);
        assertThat(odd.get("name").asText()).isEqualTo(FleetFixture.ODD);
        assertThat(odd.get("health").asText()).isEqualTo("down");
        assertThat(odd.get("lastError").asText()).isEqualTo("connection refused");
        assertThat(odd.get("memModels").asInt()).isEqualTo(3);
        assertThat(odd.get("memBytes").asLong()).isEqualTo(8L << 30);

        JsonNode q = d.get("queues").get(0);
        assertThat(q.get("model").asText()).isEqualTo("llama3.2:1b");
        assertThat(q.get("waiting").asInt()).isEqualTo(2);
        assertThat(q.get("oldestMs").asLong()).isEqualTo(2_500);
        assertThat(q.get("byPriority").toString()).isEqualTo("{\"5\":1,\"0\":1}");
        assertThat(q.get("drainMs").asLong()).isNotNegative();

        JsonNode samples = d.get("samples");
        assertThat(samples).hasSize(1);
        assertThat(samples.get(0).size()).isEqualTo(8);
        assertThat(samples.get(0).get(0).asLong()).isEqualTo(wallMs.get() / 1000);
        assertThat(samples.get(0).get(1).asDouble()).as("one request in 2.5 s").isEqualTo(0.4);
        assertThat(samples.get(0).get(7).asInt()).as("queued").isEqualTo(2);

        assertThat(JSON.readTree(data.render(wallMs.get() / 1000).body()).get("samples"))
                .as("the page asks only for samples newer than its last").isEmpty();
    }

    @Test
    void fiftyBackendsWithTwentyModelsAndFifteenMinutesOfSamplesStaySmall() throws Exception {
        List<String> models = new ArrayList<>();
        for (int m = 0; m < 20; m++) {
            models.add("model-" + m + ":7b");
        }
        List<BackendConfig> configs = new ArrayList<>();
        List<SpeedSample> learned = new ArrayList<>();
        for (int b = 0; b < 50; b++) {
            configs.add(new BackendConfig("gpu-" + b, URI.create("http://10.0.0." + b + ":11434"), 4, models, true));
            for (String m : models) {
                learned.add(new SpeedSample("gpu-" + b, m, 40.25, 0.5, 900.5, 10));
            }
        }
        Fleet big = new Fleet(configs);
        for (Backend b : big.all()) {
            b.updateLoaded(Set.copyOf(models.subList(0, 3)));
        }
        try (Scheduler scheduler = new Scheduler(big, new LeastConnectionsPolicy(), 100, Long.MAX_VALUE / 4,
                fx.nanos::get, false)) {
            ChartSampler full = new ChartSampler(recorders, scheduler, wallMs::get, fx.nanos::get, 900);
            for (int i = 0; i < 900; i++) {
                wallMs.addAndGet(1_000);
                full.tick();
            }
            DashboardData d = new DashboardData(big, scheduler, () -> learned, full, fx.nanos::get, wallMs::get);
            byte[] first = d.render(0).body();
            byte[] next = d.render(wallMs.get() / 1000 - 1).body();
            JsonNode doc = JSON.readTree(next);
            assertThat(doc.get("backends")).hasSize(50);
            assertThat(doc.get("samples")).hasSize(1);
            // The first load carries the history; each poll after it only the fleet and one sample.
            assertThat(first.length).as("first load, bytes").isLessThan(64_000);
            assertThat(next.length).as("one poll, bytes").isLessThan(32_000);
        }
    }
}

package io.ollamabalancer.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.metrics.FleetFixture;
import io.ollamabalancer.metrics.LatencyRecorders;
import io.ollamabalancer.metrics.Rendered;
import io.ollamabalancer.metrics.SpeedSample;
import io.ollamabalancer.metrics.Traffic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class DashboardDataTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final FleetFixture fx = new FleetFixture();
    private final AtomicLong wallMs = new AtomicLong(1_700_000_000_000L);
    private final LatencyRecorders recorders = new LatencyRecorders(wallMs::get, 64, 10);
    private final ChartSampler sampler = new ChartSampler(recorders, fx.scheduler, wallMs::get, fx.nanos::get, 900);
    private final List<SpeedSample> speeds = List.of(new SpeedSample("b1", "llama3.2:1b", 42.54, 812.25, 12),
            new SpeedSample("b1", "qwen2:0.5b", Double.NaN, 0, 0));
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
        assertThat(b1.get("warm").toString()).isEqualTo("[\"llama3.2:1b\"]");
        assertThat(b1.get("speeds").toString()).as("[model, prefill, decode], unknown as null")
                .isEqualTo("[[\"llama3.2:1b\",812.3,42.5],[\"qwen2:0.5b\",null,null]]");
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
}

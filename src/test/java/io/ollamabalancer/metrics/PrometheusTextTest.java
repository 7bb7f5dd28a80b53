package io.ollamabalancer.metrics;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.ollamabalancer.logging.DroppedLines;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static io.ollamabalancer.metrics.PromTextParser.has;
import static io.ollamabalancer.metrics.PromTextParser.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class PrometheusTextTest {
    private static final long T0 = 1_700_000_000_000L;
    private static final String P = "ollama_balancer_";

    private final AtomicLong clock = new AtomicLong(T0);
    private final LatencyRecorders recorders = new LatencyRecorders(clock::get, 200, 360);
    private final FleetFixture fx = new FleetFixture();
    private final List<SpeedSample> speeds = List.of(
            new SpeedSample("b1", "llama3.2:1b", 42.5, 0.5, 812.25, 12),
            new SpeedSample(FleetFixture.ODD, "llama3.2:1b", Double.NaN, 0.5, 100, 1));
    private final PrometheusText prom = new PrometheusText(recorders, fx.fleet, fx.scheduler, () -> speeds);

    @AfterEach
    void close() {
        fx.close();
    }

    private Map<String, PromTextParser.Family> scrape() {
        Rendered r = prom.render();
        assertThat(r.contentType()).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
        return PromTextParser.parse(r.bodyText());
    }

    @Test
    void emptyBalancerIsValidExposition() {
        Map<String, PromTextParser.Family> f = scrape();
        assertThat(f).containsKeys(P + "requests_total", P + "ttft_seconds", P + "queue_wait_seconds",
                P + "overhead_seconds", P + "token_gap_seconds", P + "request_duration_seconds",
                P + "uptime_seconds", P + "jvm_heap_used_bytes", P + "backend_up");
        assertThat(value(f, P + "ttft_seconds_count")).isZero();
        assertThat(value(f, P + "ttft_seconds", "quantile", "0.5")).isNaN();
        assertThat(f.get(P + "requests_total").samples()).isEmpty();
    }

    @Test
    void valuesAfterKnownTraffic() {
        long sumMicros = 0;
        for (int i = 1; i <= 100; i++) {
            recorders.requestCompleted(Traffic.ok(i, "llama3.2:1b", "b1", i));
            sumMicros += i * 1000L;
        }
        recorders.requestCompleted(Traffic.request(101, "generate", "qwen2:0.5b", "b1", 0, 1, 1, -1, 50, 0, 0,
                Outcome.CANCELLED));
        recorders.requestCompleted(Traffic.request(102, "chat", "llama3.2:1b", FleetFixture.ODD, 502, 1, 1, -1, 5,
                0, 0, Outcome.UPSTREAM_FAILED));
        for (int i = 0; i < 9; i++) {
            recorders.tokenGap("llama3.2:1b", "b1", Traffic.ms(30));
        }
        fx.submit("llama3.2:1b", 0);
        fx.submit("llama3.2:1b", 0);
        fx.submit("llama3.2:1b", 0);
        fx.submit("llama3.2:1b", 5);
        fx.b1().outstanding().set(3);
        clock.addAndGet(12_500);

        Map<String, PromTextParser.Family> f = scrape();
        assertThat(value(f, P + "requests_total", "endpoint", "chat", "model", "llama3.2:1b", "backend", "b1",
                "status", "200")).isEqualTo(100);
        assertThat(value(f, P + "requests_total", "endpoint", "generate", "model", "qwen2:0.5b", "backend", "b1",
                "status", "0")).isEqualTo(1);
        assertThat(value(f, P + "prompt_tokens_total", "model", "llama3.2:1b", "backend", "b1")).isEqualTo(500);
        assertThat(value(f, P + "generated_tokens_total", "model", "llama3.2:1b", "backend", "b1")).isEqualTo(700);
        assertThat(value(f, P + "requests_cancelled_total", "endpoint", "generate", "model", "qwen2:0.5b"))
                .isEqualTo(1);
        assertThat(value(f, P + "upstream_failures_total", "backend", FleetFixture.ODD, "model", "llama3.2:1b"))
                .isEqualTo(1);

        // Two of four got b1's two slots; two wait.
        assertThat(value(f, P + "queue_depth", "model", "llama3.2:1b")).isEqualTo(2);
        assertThat(value(f, P + "backend_slots", "backend", "b1")).isEqualTo(2);
        assertThat(value(f, P + "backend_slots_in_use", "backend", "b1")).isEqualTo(2);
        assertThat(value(f, P + "backend_inflight", "backend", "b1")).isEqualTo(3);
        assertThat(value(f, P + "backend_up", "backend", "b1")).isEqualTo(1);
        assertThat(value(f, P + "backend_up", "backend", FleetFixture.ODD)).isZero();
        assertThat(value(f, P + "backend_available", "backend", FleetFixture.ODD)).isZero();
        assertThat(value(f, P + "backend_decode_tokens_per_second", "backend", "b1", "model", "llama3.2:1b"))
                .isEqualTo(42.5);
        assertThat(value(f, P + "backend_prefill_tokens_per_second", "backend", "b1", "model", "llama3.2:1b"))
                .isEqualTo(812.25);
        assertThat(has(f, P + "backend_decode_tokens_per_second", "backend", FleetFixture.ODD, "model",
                "llama3.2:1b")).isFalse();
        assertThat(value(f, P + "backend_prefill_tokens_per_second", "backend", FleetFixture.ODD, "model",
                "llama3.2:1b")).isEqualTo(100);

        assertThat(value(f, P + "ttft_seconds_count")).isEqualTo(100);
        assertThat(value(f, P + "ttft_seconds_sum")).isCloseTo(sumMicros / 1e6, within(1e-9));
        assertThat(value(f, P + "ttft_seconds", "quantile", "0.5")).isCloseTo(0.050, within(0.00005));
        assertThat(value(f, P + "ttft_seconds", "quantile", "0.9")).isCloseTo(0.090, within(0.00009));
        assertThat(value(f, P + "ttft_seconds", "quantile", "0.99")).isCloseTo(0.099, within(0.0001));
        assertThat(value(f, P + "request_duration_seconds_count")).isEqualTo(102);
        assertThat(value(f, P + "model_ttft_seconds_count", "model", "llama3.2:1b")).isEqualTo(100);
        assertThat(value(f, P + "backend_ttft_seconds_count", "backend", "b1")).isEqualTo(100);
        // Per-label series keep two significant digits: 1 % precision.
        assertThat(value(f, P + "backend_token_gap_seconds", "backend", "b1", "quantile", "0.99"))
                .isCloseTo(0.030, within(0.0003));
        assertThat(value(f, P + "token_gap_seconds_sum")).isCloseTo(0.27, within(1e-9));
        assertThat(value(f, P + "uptime_seconds")).isEqualTo(12.5);
        assertThat(value(f, P + "jvm_heap_used_bytes")).isPositive();
        assertThat(value(f, P + "log_lines_dropped_total")).isEqualTo(DroppedLines.PROCESS.total());

        // A second scrape sees the same cumulative figures: reading resets nothing.
        Map<String, PromTextParser.Family> again = scrape();
        assertThat(value(again, P + "ttft_seconds_count")).isEqualTo(100);
        assertThat(value(again, P + "ttft_seconds_sum")).isEqualTo(value(f, P + "ttft_seconds_sum"));
    }

    @Test
    void nettyBufferMemoryIsReportedBesideTheHeap() {
        ByteBuf held = ByteBufAllocator.DEFAULT.directBuffer(1 << 20).writeZero(1 << 20);
        try {
            Map<String, PromTextParser.Family> f = scrape();
            assertThat(value(f, P + "netty_allocator_used_bytes", "kind", "direct"))
                    .as("a live 1 MiB direct buffer is counted").isGreaterThanOrEqualTo(1 << 20);
            assertThat(value(f, P + "netty_allocator_used_bytes", "kind", "heap")).isNotNegative();
            assertThat(value(f, P + "jvm_heap_live_bytes")).isNotNegative();
            if (has(f, P + "netty_direct_memory_used_bytes")) {
                assertThat(value(f, P + "netty_direct_memory_used_bytes")).isGreaterThanOrEqualTo(1 << 20);
                assertThat(value(f, P + "netty_direct_memory_max_bytes"))
                        .isGreaterThanOrEqualTo(value(f, P + "netty_direct_memory_used_bytes"));
            }
        } finally {
            held.release();
        }
    }

    @Test
    void memoryLimitsAndEvictions() {
        Map<String, PromTextParser.Family> f = scrape();
        // b1 knows no limit yet: no sample; the other backend is configured to 3.
        assertThat(f.get(P + "backend_model_limit").samples()).extracting(s -> s.labels().get("backend"))
                .containsExactly(FleetFixture.ODD);
        assertThat(value(f, P + "backend_model_limit", "backend", FleetFixture.ODD)).isEqualTo(3);
        assertThat(value(f, P + "backend_evictions_seen_total", "backend", "b1")).isZero();
        assertThat(f.get(P + "backend_evictions_seen_total").type()).isEqualTo("counter");

        fx.evictOnB1();
        Map<String, PromTextParser.Family> after = scrape();
        assertThat(value(after, P + "backend_model_limit", "backend", "b1")).isEqualTo(1);
        assertThat(value(after, P + "backend_evictions_seen_total", "backend", "b1")).isEqualTo(1);
    }

    @Test
    void labelValuesAreEscaped() {
        recorders.requestCompleted(Traffic.ok(1, "llama3.2:1b", FleetFixture.ODD, 3));
        String text = prom.render().bodyText();
        assertThat(text).contains("backend=\"b2 \\\"east\\\"\\\\2\\nx\"");
        Map<String, PromTextParser.Family> f = PromTextParser.parse(text);
        assertThat(value(f, P + "backend_ttft_seconds_count", "backend", FleetFixture.ODD)).isEqualTo(1);
    }

    @Test
    void theStrictParserRejectsBrokenExpositions() {
        String ok = "# HELP x_total Things.\n# TYPE x_total counter\nx_total{a=\"b\"} 1\n";
        assertThat(PromTextParser.parse(ok)).containsKey("x_total");
        List<String> broken = List.of(
                "x_total 1\n",
                "# HELP x Things.\n# TYPE x counter\nx 1\n",
                "# HELP x_total Things.\n# TYPE x_total counter\nx_total{a=\"b\\t\"} 1\n",
                "# HELP x_total Things.\n# TYPE x_total counter\nx_total{a=\"b\"} one\n",
                "# HELP x_total Things.\n# TYPE x_total counter\nx_total 1\nx_total 2\n",
                "# HELP x_total Things.\n# TYPE x_total counter\nx_total{1a=\"b\"} 1\n",
                "# HELP x_total Things.\n# TYPE x_total counter\nx_total 1",
                "# HELP s Lat.\n# TYPE s summary\ns 1\ns_sum 1\ns_count 1\n",
                "# HELP s Lat.\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_count 1\n",
                "# HELP g G.\n# TYPE g gauge\ng 1\n# HELP h H.\n# TYPE h gauge\nh 1\ng 2\n",
                "# TYPE g gauge\ng 1\n");
        for (String b : broken) {
            assertThatThrownBy(() -> PromTextParser.parse(b)).as(b).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void clusterSeriesOnlyInClusterMode() {
        assertThat(PromTextParser.parse(prom.render().bodyText())).doesNotContainKey(P + "cluster_joined");

        ClusterStatus joined = new ClusterStatus(true, "replica-a", true, 3, Map.of("b1", 4, "b2", 0));
        Map<String, PromTextParser.Family> f = PromTextParser.parse(new PrometheusText(recorders, fx.fleet,
                fx.scheduler, () -> speeds, () -> joined).render().bodyText());
        assertThat(value(f, P + "cluster_joined")).isEqualTo(1);
        assertThat(value(f, P + "cluster_replicas")).isEqualTo(3);
        assertThat(value(f, P + "cluster_granted_slots", "backend", "b1")).isEqualTo(4);
        assertThat(value(f, P + "cluster_granted_slots", "backend", "b2")).isZero();

        assertThat(value(f, P + "cluster_outages_total")).isZero();

        ClusterStatus alone = new ClusterStatus(true, "replica-a", false, 2, Map.of("b1", 2), null, 3, 5);
        f = PromTextParser.parse(new PrometheusText(recorders, fx.fleet, fx.scheduler, () -> speeds, () -> alone)
                .render().bodyText());
        assertThat(value(f, P + "cluster_joined")).isZero();
        assertThat(value(f, P + "cluster_outages_total")).isEqualTo(3);
        assertThat(value(f, P + "cluster_late_replies_total")).isEqualTo(5);
        assertThat(f).as("no API keys: no key-limit series").doesNotContainKey(P + "cluster_key_limits_shared");

        for (boolean shared : new boolean[] {true, false}) {
            ClusterStatus keyed = new ClusterStatus(true, "replica-a", shared, 2, Map.of(),
                    shared ? ClusterStatus.KEYS_SHARED : ClusterStatus.KEYS_PER_REPLICA);
            f = PromTextParser.parse(new PrometheusText(recorders, fx.fleet, fx.scheduler, () -> speeds, () -> keyed)
                    .render().bodyText());
            assertThat(value(f, P + "cluster_key_limits_shared")).isEqualTo(shared ? 1 : 0);
        }
    }
}

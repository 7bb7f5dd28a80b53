package io.ollamabalancer.metrics;

import io.ollamabalancer.schedule.PendingRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class StatusDocumentTest {
    private final FleetFixture fx = new FleetFixture();
    private final List<SpeedSample> speeds = List.of(
            new SpeedSample("b1", "llama3.2:1b", 42.5, 0.5, 812.25, 12),
            new SpeedSample("b1", "qwen2:0.5b", Double.NaN, 0.5, 0, 0),
            new SpeedSample("elsewhere", "llama3.2:1b", 1, 0.5, 1, 1));
    private final StatusDocument status = new StatusDocument(fx.fleet, fx.scheduler, () -> speeds,
            fx.nanos::get, () -> 4242L);

    @AfterEach
    void close() {
        fx.close();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        return (List<Object>) o;
    }

    @Test
    void describesBackendsAndQueues() throws Exception {
        fx.submit("llama3.2:1b", 0);
        fx.submit("llama3.2:1b", 0); // both slots of b1 taken
        fx.submit("llama3.2:1b", 0); // waits from t=1s
        fx.nanos.addAndGet(250_000_000L);
        fx.submit("llama3.2:1b", 5);
        PendingRequest cancelled = fx.submit("llama3.2:1b", 5);
        fx.scheduler.cancel(cancelled);
        fx.submit("qwen2:0.5b", 1);
        fx.nanos.addAndGet(1_500_000_000L);
        fx.b1().outstanding().set(2);

        Rendered r = status.render();
        assertThat(r.contentType()).isEqualTo(Rendered.JSON);
        Map<String, Object> doc = JsonTree.object(r.body());
        assertThat(doc.get("uptimeMs")).isEqualTo(4242L);
        assertThat(doc.get("policy")).isEqualTo("least-connections");
        // Memory restricts nothing here, so no placement trial has run.
        assertThat(map(doc.get("placement"))).containsEntry("restricted", false).containsEntry("trial", null);

        List<Object> backends = list(doc.get("backends"));
        assertThat(backends).hasSize(2);
        Map<String, Object> b1 = map(backends.get(0));
        assertThat(b1.get("name")).isEqualTo("b1");
        assertThat(b1.get("url")).isEqualTo("http://127.0.0.1:11434");
        assertThat(b1.get("health")).isEqualTo("up");
        assertThat(b1.get("available")).isEqualTo(true);
        assertThat(b1.get("draining")).isEqualTo(false);
        assertThat(b1.get("enabled")).isEqualTo(true);
        assertThat(map(b1.get("models")).get("installed")).isEqualTo(List.of("llama3.2:1b", "qwen2:0.5b"));
        assertThat(map(b1.get("models")).get("loaded")).isEqualTo(List.of("llama3.2:1b"));
        assertThat(map(b1.get("slots"))).containsEntry("used", 2L).containsEntry("max", 2L);
        assertThat(b1.get("outstanding")).isEqualTo(2L);
        assertThat(b1.get("version")).isEqualTo("0.12.6");
        assertThat(b1).containsEntry("lastError", null);
        List<Object> b1Speeds = list(b1.get("speeds"));
        assertThat(b1Speeds).hasSize(2);
        assertThat(map(b1Speeds.get(0))).containsEntry("model", "llama3.2:1b")
                .containsEntry("decodeTokensPerSecond", 42.5).containsEntry("slowdown", 0.5)
                .containsEntry("prefillTokensPerSecond", 812.25)
                .containsEntry("samples", 12L);
        assertThat(map(b1Speeds.get(1))).containsEntry("decodeTokensPerSecond", null)
                .containsEntry("prefillTokensPerSecond", null);

        Map<String, Object> odd = map(backends.get(1));
        assertThat(odd.get("name")).isEqualTo(FleetFixture.ODD);
        assertThat(odd.get("health")).isEqualTo("down");
        assertThat(odd.get("available")).isEqualTo(false);
        assertThat(odd.get("lastError")).isEqualTo("connection refused");
        assertThat(list(odd.get("speeds"))).isEmpty();

        List<Object> queues = list(doc.get("queues"));
        Map<String, Object> llama = map(queues.get(0));
        assertThat(llama.get("model")).isEqualTo("llama3.2:1b");
        assertThat(llama.get("waiting")).isEqualTo(2L);
        assertThat(llama.get("oldestWaitMs")).isEqualTo(1750L);
        assertThat(map(llama.get("byPriority"))).isEqualTo(Map.of("5", 1L, "0", 1L));
        assertThat(List.copyOf(map(llama.get("byPriority")).keySet())).containsExactly("5", "0");
        // b1's slots are all taken, so the qwen request waits too.
        Map<String, Object> qwen = map(queues.get(1));
        assertThat(qwen.get("model")).isEqualTo("qwen2:0.5b");
        assertThat(qwen.get("depth")).isEqualTo(1L);
        assertThat(qwen.get("oldestWaitMs")).isEqualTo(1500L);
    }

    @Test
    void showsMemoryLimitsConfiguredAndLearned() throws Exception {
        Map<String, Object> before = map(map(list(JsonTree.object(status.render().body()).get("backends")).get(0))
                .get("memory"));
        assertThat(before).containsEntry("maxLoadedModels", null).containsEntry("vramBytes", null)
                .containsEntry("learnedMaxLoadedModels", null).containsEntry("learnedVramBytes", null)
                .containsEntry("evictionsSeen", 0L).containsEntry("maxCoResident", 0L);
        assertThat(list(before.get("resident"))).isEmpty();

        fx.evictOnB1();
        List<Object> backends = list(JsonTree.object(status.render().body()).get("backends"));
        Map<String, Object> b1 = map(map(backends.get(0)).get("memory"));
        assertThat(b1).containsEntry("maxLoadedModels", null).containsEntry("vramBytes", null)
                .containsEntry("learnedMaxLoadedModels", 1L).containsEntry("learnedVramBytes", null)
                .containsEntry("evictionsSeen", 1L).containsEntry("maxCoResident", 1L)
                .containsEntry("maxCoResidentBytes", 1_073_741_824L);
        assertThat(list(b1.get("resident"))).containsExactly(Map.of("model", "qwen2:0.5b", "bytes", 536_870_912L));

        Map<String, Object> odd = map(map(backends.get(1)).get("memory"));
        assertThat(odd).containsEntry("maxLoadedModels", 3L).containsEntry("vramBytes", 8_589_934_592L)
                .containsEntry("learnedMaxLoadedModels", null).containsEntry("evictionsSeen", 0L);
    }

    @Test
    void emptyQueueReportsZeroWait() throws Exception {
        Map<String, Object> doc = JsonTree.object(status.render().body());
        assertThat(list(doc.get("queues"))).isEmpty();
        fx.submit("llama3.2:1b", 0); // dispatched at once: the queue exists but is empty
        Map<String, Object> q = map(list(JsonTree.object(status.render().body()).get("queues")).get(0));
        assertThat(q).containsEntry("depth", 0L).containsEntry("waiting", 0L).containsEntry("oldestWaitMs", 0L);
    }

    @Test
    void showsClusterState() throws Exception {
        assertThat(map(JsonTree.object(status.render().body()).get("cluster"))).containsExactly(
                Map.entry("enabled", false));

        ClusterStatus alone = new ClusterStatus(true, "replica-b", false, 2, Map.of("b2", 1, "b1", 2), null, 1, 4);
        Map<String, Object> c = map(JsonTree.object(new StatusDocument(fx.fleet, fx.scheduler, () -> speeds,
                fx.nanos::get, () -> 1L, () -> alone).render().body()).get("cluster"));
        assertThat(c.get("enabled")).isEqualTo(true);
        assertThat(c.get("replicaId")).isEqualTo("replica-b");
        assertThat(c.get("state")).isEqualTo("alone");
        assertThat(c.get("liveReplicas")).isEqualTo(2L);
        assertThat(c.get("outages")).isEqualTo(1L);
        assertThat(c.get("lateReplies")).isEqualTo(4L);
        assertThat(map(c.get("grantedSlots"))).containsExactly(Map.entry("b1", 2L), Map.entry("b2", 1L));
        assertThat(c).as("no API keys: no key limits").doesNotContainKey("keyLimits");

        ClusterStatus keyed = new ClusterStatus(true, "replica-b", false, 2, Map.of(), ClusterStatus.KEYS_PER_REPLICA);
        Map<String, Object> k = map(JsonTree.object(new StatusDocument(fx.fleet, fx.scheduler, () -> speeds,
                fx.nanos::get, () -> 1L, () -> keyed).render().body()).get("cluster"));
        assertThat(k.get("keyLimits")).isEqualTo("per-replica");
    }
}

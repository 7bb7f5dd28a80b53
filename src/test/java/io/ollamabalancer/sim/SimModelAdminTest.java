package io.ollamabalancer.sim;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.ollamabalancer.sim.SimHttp.num;
import static io.ollamabalancer.sim.SimHttp.obj;
import static org.assertj.core.api.Assertions.assertThat;

/** Pull of a model the simulator does not have (from its registry), the pull fault knobs, delete and copy. */
class SimModelAdminTest {
    private OllamaSimulator sim;

    @BeforeEach
    void start() {
        sim = OllamaSimulator.start(SimulatorConfig.builder().name("admin")
                .model(SimModel.completion("llama3.2:1b", 1_321_098_329L, "llama", "1.2B", "Q8_0", false))
                .build());
    }

    @AfterEach
    void stop() {
        sim.close();
    }

    @Test
    void pullOfARegistryModelStreamsLayersAndInstallsIt() throws Exception {
        assertThat(sim.hasModel("qwen2.5:0.5b")).isFalse();
        List<String> lines = SimHttp.lines(SimHttp.post(sim, "/api/pull", "{\"model\":\"qwen2.5:0.5b\"}").body());
        assertThat(obj(lines.get(0))).containsEntry("status", "pulling manifest");
        Map<String, Long> lastCompleted = new HashMap<>();
        Map<String, Long> totals = new HashMap<>();
        for (String line : lines) {
            Map<String, Object> o = obj(line);
            if (o.containsKey("digest")) {
                String d = (String) o.get("digest");
                long completed = o.containsKey("completed") ? num(o.get("completed")) : 0;
                assertThat(completed).isGreaterThanOrEqualTo(lastCompleted.getOrDefault(d, 0L));
                lastCompleted.put(d, completed);
                totals.put(d, num(o.get("total")));
                assertThat((String) o.get("status")).isEqualTo("pulling " + d.substring(7, 19));
            }
        }
        assertThat(totals).hasSize(4);
        assertThat(lastCompleted).isEqualTo(totals);
        assertThat(totals.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(397_821_319L);
        assertThat(lines.subList(lines.size() - 3, lines.size())).containsExactly(
                "{\"status\":\"verifying sha256 digest\"}", "{\"status\":\"writing manifest\"}",
                "{\"status\":\"success\"}");
        assertThat(sim.hasModel("qwen2.5:0.5b")).isTrue();
        assertThat(SimHttp.get(sim, "/api/tags").body()).contains("\"name\":\"qwen2.5:0.5b\"");
    }

    @Test
    void aPullFailingMidWayEndsWithAnErrorAndInstallsNothing() throws Exception {
        sim.faults().failPullAfterSteps(3);
        List<String> lines = SimHttp.lines(SimHttp.post(sim, "/api/pull", "{\"model\":\"all-minilm\"}").body());
        assertThat(lines).hasSize(5);
        assertThat(lines.get(4)).isEqualTo("{\"error\":\"max retries exceeded: unexpected EOF\"}");
        HttpResponse<String> quiet = SimHttp.post(sim, "/api/pull", "{\"model\":\"all-minilm\",\"stream\":false}");
        assertThat(quiet.statusCode()).isEqualTo(500);
        assertThat(quiet.body()).isEqualTo("{\"error\":\"max retries exceeded: unexpected EOF\"}");
        assertThat(sim.hasModel("all-minilm")).isFalse();
        assertThat(SimHttp.get(sim, "/sim/faults").body()).contains("\"failPullAfterSteps\":3");
    }

    @Test
    void aPullWithoutStreamingTakesTheSameStepsThenAnswersOnce() throws Exception {
        sim.faults().pullStepMillis(20);
        long start = System.nanoTime();
        HttpResponse<String> r = SimHttp.post(sim, "/api/pull", "{\"name\":\"all-minilm\",\"stream\":false}");
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertThat(r.body()).isEqualTo("{\"status\":\"success\"}");
        assertThat(millis).as("15 steps of 20 ms").isGreaterThanOrEqualTo(15 * 20);
        assertThat(sim.hasModel("all-minilm")).isTrue();
    }

    @Test
    void deleteRemovesAModelAndAnswers404ForAnUnknownOne() throws Exception {
        HttpResponse<String> ok = delete("{\"model\":\"llama3.2:1b\"}");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).isEmpty();
        assertThat(sim.hasModel("llama3.2:1b")).isFalse();
        HttpResponse<String> again = delete("{\"name\":\"llama3.2:1b\"}");
        assertThat(again.statusCode()).isEqualTo(404);
        assertThat(again.body()).isEqualTo("{\"error\":\"model 'llama3.2:1b' not found\"}");
        assertThat(delete("{}").statusCode()).isEqualTo(400);
    }

    @Test
    void copyInstallsTheSourceUnderTheNewName() throws Exception {
        HttpResponse<String> ok = SimHttp.post(sim, "/api/copy",
                "{\"source\":\"llama3.2:1b\",\"destination\":\"mine:1b\"}");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).isEmpty();
        assertThat(sim.hasModel("mine:1b")).isTrue();
        assertThat(sim.hasModel("llama3.2:1b")).isTrue();
        HttpResponse<String> missing = SimHttp.post(sim, "/api/copy", "{\"source\":\"nope\",\"destination\":\"x\"}");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).isEqualTo("{\"error\":\"model \\\"nope\\\" not found\"}");
    }

    private HttpResponse<String> delete(String body) throws Exception {
        return SimHttp.CLIENT.send(HttpRequest.newBuilder(URI.create(sim.baseUrl() + "/api/delete"))
                .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
                .method("DELETE", HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}

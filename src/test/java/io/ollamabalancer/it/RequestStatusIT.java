package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code GET /balancer/requests/{id}} over real sockets: one simulated backend with one slot and four slow streams,
 * the last one watched from its queue position down to its backend, then done, then gone.
 */
class RequestStatusIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "adm1n";
    private static final SimModel LLAMA = SimModel.completion("llama3.2:1b", 1_321_098_329L, "llama", "1.2B",
            "Q8_0", true);
    /** 20 tokens at 25 tokens/s: 0.8 s of streaming each. */
    private static final String SLOW =
            "{\"model\":\"llama3.2:1b\",\"prompt\":\"tell me a story\",\"options\":{\"num_predict\":20}}";

    private TestFleet fleet;

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    private TestFleet oneSlowSlot(String token) throws InterruptedException {
        return new TestFleet()
                .sim("solo", b -> b.models(List.of(LLAMA)).decodeTokensPerSecond(25).meanOutputTokens(20)
                        .maxOutputTokens(20).slots(1))
                .start(c -> c.adminToken(token).requestStatusRetention(Duration.ofSeconds(1)));
    }

    private HttpResponse<String> status(String id, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fleet.url() + "/balancer/requests/" + id))
                .timeout(Duration.ofSeconds(10)).GET();
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return Http.send(b.build());
    }

    private JsonNode statusJson(String id) throws Exception {
        HttpResponse<String> r = status(id, TOKEN);
        return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
    }

    @Test
    void aQueuedRequestMovesUpItsQueueThenShowsItsBackendThenExpires() throws Exception {
        fleet = oneSlowSlot(TOKEN);
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            sent.add(Http.postAsync(fleet.url() + "/api/generate", SLOW, "X-Request-Id", "job-" + i,
                    Duration.ofSeconds(30)));
            String id = "job-" + i;
            // One at a time into the queue, so that their order is the order sent.
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10))
                    .until(() -> statusJson(id) != null);
        }

        JsonNode first = statusJson("job-3");
        assertThat(first.get("state").asText()).isEqualTo("queued");
        assertThat(first.get("clientRequestId").asText()).isEqualTo("job-3");
        assertThat(first.get("queue").asText()).isEqualTo("llama3.2:1b");
        assertThat(first.get("priority").asInt()).isZero();
        assertThat(first.get("position").asInt()).isEqualTo(3);
        assertThat(first.get("ahead").asInt()).isEqualTo(2);
        assertThat(first.get("queueDepth").asInt()).isEqualTo(3);
        assertThat(first.get("estimatedStartMs").asLong()).isPositive()
                .isLessThan(first.get("estimatedFinishMs").asLong());
        JsonNode data = JSON.readTree(Http.get(fleet.url() + "/balancer/ui/data").body());
        assertThat(data.get("queues").get(0).get("next").size()).as("the dashboard lists the waiting ids").isEqualTo(3);
        String balancerId = data.get("queues").get(0).get("next").get(2).asText();
        assertThat(statusJson(balancerId).get("clientRequestId").asText()).as("found by the balancer's id too")
                .isEqualTo("job-3");

        List<Integer> positions = new ArrayList<>();
        List<String> states = new ArrayList<>();
        JsonNode dispatched = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode s = statusJson("job-3");
            String state = s.get("state").asText();
            if (states.isEmpty() || !states.get(states.size() - 1).equals(state)) {
                states.add(state);
            }
            if (state.equals("queued")) {
                int p = s.get("position").asInt();
                assertThat(s.get("ahead").asInt()).isEqualTo(p - 1);
                if (positions.isEmpty() || positions.get(positions.size() - 1) != p) {
                    positions.add(p);
                }
            } else if (!state.equals("done")) {
                dispatched = s;
            } else {
                break;
            }
            Thread.sleep(40);
        }
        assertThat(positions).as("positions seen while it waited").containsExactly(3, 2, 1);
        assertThat(states).first().isEqualTo("queued");
        assertThat(states).last().isEqualTo("done");
        assertThat(states).as("it streamed on its backend before it ended").contains("streaming");
        assertThat(dispatched.get("backend").asText()).isEqualTo("solo");
        assertThat(dispatched.get("queuedMs").asLong()).isGreaterThan(1000);

        JsonNode done = statusJson("job-3");
        assertThat(done.get("status").asInt()).isEqualTo(200);
        assertThat(done.get("outcome").asText()).isEqualTo("ok");
        assertThat(done.get("backend").asText()).isEqualTo("solo");
        HttpResponse<String> answer = sent.get(3).get();
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.headers().firstValue("X-Request-Id")).hasValue(balancerId);

        await("the ended request expires").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(() -> status("job-3", TOKEN).statusCode() == 404);
        HttpResponse<String> gone = status(balancerId, TOKEN);
        assertThat(gone.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(gone.body()).get("error").asText())
                .isEqualTo("request '" + balancerId + "' not found");
        for (CompletableFuture<HttpResponse<String>> r : sent) {
            assertThat(r.get().statusCode()).isEqualTo(200);
        }
    }

    @Test
    void unknownIdsAre404AndTheAdminTokenIsRequiredWhenSet() throws Exception {
        fleet = oneSlowSlot(TOKEN);
        HttpResponse<String> unknown = status("no-such-request", TOKEN);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).get("error").asText())
                .isEqualTo("request 'no-such-request' not found");
        assertThat(status("12345", TOKEN).statusCode()).isEqualTo(404);

        HttpResponse<String> anonymous = status("no-such-request", null);
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(JSON.readTree(anonymous.body()).get("error").asText())
                .isEqualTo("a valid admin bearer token is required");
        assertThat(status("no-such-request", "wrong").statusCode()).isEqualTo(401);
        HttpResponse<String> post = Http.post(fleet.url() + "/balancer/requests/x", "{}");
        assertThat(post.statusCode()).isEqualTo(405);
    }

    @Test
    void withoutAnAdminTokenTheRouteIsOpen() throws Exception {
        fleet = oneSlowSlot(null);
        HttpResponse<String> r = Http.post(fleet.url() + "/api/generate", SLOW, "X-Request-Id", "open-1");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode done = statusJson("open-1");
        assertThat(done.get("state").asText()).isEqualTo("done");
        assertThat(done.get("id").asText()).isEqualTo(r.headers().firstValue("X-Request-Id").orElseThrow());
    }
}

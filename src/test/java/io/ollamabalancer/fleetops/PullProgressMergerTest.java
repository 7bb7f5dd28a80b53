package io.ollamabalancer.fleetops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The merge of several backends' pull progress into one stream, without sockets. */
class PullProgressMergerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String W = "sha256:" + "a".repeat(64);
    private static final String T = "sha256:" + "b".repeat(64);

    private final PullProgressMerger merger = new PullProgressMerger(List.of("a", "b", "c"));
    private final List<JsonNode> out = new ArrayList<>();

    private void feed(String target, String json) {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        merger.line(target, ProgressLine.parse(b, 0, b.length));
    }

    private static String layer(String digest, long total, long completed) {
        return "{\"status\":\"pulling " + digest.substring(7, 19) + "\",\"digest\":\"" + digest + "\",\"total\":"
                + total + (completed == 0 ? "" : ",\"completed\":" + completed) + "}";
    }

    private void drain() throws Exception {
        byte[] line;
        while ((line = merger.poll()) != null) {
            assertThat(line[line.length - 1]).isEqualTo((byte) '\n');
            out.add(JSON.readTree(line));
        }
    }

    private List<String> statuses() {
        List<String> s = new ArrayList<>();
        for (JsonNode n : out) {
            if (!n.has("digest")) {
                s.add(n.get("status").asText());
            }
        }
        return s;
    }

    /** As a client library sees the stream: per digest, completed never goes back and total never changes down. */
    private void assertMonotonic() {
        Map<String, long[]> last = new HashMap<>();
        for (JsonNode n : out) {
            if (n.has("digest")) {
                long[] prev = last.computeIfAbsent(n.get("digest").asText(), d -> new long[2]);
                long total = n.path("total").asLong();
                long completed = n.path("completed").asLong();
                assertThat(total).as("total of %s", n).isGreaterThanOrEqualTo(prev[0]);
                assertThat(completed).as("completed of %s", n).isGreaterThanOrEqualTo(prev[1]).isLessThanOrEqualTo(total);
                prev[0] = total;
                prev[1] = completed;
            }
        }
    }

    private JsonNode lastOf(String digest) {
        JsonNode found = null;
        for (JsonNode n : out) {
            if (digest.equals(n.path("digest").asText())) {
                found = n;
            }
        }
        return found;
    }

    @Test
    void threeBackendsMergeIntoTheFleetsProgressEndingInSuccess() throws Exception {
        for (String t : List.of("a", "b", "c")) {
            feed(t, "{\"status\":\"pulling manifest\"}");
        }
        feed("a", layer(W, 1000, 0));
        drain();
        assertThat(lastOf(W).get("total").asLong()).as("b and c count with a's size before they report")
                .isEqualTo(3000);
        for (int step = 1; step <= 4; step++) {
            for (String t : List.of("c", "a", "b")) {
                feed(t, layer(W, 1000, step * 250));
                drain();
            }
        }
        for (String t : List.of("a", "b", "c")) {
            feed(t, layer(T, 10, 10));
        }
        feed("a", "{\"status\":\"verifying sha256 digest\"}");
        feed("b", "{\"status\":\"verifying sha256 digest\"}");
        drain();
        assertThat(statuses()).as("verifying waits for c, still running").containsExactly("pulling manifest");
        feed("c", "{\"status\":\"verifying sha256 digest\"}");
        for (String t : List.of("a", "b", "c")) {
            feed(t, "{\"status\":\"writing manifest\"}");
            feed(t, "{\"status\":\"success\"}");
        }
        drain();
        assertThat(statuses()).containsExactly("pulling manifest", "verifying sha256 digest", "writing manifest");
        assertThat(out.get(0).get("status").asText()).isEqualTo("pulling manifest");
        assertMonotonic();
        assertThat(lastOf(W).get("completed").asLong()).isEqualTo(3000);
        assertThat(lastOf(T).get("total").asLong()).isEqualTo(30);
        assertThat(lastOf(W).get("status").asText()).isEqualTo("pulling " + W.substring(7, 19));
        assertThat(merger.allEnded()).isTrue();
        assertThat(new String(merger.finalLine(), StandardCharsets.UTF_8)).isEqualTo("{\"status\":\"success\"}\n");
    }

    @Test
    void aBackendFailingMidWayIsNamedInTheLastLineWhileTheOthersFinish() throws Exception {
        for (String t : List.of("a", "b", "c")) {
            feed(t, layer(W, 1000, 500));
        }
        feed("b", "{\"error\":\"max retries exceeded: unexpected EOF\"}");
        for (String t : List.of("a", "c")) {
            feed(t, layer(W, 1000, 1000));
            feed(t, "{\"status\":\"writing manifest\"}");
        }
        assertThat(merger.allEnded()).isFalse();
        feed("a", "{\"status\":\"success\"}");
        merger.ended("c"); // c's connection ends without success
        drain();
        assertMonotonic();
        assertThat(statuses()).as("every backend still running reached it").containsExactly("writing manifest");
        assertThat(lastOf(W).get("completed").asLong()).as("a's and c's bytes; b's half stays").isEqualTo(2500);
        assertThat(merger.allEnded()).isTrue();
        assertThat(merger.allSucceeded()).isFalse();
        assertThat(JSON.readTree(merger.finalLine()).get("error").asText()).isEqualTo(
                "backend 'b': max retries exceeded: unexpected EOF; backend 'c': the stream ended before success");
    }

    @Test
    void aSlowClientGetsOneCoalescedLinePerDigestWithTheLatestNumbers() throws Exception {
        feed("a", "{\"status\":\"pulling manifest\"}");
        for (int i = 1; i <= 100; i++) {
            for (String t : List.of("a", "b", "c")) {
                feed(t, layer(W, 10_000, i * 100));
                feed(t, layer(T, 100, Math.min(100, i)));
            }
        }
        drain();
        assertThat(out).hasSize(3);
        assertThat(out.get(1).get("completed").asLong()).isEqualTo(30_000);
        assertThat(out.get(2).get("completed").asLong()).isEqualTo(300);
    }

    @Test
    void neitherABackendGoingBackNorOneFailingBeforeItReportedMakesTheBarShrink() throws Exception {
        feed("a", layer(W, 1000, 800));
        feed("b", layer(W, 1000, 600));
        drain();
        long before = lastOf(W).get("completed").asLong();
        feed("a", layer(W, 1000, 100)); // a restarted a part
        merger.failed("c", "connection refused"); // c never reported W: its estimated share leaves the total
        drain();
        assertMonotonic();
        assertThat(lastOf(W).get("completed").asLong()).isGreaterThanOrEqualTo(before);
        assertThat(lastOf(W).get("total").asLong()).as("the total a bar was drawn with stays").isEqualTo(3000);
    }

    @Test
    void statusesBeforeAnyLayerGoOutAtTheFirstBackendThatReachesThemOnce() throws Exception {
        feed("b", "{\"status\":\"pulling manifest\"}");
        drain();
        assertThat(statuses()).containsExactly("pulling manifest");
        feed("a", "{\"status\":\"pulling manifest\"}");
        feed("c", "{\"status\":\"pulling manifest\"}");
        drain();
        assertThat(ProgressLine.parse("not json".getBytes(StandardCharsets.UTF_8), 0, 8)).isNull();
        assertThat(statuses()).containsExactly("pulling manifest");
    }
}

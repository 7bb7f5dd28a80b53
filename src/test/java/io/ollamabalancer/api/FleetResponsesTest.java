package io.ollamabalancer.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FleetResponsesTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static List<byte[]> bodies(String... json) {
        return Arrays.stream(json).map(FleetResponsesTest::b).toList();
    }

    /** The values of every "field":"value" pair in order of appearance (test helper, flat strings only). */
    private static List<String> values(String json, String field) {
        Matcher m = Pattern.compile("\"" + field + "\":\"([^\"]*)\"").matcher(json);
        return m.results().map(r -> r.group(1)).toList();
    }

    private static String tag(String name, String modifiedAt) {
        return "{\"name\":\"" + name + "\",\"model\":\"" + name + "\",\"modified_at\":\"" + modifiedAt
                + "\",\"size\":2019393189,\"digest\":\"a80c4f17\",\"details\":{\"format\":\"gguf\",\"families\":"
                + "[\"llama\"],\"parameter_size\":\"3.2B\"}}";
    }

    @Nested
    class Tags {
        @Test
        void unionByNameCaseInsensitiveNewestWinsNewestFirst() {
            String a = "{\"models\":[" + tag("llama3.2:latest", "2025-05-04T17:37:44.706015396-07:00") + ","
                    + tag("qwen2.5:0.5b", "2025-01-01T00:00:00Z") + "]}";
            String bNewer = "{\"models\":[" + tag("LLama3.2:latest", "2025-05-05T01:00:00Z") + ","
                    + tag("gemma3:1b", "2025-03-01T10:00:00+02:00") + "]}";
            String merged = s(FleetResponses.mergeTags(bodies(a, bNewer)));
            assertThat(merged).startsWith("{\"models\":[").endsWith("]}");
            assertThat(values(merged, "name")).containsExactly("LLama3.2:latest", "gemma3:1b", "qwen2.5:0.5b");
        }

        @Test
        void tieKeepsTheEarlierBackend() {
            String t = "2025-05-04T17:37:44-07:00";
            String merged = s(FleetResponses.mergeTags(bodies(
                    "{\"models\":[" + tag("m:latest", t).replace("a80c4f17", "first") + "]}",
                    "{\"models\":[" + tag("M:latest", t).replace("a80c4f17", "second") + "]}")));
            assertThat(values(merged, "digest")).containsExactly("first");
        }

        @Test
        void offsetsAreComparedAsInstants() {
            // 17:37:44-07:00 is 00:37:44Z the next day, one second before 00:37:45Z
            String merged = s(FleetResponses.mergeTags(bodies(
                    "{\"models\":[" + tag("a", "2025-05-04T17:37:44-07:00") + "]}",
                    "{\"models\":[" + tag("b", "2025-05-05T00:37:45Z") + "]}")));
            assertThat(values(merged, "name")).containsExactly("b", "a");
        }

        @Test
        void modelObjectsPassThroughByteForByte() {
            String odd = "{ \"name\" : \"x\\u003cy\\u003e:latest\", \"model\":\"x<y>:latest\",\"size\":2.0E9,"
                    + "\"modified_at\":\"2025-05-04T17:37:44.706015396-07:00\",\"note\":\"\u00e9\\u00e9 \uD83D\uDE00\","
                    + "\"details\":{\"families\":null}, \"extra\":[1,{\"a\":true}] }";
            String merged = s(FleetResponses.mergeTags(bodies("{\"models\":[" + odd + "]}")));
            assertThat(merged).isEqualTo("{\"models\":[" + odd + "]}");
        }

        @Test
        void emptyAndSkippedBodies() {
            assertThat(s(FleetResponses.mergeTags(List.of()))).isEqualTo("{\"models\":[]}");
            assertThat(s(FleetResponses.mergeTags(bodies("{\"models\":[]}", "{\"models\":null}", "{}"))))
                    .isEqualTo("{\"models\":[]}");
            String good = "{\"models\":[" + tag("m", "2025-01-01T00:00:00Z") + "]}";
            String merged = s(FleetResponses.mergeTags(bodies("not json", good, "{\"models\":[" + tag("broken",
                    "2026-01-01T00:00:00Z"), "[]", "{\"models\":{}}", "{\"models\":[]} trailing", "")));
            assertThat(merged).isEqualTo(good);
        }

        @Test
        void nonObjectElementsAreDropped() {
            String m = tag("m", "2025-01-01T00:00:00Z");
            assertThat(s(FleetResponses.mergeTags(bodies("{\"models\":[null,1,\"x\"," + m + ",[]]}"))))
                    .isEqualTo("{\"models\":[" + m + "]}");
        }

        @Test
        void nameFallsBackToModelForTheUnionKey() {
            String noName = "{\"model\":\"m:latest\",\"modified_at\":\"2025-01-01T00:00:00Z\"}";
            String merged = s(FleetResponses.mergeTags(bodies("{\"models\":[" + noName + "]}",
                    "{\"models\":[" + tag("M:latest", "2024-01-01T00:00:00Z") + "]}")));
            assertThat(merged).isEqualTo("{\"models\":[" + noName + "]}");
        }
    }

    @Nested
    class Ps {
        private String loaded(String name, String expiresAt) {
            return "{\"name\":\"" + name + "\",\"model\":\"" + name + "\",\"size\":3390000000,\"digest\":\"a8\","
                    + "\"details\":{},\"expires_at\":\"" + expiresAt + "\",\"size_vram\":3390000000,"
                    + "\"context_length\":4096}";
        }

        @Test
        void keepsEveryCopySortedByExpiryLatestFirst() {
            String a = "{\"models\":[" + loaded("llama3.2:latest", "2025-06-01T12:06:02.118031-07:00") + ","
                    + loaded("qwen:0.5b", "2025-06-01T12:01:00-07:00") + "]}";
            String b = "{\"models\":[" + loaded("llama3.2:latest", "2025-06-01T19:10:00Z") + ","
                    + loaded("forever:latest", "2318-08-07T03:55:24.218031-07:00") + ","
                    + "{\"name\":\"loading:latest\",\"size_vram\":0}]}";
            String merged = s(FleetResponses.mergePs(bodies(a, b)));
            assertThat(values(merged, "expires_at")).containsExactly("2318-08-07T03:55:24.218031-07:00",
                    "2025-06-01T19:10:00Z", "2025-06-01T12:06:02.118031-07:00", "2025-06-01T12:01:00-07:00");
            assertThat(values(merged, "name")).containsExactly("forever:latest", "llama3.2:latest",
                    "llama3.2:latest", "qwen:0.5b", "loading:latest");
        }

        @Test
        void emptyFleetAndBrokenBackend() {
            assertThat(s(FleetResponses.mergePs(List.of()))).isEqualTo("{\"models\":[]}");
            String one = "{\"models\":[" + loaded("m", "2025-06-01T12:00:00Z") + "]}";
            assertThat(s(FleetResponses.mergePs(bodies("{\"models\":[", one, "{\"models\":[]}")))).isEqualTo(one);
        }
    }

    @Nested
    class V1Models {
        private String model(String id, long created) {
            return "{\"id\":\"" + id + "\",\"object\":\"model\",\"created\":" + created + ",\"owned_by\":\"library\"}";
        }

        @Test
        void unionByIdNewestFirst() {
            String merged = s(FleetResponses.mergeV1Models(bodies(
                    "{\"object\":\"list\",\"data\":[" + model("llama3.2:latest", 1_746_000_000L) + ","
                            + model("qwen:0.5b", 1_700_000_000L) + "]}",
                    "{\"object\":\"list\",\"data\":[" + model("Llama3.2:latest", 1_746_500_000L) + ","
                            + model("gemma3:1b", 1_720_000_000L) + "]}",
                    "{\"object\":\"list\",\"data\":null}")));
            assertThat(merged).startsWith("{\"object\":\"list\",\"data\":[");
            assertThat(values(merged, "id")).containsExactly("Llama3.2:latest", "gemma3:1b", "qwen:0.5b");
        }

        @Test
        void emptyIsDataNull() {
            byte[] empty = FleetResponses.mergeV1Models(bodies("{\"object\":\"list\",\"data\":null}", "garbage"));
            assertThat(s(empty)).isEqualTo("{\"object\":\"list\",\"data\":null}");
            assertThat(s(FleetResponses.mergeV1Models(List.of()))).isEqualTo("{\"object\":\"list\",\"data\":null}");
            empty[0] = 'X'; // callers own the array: a shared constant must not leak out
            assertThat(s(FleetResponses.mergeV1Models(List.of()))).startsWith("{");
        }
    }

    @Nested
    class Version {
        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
            "0.12.0,0.33.0-rc2,0.9.6|0.9.6",
            "0.33.0,0.33.0-rc2|0.33.0-rc2",
            "0.5.0-rc.10,0.5.0-rc.2|0.5.0-rc.2",
            "0.5.0-rc.1,0.5.0-rc.1.1|0.5.0-rc.1",
            "0.5.0-beta,0.5.0-alpha|0.5.0-alpha",
            "0.5.0-1,0.5.0-alpha|0.5.0-1",
            "0.10.0,0.9.10|0.9.10",
            "1.0.0,0.99.99|0.99.99",
            "v0.3.0,0.4.0|v0.3.0",
            "0.12.0+build.5,0.12.1|0.12.0+build.5",
            "dev,0.11.4,,0.x|0.11.4",
        })
        void lowestSemanticVersionAsSpelled(String versions, String lowest) {
            List<byte[]> bodies = Arrays.stream(versions.split(",", -1))
                    .map(v -> b("{\"version\":\"" + v + "\"}")).toList();
            assertThat(s(FleetResponses.lowestVersion(bodies))).isEqualTo("{\"version\":\"" + lowest + "\"}");
        }

        @Test
        void garbageBodiesAreIgnoredAndNoneFallsBack() {
            assertThat(s(FleetResponses.lowestVersion(bodies("oops", "{\"version\":1}", "{}", "{\"version\":\"0.12.0\"}"))))
                    .isEqualTo("{\"version\":\"0.12.0\"}");
            assertThat(s(FleetResponses.lowestVersion(List.of()))).isEqualTo("{\"version\":\"0.0.0\"}");
            assertThat(s(FleetResponses.lowestVersion(bodies("", "{\"version\":\"latest\"}"))))
                    .isEqualTo("{\"version\":\"" + FleetResponses.UNKNOWN_VERSION + "\"}");
        }

        @Test
        void parseVersion() {
            assertThat(FleetResponses.parseVersion(b("{\"version\":\"0.12.0\"}"))).isEqualTo("0.12.0");
            assertThat(FleetResponses.parseVersion(b("{\"other\":{\"version\":\"9\"}}"))).isNull();
            assertThat(FleetResponses.parseVersion(b("{\"version\":null}"))).isNull();
            assertThatThrownBy(() -> FleetResponses.parseVersion(b("{\"version\":")))
                    .isInstanceOf(MalformedResponseException.class);
        }
    }

    @Nested
    class Parsing {
        @Test
        void modelNamesWithModelFallback() {
            byte[] tags = b("{\"models\":[" + tag("llama3.2:latest", "2025-01-01T00:00:00Z") + ","
                    + "{\"model\":\"only-model:latest\"},{\"name\":\"\",\"model\":\"empty-name:7b\"},{\"size\":1},"
                    + tag("caf\\u00e9:latest", "2025-01-01T00:00:00Z") + "]}");
            assertThat(FleetResponses.parseModelNames(tags))
                    .containsExactly("llama3.2:latest", "only-model:latest", "empty-name:7b", "café:latest");
            assertThat(FleetResponses.parseModelNames(b("{\"models\":[]}"))).isEmpty();
            assertThat(FleetResponses.parseModelNames(b("{}"))).isEmpty();
        }

        @Test
        void malformedTagsThrow() {
            for (String bad : new String[] {"", "[]", "{\"models\":", "{\"models\":7}", "{} {}"}) {
                assertThatThrownBy(() -> FleetResponses.parseModelNames(b(bad)))
                        .as(bad).isInstanceOf(MalformedResponseException.class);
            }
        }

        @Test
        void loadedModels() {
            byte[] ps = b("{\"models\":[{\"name\":\"llama3.2:latest\",\"model\":\"llama3.2:latest\",\"size\":3390000000,"
                    + "\"details\":{\"context_length\":99},\"expires_at\":\"2025-06-01T12:06:02.118031-07:00\","
                    + "\"size_vram\":3390000000,\"context_length\":4096},"
                    + "{\"model\":\"cpu:latest\",\"size\":2000000000,\"size_vram\":0,\"expires_at\":\"2318-08-07T03:55:24-07:00\"},"
                    + "{\"name\":\"old:latest\",\"size_vram\":1.5e9}]}");
            assertThat(FleetResponses.parseLoadedModels(ps)).containsExactly(
                    new LoadedModel("llama3.2:latest", 3_390_000_000L, "2025-06-01T12:06:02.118031-07:00", 4096,
                            3_390_000_000L),
                    new LoadedModel("cpu:latest", 0, "2318-08-07T03:55:24-07:00", 0, 2_000_000_000L),
                    new LoadedModel("old:latest", 1_500_000_000L, null, 0, 0));
            assertThatThrownBy(() -> FleetResponses.parseLoadedModels(b("{\"models\":\"x\"}")))
                    .isInstanceOf(MalformedResponseException.class);
            // A CPU model has no VRAM but still takes memory: its footprint is size, not size_vram.
            assertThat(FleetResponses.parseLoadedModels(ps)).extracting(LoadedModel::bytes)
                    .containsExactly(3_390_000_000L, 2_000_000_000L, 1_500_000_000L);
        }

        @Test
        void modelSizes() {
            byte[] tags = b("{\"models\":[{\"name\":\"a:latest\",\"size\":123},{\"model\":\"b:1b\",\"size\":4.5e9},"
                    + "{\"name\":\"c:latest\"}]}");
            assertThat(FleetResponses.parseModelSizes(tags))
                    .containsExactly(java.util.Map.entry("a:latest", 123L), java.util.Map.entry("b:1b", 4_500_000_000L));
        }
    }
}

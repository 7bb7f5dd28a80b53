package io.ollamabalancer.relay;

import io.ollamabalancer.estimate.TimingSample;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The hand-written walk against jackson's parse, which it must agree with wherever jackson finds an object. */
class TimingFieldsTest {
    private static final String GENERATE = "{\"model\":\"llama3.2:1b\",\"created_at\":\"2025-10-26T17:15:24.097767Z\","
            + "\"response\":\"Hello! How can I help you today?\",\"done\":true,\"done_reason\":\"stop\","
            + "\"context\":[128006,9125,128007,271,9906,0],\"total_duration\":1234567,\"load_duration\":123456,"
            + "\"prompt_eval_count\":1,\"prompt_eval_duration\":234567,\"eval_count\":9,\"eval_duration\":876543}";
    private static final String CHAT = "{\"model\":\"m\",\"created_at\":\"t\",\"message\":{\"role\":\"assistant\","
            + "\"content\":\"{\\\"eval_count\\\":99} }]\",\"tool_calls\":[{\"function\":{\"name\":\"f\","
            + "\"arguments\":{\"eval_count\":77,\"usage\":{\"prompt_tokens\":5}}}}]},\"done_reason\":\"stop\","
            + "\"done\":true,\"total_duration\":900,\"load_duration\":5,\"prompt_eval_count\":31,"
            + "\"prompt_eval_duration\":200,\"eval_count\":7,\"eval_duration\":600}";
    private static final String OPENAI = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
            + "\"model\":\"m\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[{\"index\":0,\"message\":"
            + "{\"role\":\"assistant\",\"content\":\"héllo 🙂\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":26,\"completion_tokens\":3,\"total_tokens\":29,"
            + "\"usage\":{\"prompt_tokens\":1000}}}";

    private static TimingSample fast(String json) {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        return TimingFields.parse(b, 0, b.length);
    }

    private static TimingSample jackson(String json) {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        return TimingFields.withJackson(b, 0, b.length);
    }

    @Test
    void readsOllamaAndOpenAiFinalObjects() {
        assertThat(fast(GENERATE)).isEqualTo(new TimingSample(1, 234567, 9, 876543, 123456, 1234567));
        assertThat(fast(CHAT)).isEqualTo(new TimingSample(31, 200, 7, 600, 5, 900));
        assertThat(fast(OPENAI)).isEqualTo(new TimingSample(26, 0, 3, 0, 0, 0));
    }

    @Test
    void agreesWithJacksonOnOddButValidObjects() {
        List<String> cases = List.of(
                GENERATE, CHAT, OPENAI,
                " {\n  \"eval_count\" : 5 ,\t\"eval_duration\":\r\n-7 , \"x\" : [ ] , \"y\" : { } }  ",
                "{\"eval_count\":1.9,\"eval_duration\":2e3,\"total_duration\":3}",
                "{\"eval_\\u0063ount\":12,\"prompt_tokens\":4}",
                "{\"eval_count\":123456789012345678901234,\"load_duration\":1}",
                "{\"eval_count\":9223372036854775807,\"load_duration\":1}",
                "{\"eval_count\":\"12\",\"prompt_eval_count\":true,\"eval_duration\":null,\"load_duration\":false}",
                "{\"usage\":5,\"eval_count\":2}",
                "{\"usage\":{\"completion_tokens\":4,\"eval_count\":6},\"usage2\":{\"eval_count\":8}}",
                "{\"a\":\"\\\\\",\"eval_count\":3,\"b\":\"\\\"}\",\"c\":[\"]\",{\"d\":\"[\"}],\"eval_duration\":4}",
                "{}",
                "{\"eval_count\":3,\"eval_count\":4}");
        for (String c : cases) {
            assertThat(fast(c)).as(c).isEqualTo(jackson(c));
        }
    }

    @Test
    void malformedObjectsGiveNothing() {
        List<String> cases = List.of(
                "", "[1,2]", "\"done\"", "{\"eval_count\":5", "{\"eval_count\":5,}", "{\"eval_count\":05}",
                "{\"eval_count\":-}", "{\"eval_count\" 5}", "{\"context\":[1,2,\"eval_count\":5}",
                "{\"a\":tru,\"eval_count\":5}", "{\"a\":\"unterminated}", GENERATE.substring(0, GENERATE.length() - 1));
        for (String c : cases) {
            assertThat(fast(c)).as(c).isNull();
            assertThat(jackson(c)).as(c).isNull();
        }
    }

    @Test
    void everyTruncationOfARealObjectIsRejectedLikeJacksonDoes() {
        for (String whole : List.of(GENERATE, CHAT, OPENAI)) {
            byte[] b = whole.getBytes(StandardCharsets.UTF_8);
            for (int n = 0; n < b.length; n++) {
                assertThat(TimingFields.parse(b, 0, n)).as("%d bytes of %s", n, whole).isNull();
            }
        }
    }

    @Test
    void randomlyGeneratedObjectsAgreeWithJackson() {
        Random rnd = new Random(7);
        String[] keys = {"eval_count", "eval_duration", "prompt_eval_count", "prompt_eval_duration",
            "load_duration", "total_duration", "prompt_tokens", "completion_tokens", "usage", "context", "x"};
        for (int n = 0; n < 2_000; n++) {
            String json = object(rnd, keys, 0);
            assertThat(fast(json)).as(json).isEqualTo(jackson(json));
        }
    }

    private static String object(Random rnd, String[] keys, int depth) {
        StringBuilder sb = new StringBuilder("{");
        int members = rnd.nextInt(6);
        for (int m = 0; m < members; m++) {
            if (m > 0) {
                sb.append(',');
            }
            sb.append('"').append(keys[rnd.nextInt(keys.length)]).append("\":");
            sb.append(value(rnd, keys, depth));
        }
        return sb.append('}').toString();
    }

    private static String value(Random rnd, String[] keys, int depth) {
        return switch (depth > 2 ? rnd.nextInt(4) : rnd.nextInt(6)) {
            case 0 -> Long.toString(rnd.nextLong() >> rnd.nextInt(64));
            case 1 -> "\"s\\\"{[" + rnd.nextInt(100) + "\"";
            case 2 -> rnd.nextBoolean() ? "true" : "null";
            case 3 -> rnd.nextInt(1000) + "." + rnd.nextInt(10);
            case 4 -> object(rnd, keys, depth + 1);
            default -> "[" + value(rnd, keys, depth + 1) + "," + value(rnd, keys, depth + 1) + "]";
        };
    }
}

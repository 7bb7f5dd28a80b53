package io.ollamabalancer.sim;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JsonTreeTest {

    private static Object parse(String s) {
        return JsonTree.parse(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsValuesKeepingKeyOrderAndIgnoringTrailingData() {
        Object v = parse("{\"b\":1,\"a\":[true,null,\"x\",1.5]} trailing");
        Map<String, Object> m = SimHttp.obj(v);
        assertThat(m.keySet()).containsExactly("b", "a");
        assertThat(SimHttp.list(m.get("a"))).containsExactly(true, null, "x", 1.5);
    }

    @Test
    void invalidUtf8BecomesReplacementCharacter() {
        byte[] body = {'"', 'a', (byte) 0xff, 'b', '"'};
        assertThat(JsonTree.parse(body)).isEqualTo("a\ufffdb");
    }

    @Test
    void errorsUseGoTexts() {
        assertThatThrownBy(() -> parse("")).isInstanceOf(BadRequestException.class)
                .hasMessage("missing request body");
        assertThatThrownBy(() -> parse("x")).hasMessage("invalid character 'x' looking for beginning of value");
        assertThatThrownBy(() -> parse("{\"a\":1")).hasMessage("unexpected EOF");
        assertThatThrownBy(() -> parse("{\"a\" 1}")).hasMessage("invalid character '1' after object key");
        assertThatThrownBy(() -> parse("{\"a\":1 \"b\":2}"))
                .hasMessage("invalid character '\"' after object key:value pair");
        assertThatThrownBy(() -> parse("[1 2]")).hasMessage("invalid character '2' after array element");
        assertThatThrownBy(() -> parse("{x:1}"))
                .hasMessage("invalid character 'x' looking for beginning of object key string");
        assertThatThrownBy(() -> JsonTree.parseObject("\"s\"".getBytes(StandardCharsets.UTF_8), "api.ChatRequest"))
                .hasMessage("json: cannot unmarshal string into Go value of type api.ChatRequest");
    }
}

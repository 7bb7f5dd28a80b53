package io.ollamabalancer.fleetops;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class OperationFieldsTest {
    private static OperationFields read(String json) {
        return OperationFields.read(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsTheFieldsThatDecideWhereAnOperationGoes() {
        OperationFields pull = read("{\"name\":\"llama3.2\",\"insecure\":true,\"stream\":false}");
        assertThat(pull.model()).isEqualTo("llama3.2");
        assertThat(pull.stream()).isFalse();
        assertThat(read("{\"model\":\"a\",\"name\":\"b\"}").model()).as("model wins, as Ollama's cmp.Or")
                .isEqualTo("a");
        assertThat(read("{\"Model\":\"x\"}").model()).as("Go matches names case-insensitively").isEqualTo("x");
        assertThat(read("{\"model\":\"x\",\"stream\":null}").stream()).isTrue();
        OperationFields copy = read("{\"source\":\"s\",\"destination\":\"d\"}");
        assertThat(copy.source()).isEqualTo("s");
        OperationFields create = read("{\"model\":\"m\",\"from\":\"base\",\"system\":{\"nested\":[1,2]}}");
        assertThat(create.from()).isEqualTo("base");
        assertThat(create.hasBlobs()).isFalse();
        assertThat(read("{\"model\":\"m\",\"files\":{\"a.gguf\":\"sha256:1\"}}").hasBlobs()).isTrue();
    }

    @Test
    void anUnreadableBodyNamesNothing() {
        assertThat(read("[1]").readable()).isFalse();
        assertThat(read("{\"model\":").readable()).isFalse();
        assertThat(read("{\"model\":").model()).isEmpty();
    }
}

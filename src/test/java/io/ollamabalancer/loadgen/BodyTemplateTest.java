package io.ollamabalancer.loadgen;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class BodyTemplateTest {

    private static String render(String template, long n) {
        return new String(BodyTemplate.of(template).render(n), StandardCharsets.UTF_8);
    }

    @Test
    void everyPlaceholderBecomesTheRequestNumber() {
        assertThat(render("{\"prompt\":\"{{i}} and {{i}}\"}", 42)).isEqualTo("{\"prompt\":\"42 and 42\"}");
        assertThat(render("{{i}}", 7)).isEqualTo("7");
        assertThat(render("{\"prompt\":\"é {{i}}\"}", 1234567890123L)).isEqualTo("{\"prompt\":\"é 1234567890123\"}");
    }

    @Test
    void aBodyWithoutPlaceholderIsConstant() {
        BodyTemplate t = BodyTemplate.of("{\"model\":\"m\"}");
        assertThat(t.render(1)).isSameAs(t.render(2));
        assertThat(new String(t.render(3), StandardCharsets.UTF_8)).isEqualTo("{\"model\":\"m\"}");
    }

    @Test
    void theDefaultAsksForAHundredStreamedTokens() {
        assertThat(render(BodyTemplate.DEFAULT, 5)).contains("\"stream\":true", "\"num_predict\":100", "number 5.");
    }
}

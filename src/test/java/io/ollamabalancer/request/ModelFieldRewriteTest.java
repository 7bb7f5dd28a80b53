package io.ollamabalancer.request;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class ModelFieldRewriteTest {

    private static String rewrite(String body, String model) {
        ByteBuf in = Unpooled.copiedBuffer("xx" + body, StandardCharsets.UTF_8);
        in.skipBytes(2); // a reader index other than 0: offsets are relative to it
        try {
            ByteBuf out = ModelFieldRewrite.rewrite(in, model);
            if (out == null) {
                return null;
            }
            try {
                assertThat(in.readerIndex()).as("the source is only read").isEqualTo(2);
                return out.toString(StandardCharsets.UTF_8);
            } finally {
                out.release();
            }
        } finally {
            in.release();
        }
    }

    @Test
    void onlyTheModelValueChangesEveryOtherByteStays() {
        assertThat(rewrite("{ \"prompt\" : \"say \\\"chat\\\"\",\n  \"model\":\"chat\" , \"options\":{\"model\":\"x\"}}",
                "llama3.2:3b")).isEqualTo(
                "{ \"prompt\" : \"say \\\"chat\\\"\",\n  \"model\":\"llama3.2:3b\" , \"options\":{\"model\":\"x\"}}");
    }

    @Test
    void escapedOldValueAndNonAsciiAroundItAreHandledByTheParser() {
        assertThat(rewrite("{\"prompt\":\"héllo ☃\",\"model\":\"ch\\u0061t\",\"stream\":false}", "qwen:0.5b"))
                .isEqualTo("{\"prompt\":\"héllo ☃\",\"model\":\"qwen:0.5b\",\"stream\":false}");
    }

    @Test
    void theLastModelFieldWinsMatchedCaseInsensitivelyAsGoDoes() {
        assertThat(rewrite("{\"model\":\"a\",\"Model\":\"chat\"}", "t")).isEqualTo("{\"model\":\"a\",\"Model\":\"t\"}");
    }

    @Test
    void nameIsUsedWhenThereIsNoModelAndTheNewValueIsEscaped() {
        assertThat(rewrite("{\"name\":\"chat\"}", "we\"ird")).isEqualTo("{\"name\":\"we\\\"ird\"}");
    }

    @Test
    void aBodyWithoutAStringModelIsLeftAlone() {
        assertThat(rewrite("{\"prompt\":\"hi\",\"model\":7}", "t")).isNull();
        assertThat(rewrite("[1]", "t")).isNull();
    }
}

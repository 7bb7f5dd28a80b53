package io.ollamabalancer.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ErrorBodiesTest {
    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void ollamaShape() {
        assertThat(text(ErrorBodies.ollama(ErrorBodies.modelNotFound("llama9"))))
                .isEqualTo("{\"error\":\"model 'llama9' not found\"}");
        assertThat(text(ErrorBodies.ollama(ErrorBodies.SERVER_BUSY)))
                .isEqualTo("{\"error\":\"server busy, please try again.  maximum pending requests exceeded\"}");
    }

    @Test
    void escapesLikeGo() {
        assertThat(text(ErrorBodies.ollama("a \"q\" \\ \n\t <think> & \u0001 é 世 \u2028\u2029")))
                .isEqualTo("{\"error\":\"a \\\"q\\\" \\\\ \\n\\t \\u003cthink\\u003e \\u0026 \\u0001 é 世 "
                        + "\\u2028\\u2029\"}");
    }

    @ParameterizedTest
    @CsvSource({"400,invalid_request_error", "404,not_found_error", "500,api_error", "503,api_error",
        "429,api_error"})
    void openAiEnvelope(int status, String type) {
        assertThat(text(ErrorBodies.openAi(status, "model 'llama9' not found")))
                .isEqualTo("{\"error\":{\"message\":\"model 'llama9' not found\",\"type\":\"" + type
                        + "\",\"param\":null,\"code\":null}}");
    }

    @ParameterizedTest
    @CsvSource({"INVALID_API_KEY,401,invalid_request_error,invalid_api_key",
        "REQUESTS_RATE_LIMIT,429,requests,rate_limit_exceeded", "TOKENS_RATE_LIMIT,429,tokens,rate_limit_exceeded"})
    void refusalsOpenAiMakesTooCarryItsTypeAndCode(OpenAiErrorCode known, int status, String type, String code) {
        assertThat(text(ErrorBodies.forEndpoint(Endpoint.V1_CHAT, status, "no", known)))
                .isEqualTo("{\"error\":{\"message\":\"no\",\"type\":\"" + type + "\",\"param\":null,\"code\":\""
                        + code + "\"}}");
        // The native API keeps Ollama's shape whatever OpenAI would call it.
        assertThat(text(ErrorBodies.forEndpoint(Endpoint.CHAT, status, "no", known))).isEqualTo("{\"error\":\"no\"}");
    }

    @Test
    void forEndpointPicksTheFamily() {
        assertThat(text(ErrorBodies.forEndpoint(Endpoint.V1_CHAT, 404, "x")))
                .isEqualTo(text(ErrorBodies.openAi(404, "x")));
        assertThat(text(ErrorBodies.forEndpoint(Endpoint.V1_MODEL, 400, "x")))
                .isEqualTo(text(ErrorBodies.openAi(400, "x")));
        assertThat(text(ErrorBodies.forEndpoint(Endpoint.CHAT, 404, "x"))).isEqualTo("{\"error\":\"x\"}");
        assertThat(text(ErrorBodies.forEndpoint(Endpoint.PASSTHROUGH, 503, "x"))).isEqualTo("{\"error\":\"x\"}");
    }

    @Test
    void modelNotFoundKeepsTheNameAsSent() {
        assertThat(ErrorBodies.modelNotFound("LLama3.2")).isEqualTo("model 'LLama3.2' not found");
        assertThat(ErrorBodies.modelNotFound("")).isEqualTo("model '' not found");
        assertThat(ErrorBodies.modelNotFound(null)).isEqualTo("model '' not found");
    }

    @Test
    void everyCallReturnsAFreshArray() {
        byte[] a = ErrorBodies.ollama("x");
        a[0] = 'Z';
        assertThat(text(ErrorBodies.ollama("x"))).isEqualTo("{\"error\":\"x\"}");
    }
}

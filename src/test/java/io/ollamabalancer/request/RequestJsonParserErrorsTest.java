package io.ollamabalancer.request;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Bodies Ollama refuses with 400, and the exact text it would put in the error. */
class RequestJsonParserErrorsTest {
    private final RequestJsonParser parser = new RequestJsonParser();

    private void assertRefused(String body, BodyShape shape, String message) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> parser.parse(b, 0, b.length, shape))
                .isInstanceOf(MalformedRequestException.class)
                .hasMessage(message);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "\n\r\t "})
    void emptyBodyIsMissing(String body) {
        assertRefused(body, BodyShape.GENERATE, "missing request body");
        assertRefused(body, BodyShape.CHAT, "missing request body");
        assertRefused(body, BodyShape.MODEL_ONLY, "missing request body");
        // the OpenAI middleware passes Go's io.EOF through as it is
        assertRefused(body, BodyShape.OPENAI_CHAT, "EOF");
        assertRefused(body, BodyShape.OPENAI_EMBED, "EOF");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "x|invalid character 'x' looking for beginning of value",
        "{\"model\":}|invalid character '}' looking for beginning of value",
        "{\"model\" \"m\"}|invalid character '\"' after object key",
        "{\"model\":\"m\" \"stream\":true}|invalid character '\"' after object key:value pair",
        "{model:\"m\"}|invalid character 'm' looking for beginning of object key string",
        "{\"model\":\"m\",}|invalid character '}' looking for beginning of object key string",
        "{\"images\":[\"a\" \"b\"]}|invalid character '\"' after array element",
        "{\"model\":\"m\"|unexpected end of JSON input",
        "{\"model\":\"m|unexpected end of JSON input",
        "{|unexpected end of JSON input",
        "{\"raw\":tru}|invalid character '}' in literal true (expecting 'e')",
        "{\"raw\":nul}|invalid character '}' in literal null (expecting 'l')",
        "{\"raw\":fx}|invalid character 'x' in literal false (expecting 'a')",
        "{\"options\":{\"seed\":-}}|invalid character '}' in numeric literal",
        "{\"options\":{\"seed\":1.}}|invalid character '}' after decimal point in numeric literal",
        "{\"options\":{\"seed\":1e}}|invalid character '}' in exponent of numeric literal",
        "{\"options\":{\"seed\":01}}|invalid character '1' after object key:value pair",
        "{\"prompt\":\"\\q\"}|invalid character 'q' in string escape code",
        "{\"prompt\":\"\\u12g4\"}|invalid character 'g' in \\u hexadecimal character escape",
        "{\"model\":\"m\"}x|invalid character 'x' after top-level value",
        "{\"model\":\"m\"} {}|invalid character '{' after top-level value",
        "{\"model\":\"m\"}1|invalid character '1' after top-level value",
        "{\"model\":'m'}|invalid character '\\'' looking for beginning of value",
        "{\"model\":\"m\"/* c */}|invalid character '/' after object key:value pair",
        "{\"a\":NaN}|invalid character 'N' looking for beginning of value",
        "-|invalid character ' ' in numeric literal",
        "nul|invalid character ' ' in literal null (expecting 'l')",
        "null x|invalid character 'x' after top-level value",
    })
    void syntaxErrorsReadLikeGo(String body, String message) {
        assertRefused(body, BodyShape.GENERATE, message);
    }

    @Test
    void controlCharacterInsideAString() {
        assertRefused("{\"prompt\":\"a\nb\"}", BodyShape.GENERATE, "invalid character '\\n' in string literal");
        assertRefused("{\"prompt\":\"a\u0001b\"}", BodyShape.GENERATE, "invalid character '\\x01' in string literal");
    }

    @Test
    void byteOrderMarkIsNotWhitespaceForGo() {
        assertRefused("\uFEFF{\"model\":\"m\"}", BodyShape.GENERATE,
                "invalid character 'ï' looking for beginning of value");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "[]|GENERATE|json: cannot unmarshal array into Go value of type api.GenerateRequest",
        "42|CHAT|json: cannot unmarshal number into Go value of type api.ChatRequest",
        "'\"hi\"'|EMBED|json: cannot unmarshal string into Go value of type api.EmbedRequest",
        "true|EMBEDDINGS|json: cannot unmarshal bool into Go value of type api.EmbeddingRequest",
        "[1]|OPENAI_CHAT|json: cannot unmarshal array into Go value of type openai.ChatCompletionRequest",
        "-1.5|OPENAI_COMPLETION|json: cannot unmarshal number into Go value of type openai.CompletionRequest",
        "[]|OPENAI_EMBED|json: cannot unmarshal array into Go value of type openai.EmbedRequest",
        "[]|MODEL_ONLY|json: cannot unmarshal array into Go value of type api.ShowRequest",
    })
    void topLevelNonObject(String body, BodyShape shape, String message) {
        assertRefused(body, shape, message);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"stream\":\"yes\"}|GENERATE|json: cannot unmarshal string into Go struct field GenerateRequest.stream of type bool",
        "{\"stream\":1}|CHAT|json: cannot unmarshal number into Go struct field ChatRequest.stream of type bool",
        "{\"stream\":{}}|OPENAI_CHAT|json: cannot unmarshal object into Go struct field ChatCompletionRequest.stream of type bool",
        "{\"model\":7}|GENERATE|json: cannot unmarshal number into Go struct field GenerateRequest.model of type string",
        "{\"prompt\":[\"a\"]}|OPENAI_COMPLETION|json: cannot unmarshal array into Go struct field CompletionRequest.prompt of type string",
        "{\"prompt\":true}|EMBEDDINGS|json: cannot unmarshal bool into Go struct field EmbeddingRequest.prompt of type string",
        "{\"max_tokens\":1.5}|OPENAI_CHAT|json: cannot unmarshal number 1.5 into Go struct field ChatCompletionRequest.max_tokens of type int",
        "{\"max_tokens\":\"10\"}|OPENAI_COMPLETION|json: cannot unmarshal string into Go struct field CompletionRequest.max_tokens of type int",
        "{\"max_tokens\":99999999999999999999}|OPENAI_CHAT|json: cannot unmarshal number 99999999999999999999 into Go struct field ChatCompletionRequest.max_tokens of type int",
        "{\"options\":[]}|GENERATE|json: cannot unmarshal array into Go struct field GenerateRequest.options of type map[string]interface {}",
        "{\"images\":\"abc\"}|GENERATE|json: cannot unmarshal string into Go struct field GenerateRequest.images of type []api.ImageData",
        "{\"images\":[1]}|GENERATE|json: cannot unmarshal number into Go struct field GenerateRequest.images of type api.ImageData",
        "{\"messages\":{}}|CHAT|json: cannot unmarshal object into Go struct field ChatRequest.messages of type []api.Message",
        "{\"messages\":[\"hi\"]}|CHAT|json: cannot unmarshal string into Go struct field ChatRequest.messages of type api.Message",
        "{\"messages\":[1]}|OPENAI_CHAT|json: cannot unmarshal number into Go struct field ChatCompletionRequest.messages of type openai.Message",
        "{\"messages\":[{\"content\":5}]}|CHAT|json: cannot unmarshal number into Go struct field Message.messages.content of type string",
        "{\"messages\":[{\"role\":false}]}|OPENAI_CHAT|json: cannot unmarshal bool into Go struct field Message.messages.role of type string",
        "{\"messages\":[{\"images\":\"x\"}]}|CHAT|json: cannot unmarshal string into Go struct field Message.messages.images of type []api.ImageData",
    })
    void fieldTypeErrorsReadLikeGo(String body, BodyShape shape, String message) {
        assertRefused(body, shape, message);
    }

    @Test
    void firstTypeErrorWinsAndDecodingGoesOn() {
        assertRefused("{\"stream\":\"a\",\"model\":1}", BodyShape.GENERATE,
                "json: cannot unmarshal string into Go struct field GenerateRequest.stream of type bool");
    }

    @Test
    void syntaxErrorBeatsAnEarlierTypeError() {
        // Go validates the whole document before decoding, so the syntax error is what the client sees
        assertRefused("{\"stream\":\"yes\",}", BodyShape.GENERATE,
                "invalid character '}' looking for beginning of object key string");
    }

    @Test
    void fieldsTheShapeDoesNotHaveAreNeverTypeErrors() throws Exception {
        // /api/embed has no stream field, /v1 has no keep_alive: unknown fields are ignored whatever their type
        byte[] b = "{\"model\":\"m\",\"stream\":\"x\",\"messages\":1}".getBytes(StandardCharsets.UTF_8);
        parser.parse(b, 0, b.length, BodyShape.EMBED);
        byte[] c = "{\"model\":\"m\",\"keep_alive\":[],\"images\":5}".getBytes(StandardCharsets.UTF_8);
        parser.parse(c, 0, c.length, BodyShape.OPENAI_CHAT);
    }

    @Test
    void nestingBeyondGoLimitIsRefusedAtGoDepth() throws Exception {
        // the top-level object is depth 1, so 9999 arrays inside it reach Go's limit of 10000 exactly
        String ok = "{\"format\":" + "[".repeat(9_999) + "]".repeat(9_999) + ",\"model\":\"m\"}";
        byte[] b = ok.getBytes(StandardCharsets.UTF_8);
        parser.parse(b, 0, b.length, BodyShape.GENERATE);
        assertRefused("{\"format\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}", BodyShape.GENERATE,
                "invalid character '[' exceeded max depth");
    }
}

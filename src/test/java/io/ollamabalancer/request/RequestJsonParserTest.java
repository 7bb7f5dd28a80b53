package io.ollamabalancer.request;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class RequestJsonParserTest {
    private final RequestJsonParser parser = new RequestJsonParser();

    private InferenceRequest parse(String json, BodyShape shape) throws MalformedRequestException {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        return parser.parse(b, 0, b.length, shape);
    }

    @Nested
    class Generate {
        @Test
        void readsModelPromptSystemSuffixInPrefillOrder() throws Exception {
            InferenceRequest r = parse("{\"suffix\":\"end\",\"prompt\":\"Why?\",\"model\":\"llama3.2:1b\","
                    + "\"system\":\"Be brief.\"}", BodyShape.GENERATE);
            assertThat(r.model()).isEqualTo("llama3.2:1b");
            assertThat(r.promptText()).isEqualTo("Be brief.\nWhy?\nend");
            assertThat(r.emptyPrompt()).isFalse();
            assertThat(r.messageCount()).isZero();
            assertThat(r.prefixHash()).isZero();
        }

        @Test
        void streamDefaultsToTrueAndFollowsTheField() throws Exception {
            assertThat(parse("{\"model\":\"m\",\"prompt\":\"p\"}", BodyShape.GENERATE).stream()).isTrue();
            assertThat(parse("{\"model\":\"m\",\"stream\":false}", BodyShape.GENERATE).stream()).isFalse();
            assertThat(parse("{\"model\":\"m\",\"stream\":true}", BodyShape.GENERATE).stream()).isTrue();
            // *bool in Go: null means absent, so the default applies again
            assertThat(parse("{\"stream\":false,\"stream\":null}", BodyShape.GENERATE).stream()).isTrue();
        }

        @ParameterizedTest
        @CsvSource({"128,128", "100.9,100", "0,0", "-1,-1", "-2,-1", "1e3,1000", "99999999999999999999,2147483647",
                "'\"64\"',-1", "null,-1"})
        void numPredictIsTruncatedAndNegativeMeansUnbounded(String value, int expected) throws Exception {
            InferenceRequest r = parse("{\"model\":\"m\",\"options\":{\"num_predict\":" + value + "}}",
                    BodyShape.GENERATE);
            assertThat(r.maxOutputTokens()).isEqualTo(expected);
        }

        @Test
        void maxOutputTokensIsUnboundedWithoutOptions() throws Exception {
            assertThat(parse("{\"model\":\"m\"}", BodyShape.GENERATE).maxOutputTokens()).isEqualTo(-1);
            // max_tokens is an OpenAI field; the native struct has none
            assertThat(parse("{\"model\":\"m\",\"max_tokens\":5}", BodyShape.GENERATE).maxOutputTokens())
                    .isEqualTo(-1);
        }

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {"0|0|true", "'\"0s\"'|0s|true", "-1|-1|false", "1.5|1.5|false",
                "'\"10m\"'|10m|false", "'\"1h30m\"'|1h30m|false", "300|300|false"})
        void keepAliveKeepsTheRawText(String json, String raw, boolean unload) throws Exception {
            InferenceRequest r = parse("{\"model\":\"m\",\"keep_alive\":" + json + "}", BodyShape.GENERATE);
            assertThat(r.keepAlive()).isEqualTo(raw);
            assertThat(r.unloadRequested()).isEqualTo(unload);
        }

        @Test
        void keepAliveAbsentOrNullOrOddTypeIsNull() throws Exception {
            assertThat(parse("{\"model\":\"m\"}", BodyShape.GENERATE).keepAlive()).isNull();
            assertThat(parse("{\"keep_alive\":\"5m\",\"keep_alive\":null}", BodyShape.GENERATE).keepAlive())
                    .isNull();
            assertThat(parse("{\"keep_alive\":{\"x\":1}}", BodyShape.GENERATE).keepAlive()).isNull();
        }

        @Test
        void emptyPromptIsTheLoadCase() throws Exception {
            assertThat(parse("{\"model\":\"m\"}", BodyShape.GENERATE).emptyPrompt()).isTrue();
            assertThat(parse("{\"model\":\"m\",\"prompt\":\"\"}", BodyShape.GENERATE).emptyPrompt()).isTrue();
            assertThat(parse("{\"model\":\"m\",\"system\":\"s\"}", BodyShape.GENERATE).emptyPrompt()).isTrue();
            assertThat(parse("{\"model\":\"m\",\"prompt\":\" \"}", BodyShape.GENERATE).emptyPrompt()).isFalse();
        }

        @Test
        void countsImagesWithoutCaringAboutTheirContent() throws Exception {
            InferenceRequest r = parse("{\"model\":\"m\",\"prompt\":\"see\",\"images\":[\"aGVsbG8=\",\"d29ybGQ=\"]}",
                    BodyShape.GENERATE);
            assertThat(r.imageCount()).isEqualTo(2);
            assertThat(parse("{\"images\":[\"a\"],\"images\":null}", BodyShape.GENERATE).imageCount()).isZero();
        }

        @Test
        void legacyNameIsNotTheModelOnGenerate() throws Exception {
            // Ollama reads only `model` here and answers 404 model '' not found for {"name":…}
            assertThat(parse("{\"name\":\"llama3\",\"prompt\":\"p\"}", BodyShape.GENERATE).model()).isNull();
        }
    }

    @Nested
    class Chat {
        private static final String THREE = "{\"model\":\"qwen2.5:0.5b\",\"messages\":["
                + "{\"role\":\"system\",\"content\":\"Be brief.\"},"
                + "{\"role\":\"user\",\"content\":\"Hi!\",\"images\":[\"aW1n\"]},"
                + "{\"role\":\"assistant\",\"content\":\"Hello\"}]}";

        @Test
        void readsMessagesTextCountAndImages() throws Exception {
            InferenceRequest r = parse(THREE, BodyShape.CHAT);
            assertThat(r.model()).isEqualTo("qwen2.5:0.5b");
            assertThat(r.messageCount()).isEqualTo(3);
            assertThat(r.promptText()).isEqualTo("Be brief.\nHi!\nHello");
            assertThat(r.imageCount()).isEqualTo(1);
            assertThat(r.stream()).isTrue();
            assertThat(r.emptyPrompt()).isFalse();
            assertThat(r.prefixHash()).isNotZero();
        }

        @Test
        void missingOrEmptyMessagesIsTheLoadCase() throws Exception {
            assertThat(parse("{\"model\":\"m\"}", BodyShape.CHAT).emptyPrompt()).isTrue();
            InferenceRequest r = parse("{\"model\":\"m\",\"messages\":[],\"keep_alive\":0}", BodyShape.CHAT);
            assertThat(r.emptyPrompt()).isTrue();
            assertThat(r.unloadRequested()).isTrue();
            assertThat(r.messageCount()).isZero();
        }

        @Test
        void nullMessageElementsCountAsEmptyMessages() throws Exception {
            InferenceRequest r = parse("{\"messages\":[null,{\"role\":\"user\",\"content\":\"x\"}]}", BodyShape.CHAT);
            assertThat(r.messageCount()).isEqualTo(2);
            assertThat(r.promptText()).isEqualTo("x");
        }

        @Test
        void laterMessagesFieldReplacesAnEarlierOne() throws Exception {
            InferenceRequest r = parse("{\"messages\":[{\"content\":\"a\"},{\"content\":\"b\"}],"
                    + "\"messages\":[{\"content\":\"c\"}]}", BodyShape.CHAT);
            assertThat(r.messageCount()).isEqualTo(1);
            assertThat(r.promptText()).isEqualTo("c");
            assertThat(r.prefixHash()).isZero();
        }
    }

    @Nested
    class PrefixHash {
        private long hash(String... roleContent) throws Exception {
            StringBuilder sb = new StringBuilder("{\"model\":\"m\",\"messages\":[");
            for (int i = 0; i < roleContent.length; i += 2) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append("{\"role\":\"").append(roleContent[i]).append("\",\"content\":\"")
                        .append(roleContent[i + 1]).append("\"}");
            }
            return parse(sb.append("]}").toString(), BodyShape.CHAT).prefixHash();
        }

        @Test
        void zeroBelowTwoMessages() throws Exception {
            assertThat(hash()).isZero();
            assertThat(hash("user", "hi")).isZero();
            assertThat(hash("system", "s", "user", "hi")).isNotZero();
        }

        @Test
        void sameHistoryDifferentLastMessageGivesSameHash() throws Exception {
            long a = hash("system", "Be brief.", "user", "Hi", "assistant", "Hello", "user", "How are you?");
            long b = hash("system", "Be brief.", "user", "Hi", "assistant", "Hello", "user", "What is 2+2?");
            assertThat(a).isEqualTo(b);
        }

        @Test
        void differentHistoryGivesDifferentHash() throws Exception {
            long base = hash("system", "Be brief.", "user", "Hi", "user", "last");
            assertThat(hash("system", "Be long.", "user", "Hi", "user", "last")).isNotEqualTo(base);
            assertThat(hash("user", "Be brief.", "user", "Hi", "user", "last")).isNotEqualTo(base);
            assertThat(hash("system", "Be brief.", "user", "Hi", "assistant", "x", "user", "last"))
                    .isNotEqualTo(base);
            // the same characters split differently between messages must not collide
            assertThat(hash("user", "ab", "user", "c", "user", "z"))
                    .isNotEqualTo(hash("user", "a", "user", "bc", "user", "z"));
        }

        @Test
        void roleIsCaseInsensitiveLikeOllama() throws Exception {
            assertThat(hash("System", "s", "USER", "u", "user", "x")).isEqualTo(hash("system", "s", "user", "u", "user", "y"));
        }

        @Test
        void nativeAndOpenAiAgreeForPlainStringContent() throws Exception {
            String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"s\"},"
                    + "{\"role\":\"user\",\"content\":\"u\"}]}";
            assertThat(parse(body, BodyShape.CHAT).prefixHash())
                    .isEqualTo(parse(body, BodyShape.OPENAI_CHAT).prefixHash());
        }
    }

    @Nested
    class OpenAi {
        @Test
        void chatDefaultsToNotStreamingAndReadsMaxTokens() throws Exception {
            InferenceRequest r = parse("{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                    + "\"max_tokens\":50}", BodyShape.OPENAI_CHAT);
            assertThat(r.stream()).isFalse();
            assertThat(r.maxOutputTokens()).isEqualTo(50);
            assertThat(r.messageCount()).isEqualTo(1);
            assertThat(r.promptText()).isEqualTo("hi");
            assertThat(parse("{\"stream\":true}", BodyShape.OPENAI_CHAT).stream()).isTrue();
            // a plain Go bool: null leaves it as it was
            assertThat(parse("{\"stream\":true,\"stream\":null}", BodyShape.OPENAI_CHAT).stream()).isTrue();
        }

        @Test
        void maxCompletionTokensIsTheFallback() throws Exception {
            assertThat(parse("{\"max_completion_tokens\":70}", BodyShape.OPENAI_CHAT).maxOutputTokens())
                    .isEqualTo(70);
            assertThat(parse("{\"max_completion_tokens\":70,\"max_tokens\":20}", BodyShape.OPENAI_CHAT)
                    .maxOutputTokens()).isEqualTo(20);
            assertThat(parse("{}", BodyShape.OPENAI_CHAT).maxOutputTokens()).isEqualTo(-1);
        }

        @Test
        void contentPartsGiveTextAndImages() throws Exception {
            InferenceRequest r = parse("{\"model\":\"llava\",\"messages\":[{\"role\":\"user\",\"content\":["
                    + "{\"type\":\"text\",\"text\":\"What is in\"},"
                    + "{\"image_url\":{\"url\":\"data:image/png;base64,iVBORw0KGgo=\"},\"type\":\"image_url\"},"
                    + "{\"text\":\"this picture?\",\"type\":\"text\"},"
                    + "{\"type\":\"input_audio\",\"input_audio\":{\"data\":\"UklGR\"}}]},"
                    + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c\"}]}]}",
                    BodyShape.OPENAI_CHAT);
            assertThat(r.promptText()).isEqualTo("What is in\nthis picture?");
            assertThat(r.imageCount()).isEqualTo(1);
            assertThat(r.messageCount()).isEqualTo(2);
        }

        @Test
        void keepAliveAndOptionsAreNotOpenAiFields() throws Exception {
            InferenceRequest r = parse("{\"keep_alive\":0,\"options\":{\"num_ctx\":8192,\"num_predict\":5}}",
                    BodyShape.OPENAI_CHAT);
            assertThat(r.keepAlive()).isNull();
            assertThat(r.runnerOptionsKey()).isEmpty();
            assertThat(r.maxOutputTokens()).isEqualTo(-1);
        }

        @Test
        void completionReadsPromptAndSuffix() throws Exception {
            InferenceRequest r = parse("{\"model\":\"m\",\"prompt\":\"def f():\",\"suffix\":\"return 1\","
                    + "\"max_tokens\":16,\"stream\":true}", BodyShape.OPENAI_COMPLETION);
            assertThat(r.promptText()).isEqualTo("def f():\nreturn 1");
            assertThat(r.maxOutputTokens()).isEqualTo(16);
            assertThat(r.stream()).isTrue();
            assertThat(r.emptyPrompt()).isFalse();
        }
    }

    @Nested
    class Embeddings {
        @Test
        void embedInputStringOrArray() throws Exception {
            InferenceRequest one = parse("{\"model\":\"all-minilm\",\"input\":\"Why?\"}", BodyShape.EMBED);
            assertThat(one.promptText()).isEqualTo("Why?");
            InferenceRequest many = parse("{\"model\":\"all-minilm\",\"input\":[\"Why is the sky blue?\","
                    + "\"Why is grass green?\"]}", BodyShape.EMBED);
            assertThat(many.promptText()).isEqualTo("Why is the sky blue?\nWhy is grass green?");
            assertThat(many.stream()).isFalse();
            assertThat(many.maxOutputTokens()).isEqualTo(-1);
            assertThat(many.emptyPrompt()).isFalse();
        }

        @Test
        void openAiEmbedIgnoresTokenArrays() throws Exception {
            assertThat(parse("{\"input\":[[1,2,3],\"text\"]}", BodyShape.OPENAI_EMBED).promptText())
                    .isEqualTo("text");
        }

        @Test
        void legacyEmbeddingsReadsPrompt() throws Exception {
            InferenceRequest r = parse("{\"model\":\"nomic\",\"prompt\":\"hello\",\"stream\":true}",
                    BodyShape.EMBEDDINGS);
            assertThat(r.promptText()).isEqualTo("hello");
            assertThat(r.stream()).isFalse(); // embeddings never stream
        }
    }

    @Nested
    class ModelOnly {
        @Test
        void legacyNameIsUsedWhenModelIsEmpty() throws Exception {
            assertThat(parse("{\"name\":\"llama3\",\"stream\":false}", BodyShape.MODEL_ONLY).model())
                    .isEqualTo("llama3");
            assertThat(parse("{\"model\":\"a\",\"name\":\"b\"}", BodyShape.MODEL_ONLY).model()).isEqualTo("a");
            assertThat(parse("{\"model\":\"\",\"name\":\"b\"}", BodyShape.MODEL_ONLY).model()).isEqualTo("b");
            assertThat(parse("{}", BodyShape.MODEL_ONLY).model()).isNull();
        }

        @Test
        void pullStreamsByDefault() throws Exception {
            assertThat(parse("{\"model\":\"m\"}", BodyShape.MODEL_ONLY).stream()).isTrue();
            assertThat(parse("{\"model\":\"m\",\"stream\":false}", BodyShape.MODEL_ONLY).stream()).isFalse();
        }

        @Test
        void fieldTypeErrorsAreLeftToTheBackend() throws Exception {
            // one shape, several Go structs: the backend words the error with the right one
            assertThat(parse("{\"model\":\"m\",\"stream\":\"x\",\"name\":5}", BodyShape.MODEL_ONLY).model())
                    .isEqualTo("m");
        }
    }

    @Nested
    class RunnerOptions {
        @Test
        void canonicalSortedKeyOfLoadTimeOptionsOnly() throws Exception {
            InferenceRequest r = parse("{\"options\":{\"temperature\":0,\"num_gpu\":1.0,\"use_mmap\":false,"
                    + "\"num_ctx\":8192,\"seed\":42,\"main_gpu\":0,\"num_thread\":8.9,\"num_batch\":512}}",
                    BodyShape.CHAT);
            assertThat(r.runnerOptionsKey())
                    .isEqualTo("main_gpu=0;num_batch=512;num_ctx=8192;num_gpu=1;num_thread=8;use_mmap=false");
        }

        @Test
        void sameOptionsInAnyOrderOrNumberSpellingGiveTheSameKey() throws Exception {
            String a = parse("{\"options\":{\"num_ctx\":4096,\"num_batch\":256}}", BodyShape.GENERATE)
                    .runnerOptionsKey();
            String b = parse("{\"options\":{\"num_batch\":2.56e2,\"num_ctx\":4096.0}}", BodyShape.GENERATE)
                    .runnerOptionsKey();
            assertThat(a).isEqualTo(b).isEqualTo("num_batch=256;num_ctx=4096");
        }

        @Test
        void emptyWhenNoneAndNullRemoves() throws Exception {
            assertThat(parse("{\"options\":{\"temperature\":0.1}}", BodyShape.GENERATE).runnerOptionsKey()).isEmpty();
            assertThat(parse("{}", BodyShape.GENERATE).runnerOptionsKey()).isEmpty();
            assertThat(parse("{\"options\":{\"num_ctx\":1,\"num_ctx\":null}}", BodyShape.GENERATE)
                    .runnerOptionsKey()).isEmpty();
            assertThat(parse("{\"options\":{\"num_ctx\":1},\"options\":null}", BodyShape.GENERATE)
                    .runnerOptionsKey()).isEmpty();
        }

        @Test
        void optionKeysAreCaseSensitiveLikeGoMapKeys() throws Exception {
            assertThat(parse("{\"options\":{\"NUM_CTX\":1}}", BodyShape.GENERATE).runnerOptionsKey()).isEmpty();
        }

        @Test
        void embedOptionsCountToo() throws Exception {
            assertThat(parse("{\"input\":\"x\",\"options\":{\"num_ctx\":512}}", BodyShape.EMBED).runnerOptionsKey())
                    .isEqualTo("num_ctx=512");
        }
    }

    @Nested
    class JsonDetails {
        @Test
        void fieldNamesMatchCaseInsensitivelyAsInGo() throws Exception {
            InferenceRequest r = parse("{\"Model\":\"x\",\"STREAM\":false,\"Prompt\":\"p\"}", BodyShape.GENERATE);
            assertThat(r.model()).isEqualTo("x");
            assertThat(r.stream()).isFalse();
            assertThat(r.promptText()).isEqualTo("p");
        }

        @Test
        void lastDuplicateWinsAndNullLeavesAStringAlone() throws Exception {
            assertThat(parse("{\"model\":\"a\",\"model\":\"b\"}", BodyShape.GENERATE).model()).isEqualTo("b");
            assertThat(parse("{\"model\":\"a\",\"model\":null}", BodyShape.GENERATE).model()).isEqualTo("a");
        }

        @Test
        void unknownNestedFieldsAreSkippedEvenWhenTheyHoldKnownNames() throws Exception {
            InferenceRequest r = parse("{\"format\":{\"type\":\"object\",\"properties\":{\"model\":{\"type\":"
                    + "\"string\"},\"prompt\":[1,{\"stream\":\"no\"}]}},\"model\":\"real\",\"tools\":[{\"type\":"
                    + "\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"messages\":[]}}}],"
                    + "\"context\":[1,2,3],\"think\":\"high\",\"prompt\":\"p\"}", BodyShape.GENERATE);
            assertThat(r.model()).isEqualTo("real");
            assertThat(r.promptText()).isEqualTo("p");
            assertThat(r.stream()).isTrue();
        }

        @Test
        void unicodeEscapesAndRawUtf8() throws Exception {
            InferenceRequest r = parse("{\"model\":\"m\",\"prompt\":\"h\\u00e9llo \\ud83d\\ude00 \u4e16\u754c "
                    + "\\\"q\\\" a\\\\b\\nc\\t\\/\"}", BodyShape.GENERATE);
            assertThat(r.promptText()).isEqualTo("héllo \uD83D\uDE00 世界 \"q\" a\\b\nc\t/");
        }

        @Test
        void invalidUtf8InsideAStringBecomesReplacementCharAsInGo() throws Exception {
            byte[] head = "{\"model\":\"m\",\"prompt\":\"a".getBytes(StandardCharsets.UTF_8);
            byte[] tail = "b\"}".getBytes(StandardCharsets.UTF_8);
            byte[] body = new byte[head.length + 1 + tail.length];
            System.arraycopy(head, 0, body, 0, head.length);
            body[head.length] = (byte) 0xFF;
            System.arraycopy(tail, 0, body, head.length + 1, tail.length);
            InferenceRequest r = parser.parse(body, 0, body.length, BodyShape.GENERATE);
            assertThat(r.promptText()).isEqualTo("a\uFFFDb");
            assertThat(r.model()).isEqualTo("m");
        }

        @ParameterizedTest
        @EnumSource(BodyShape.class)
        void nullBodyIsAnEmptyRequest(BodyShape shape) throws Exception {
            InferenceRequest r = parse(" null \n", shape);
            assertThat(r.model()).isNull();
            assertThat(r.stream()).isEqualTo(shape.streamsByDefault() && !shape.isEmbedding());
            assertThat(r.promptText()).isEmpty();
            assertThat(r.emptyPrompt()).isEqualTo(shape == BodyShape.GENERATE || shape == BodyShape.CHAT);
            assertThat(r).isEqualTo(parse("{}", shape));
        }

        @Test
        void surroundingWhitespaceIsFine() throws Exception {
            assertThat(parse(" \r\n\t{\"model\":\"m\"}\n\n", BodyShape.GENERATE).model()).isEqualTo("m");
        }
    }

    @Nested
    class Buffers {
        private static final String BODY = "{\"model\":\"m\",\"prompt\":\"p\u00e9\",\"stream\":false}";

        @Test
        void arraySliceHeapBufferAndDirectBufferAgree() throws Exception {
            byte[] raw = BODY.getBytes(StandardCharsets.UTF_8);
            InferenceRequest expected = parser.parse(raw, 0, raw.length, BodyShape.GENERATE);
            assertThat(expected.promptText()).isEqualTo("pé");

            byte[] padded = new byte[raw.length + 10];
            System.arraycopy(raw, 0, padded, 3, raw.length);
            padded[0] = 'x';
            padded[raw.length + 3] = '}';
            assertThat(parser.parse(padded, 3, raw.length, BodyShape.GENERATE)).isEqualTo(expected);

            ByteBuffer heap = ByteBuffer.wrap(padded, 3, raw.length).slice();
            heap.position(0);
            assertThat(parser.parse(heap, BodyShape.GENERATE)).isEqualTo(expected);

            ByteBuffer withPosition = ByteBuffer.wrap(padded);
            withPosition.position(3).limit(3 + raw.length);
            assertThat(parser.parse(withPosition, BodyShape.GENERATE)).isEqualTo(expected);
            assertThat(withPosition.position()).isEqualTo(3);

            ByteBuffer direct = ByteBuffer.allocateDirect(raw.length + 4);
            direct.put(new byte[] {'[', '[', '['}).put(raw).flip().position(3);
            assertThat(parser.parse(direct, BodyShape.GENERATE)).isEqualTo(expected);
            assertThat(direct.position()).isEqualTo(3);
            assertThat(direct.limit()).isEqualTo(3 + raw.length);
        }

        @Test
        void directBufferErrorsUseTheSameTexts() {
            ByteBuffer direct = ByteBuffer.allocateDirect(16);
            direct.put("{\"model\":x}".getBytes(StandardCharsets.UTF_8)).flip();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> parser.parse(direct, BodyShape.GENERATE))
                    .isInstanceOf(MalformedRequestException.class)
                    .hasMessage("invalid character 'x' looking for beginning of value");
        }

        @Test
        void aStreamedDirectBodyReadsAndFailsLikeACopiedOne() {
            String prompt = "p".repeat(RequestJsonParser.COPIED_BODY);
            byte[] ok = ("{\"model\":\"m\",\"prompt\":\"" + prompt + "\",\"stream\":false}")
                    .getBytes(StandardCharsets.UTF_8);
            byte[] bad = ("{\"model\":\"m\",\"prompt\":\"" + prompt + "\",\"stream\":x}")
                    .getBytes(StandardCharsets.UTF_8);
            assertThat(ok.length).isGreaterThan(RequestJsonParser.COPIED_BODY);
            try {
                assertThat(parser.parse(ByteBuffer.allocateDirect(ok.length).put(ok).flip(), BodyShape.GENERATE))
                        .isEqualTo(parser.parse(ok, 0, ok.length, BodyShape.GENERATE));
            } catch (MalformedRequestException e) {
                throw new AssertionError(e);
            }
            org.assertj.core.api.Assertions.assertThatThrownBy(() ->
                            parser.parse(ByteBuffer.allocateDirect(bad.length).put(bad).flip(), BodyShape.GENERATE))
                    .isInstanceOf(MalformedRequestException.class)
                    .hasMessage("invalid character 'x' looking for beginning of value");
        }
    }
}

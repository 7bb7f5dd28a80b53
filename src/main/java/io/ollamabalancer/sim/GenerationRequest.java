package io.ollamabalancer.sim;

import java.util.List;
import java.util.Map;

/**
 * What the simulator needs from a generate, chat or /v1 completion request. Immutable.
 *
 * @param route        which endpoint it came in on
 * @param model        the model string exactly as sent (it is echoed back verbatim)
 * @param stream       whether to stream (native default true, /v1 default false)
 * @param empty        empty prompt / no messages: Ollama's load (or, with keep_alive 0, unload) request
 * @param promptTokens estimated prompt tokens: ⌈chars / 4⌉, plus 15 template tokens for chat
 * @param numPredict   {@code num_predict} / {@code max_tokens}; negative means unlimited
 * @param keepAlive    {@code keep_alive} in ns ({@link GoDuration#FOREVER} for negative), null if absent
 * @param raw          {@code raw:true} (generate): no {@code context} in the final chunk
 * @param includeUsage {@code stream_options.include_usage} (/v1)
 * @param bodyHash     hash of the body bytes, seeding the deterministic answer
 */
record GenerationRequest(Route route, String model, boolean stream, boolean empty, int promptTokens, int numPredict,
                         Long keepAlive, boolean raw, boolean includeUsage, long bodyHash) {

    static final int CHAT_TEMPLATE_TOKENS = 15;

    boolean chat() {
        return route == Route.CHAT || route == Route.V1_CHAT;
    }

    /** Parses a body for {@code route}; throws {@link BadRequestException} with Ollama's text. */
    static GenerationRequest parse(Route route, byte[] body) {
        long hash = BodyHash.of(body);
        switch (route) {
            case GENERATE: {
                RequestFields f = fields(body, "api", "GenerateRequest");
                String prompt = f.string("prompt");
                long chars = prompt.length() + f.string("system").length() + f.string("suffix").length();
                int contextTokens = f.array("context", "[]int").size();
                RequestFields options = f.object("options", "map[string]interface {}");
                return new GenerationRequest(route, f.string("model"), f.bool("stream", true), prompt.isEmpty(),
                        tokens(chars, 0) + contextTokens, RequestFields.optionInt(options, "num_predict", -1),
                        GoDuration.keepAlive(f.raw("keep_alive")), f.bool("raw", false), false, hash);
            }
            case CHAT: {
                RequestFields f = fields(body, "api", "ChatRequest");
                List<Object> messages = f.array("messages", "[]api.Message");
                long chars = nativeMessageChars(f, messages);
                RequestFields options = f.object("options", "map[string]interface {}");
                return new GenerationRequest(route, f.string("model"), f.bool("stream", true), messages.isEmpty(),
                        tokens(chars, CHAT_TEMPLATE_TOKENS), RequestFields.optionInt(options, "num_predict", -1),
                        GoDuration.keepAlive(f.raw("keep_alive")), false, false, hash);
            }
            case V1_CHAT: {
                RequestFields f = fields(body, "openai", "ChatCompletionRequest");
                List<Object> messages = f.array("messages", "[]openai.Message");
                if (messages.isEmpty()) {
                    throw new BadRequestException("[] is too short - 'messages'");
                }
                long chars = openAiMessageChars(messages);
                return new GenerationRequest(route, f.string("model"), f.bool("stream", false), false,
                        tokens(chars, CHAT_TEMPLATE_TOKENS), f.integer("max_tokens", -1), null, false,
                        includeUsage(f), hash);
            }
            case V1_COMPLETIONS: {
                RequestFields f = fields(body, "openai", "CompletionRequest");
                String prompt = f.string("prompt");
                long chars = prompt.length() + f.string("suffix").length();
                return new GenerationRequest(route, f.string("model"), f.bool("stream", false), prompt.isEmpty(),
                        tokens(chars, 0), f.integer("max_tokens", -1), null, false, includeUsage(f), hash);
            }
            default:
                throw new IllegalArgumentException("not a generation route: " + route);
        }
    }

    private static RequestFields fields(byte[] body, String goPackage, String struct) {
        return new RequestFields(JsonTree.parseObject(body, goPackage + "." + struct), struct);
    }

    private static boolean includeUsage(RequestFields f) {
        return f.object("stream_options", "openai.StreamOptions").bool("include_usage", false);
    }

    private static int tokens(long chars, int overhead) {
        long t = (chars + 3) / 4 + overhead;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, t));
    }

    private static long nativeMessageChars(RequestFields f, List<Object> messages) {
        long chars = 0;
        for (Object m : messages) {
            if (!(m instanceof Map)) {
                throw f.mismatch("messages", m, "api.Message");
            }
            @SuppressWarnings("unchecked")
            RequestFields msg = new RequestFields((Map<String, Object>) m, "ChatRequest.messages");
            chars += msg.string("content").length();
        }
        return chars;
    }

    private static long openAiMessageChars(List<Object> messages) {
        long chars = 0;
        for (Object m : messages) {
            if (!(m instanceof Map)) {
                throw new BadRequestException("json: cannot unmarshal " + JsonTree.kind(m)
                        + " into Go struct field ChatCompletionRequest.messages of type openai.Message");
            }
            Object content = ((Map<?, ?>) m).get("content");
            if (content instanceof String) {
                chars += ((String) content).length();
            } else if (content instanceof List) {
                for (Object part : (List<?>) content) {
                    if (!(part instanceof Map)) {
                        throw new BadRequestException("invalid message format");
                    }
                    Object text = ((Map<?, ?>) part).get("text");
                    if (text instanceof String) {
                        chars += ((String) text).length();
                    }
                }
            } else if (((Map<?, ?>) m).get("tool_calls") == null) {
                throw new BadRequestException("invalid message content type: " + goType(content));
            }
        }
        return chars;
    }

    private static String goType(Object v) {
        if (v == null) {
            return "<nil>";
        }
        if (v instanceof Number) {
            return "float64";
        }
        if (v instanceof Boolean) {
            return "bool";
        }
        return "map[string]interface {}";
    }
}

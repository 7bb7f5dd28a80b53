package io.ollamabalancer.request;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Collects what the balancer needs from one request object while {@link RequestJsonParser} streams over it.
 * Field names match case-insensitively and a repeated field wins over an earlier one, both as in Go's
 * {@code encoding/json}. Only fields the shape's Go struct has are read: for example {@code keep_alive} is
 * ignored on {@code /v1}, where Ollama ignores it too. A value of the wrong JSON type for a field read here is
 * recorded as Go's type error (the first one wins) and decoding carries on, again as Go does.
 * Not thread-safe; one per parse.
 */
final class RequestFields implements ChatMessages.TypeErrorSink {
    private static final long UNSET = Long.MIN_VALUE;
    /** Load-time options that force a model reload when they change. */
    private static final java.util.Set<String> RUNNER_OPTIONS =
            java.util.Set.of("num_ctx", "num_batch", "num_gpu", "main_gpu", "use_mmap", "num_thread");

    private final BodyShape shape;
    private final String struct;
    private final boolean openAi;
    private final ChatMessages messages;
    private final TextJoin input = new TextJoin();
    private final Map<String, String> runnerOptions = new TreeMap<>();
    private String model;
    private String name;
    private Boolean stream;
    private long numPredict = UNSET;
    private long maxTokens = UNSET;
    private long maxCompletionTokens = UNSET;
    private String keepAlive;
    private String prompt;
    private String system;
    private String suffix;
    private int images;
    private String firstTypeError;

    RequestFields(BodyShape shape) {
        this.shape = shape;
        this.struct = GoTypeErrors.structName(shape);
        this.openAi = GoTypeErrors.goPackage(shape).equals("openai");
        this.messages = new ChatMessages(openAi, this);
    }

    @Override
    public void typeError(String message) {
        // MODEL_ONLY covers several Go structs; rather than name the wrong one, leave field errors to the backend.
        if (firstTypeError == null && shape != BodyShape.MODEL_ONLY) {
            firstTypeError = message;
        }
    }

    /** Reads the members of the object whose START_OBJECT the parser is on, up to its END_OBJECT. */
    void readObject(JsonParser p) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName().toLowerCase(Locale.ROOT);
            JsonToken t = p.nextToken();
            if (!readField(p, key, t)) {
                p.skipChildren();
            }
        }
    }

    private boolean readField(JsonParser p, String key, JsonToken t) throws IOException {
        switch (key) {
            case "model" -> model = readString(p, t, key, model);
            case "name" -> {
                if (shape != BodyShape.MODEL_ONLY) {
                    return false;
                }
                name = readString(p, t, key, name);
            }
            case "stream" -> {
                if (shape.isEmbedding()) {
                    return false;
                }
                readStream(p, t);
            }
            case "keep_alive" -> {
                if (openAi || shape == BodyShape.MODEL_ONLY) {
                    return false;
                }
                readKeepAlive(p, t);
            }
            case "options" -> {
                if (openAi || shape == BodyShape.MODEL_ONLY) {
                    return false;
                }
                readOptions(p, t);
            }
            case "prompt" -> {
                if (shape != BodyShape.GENERATE && shape != BodyShape.EMBEDDINGS
                        && shape != BodyShape.OPENAI_COMPLETION) {
                    return false;
                }
                prompt = readString(p, t, key, prompt);
            }
            case "system" -> {
                if (shape != BodyShape.GENERATE) {
                    return false;
                }
                system = readString(p, t, key, system);
            }
            case "suffix" -> {
                if (shape != BodyShape.GENERATE && shape != BodyShape.OPENAI_COMPLETION) {
                    return false;
                }
                suffix = readString(p, t, key, suffix);
            }
            case "images" -> {
                if (shape != BodyShape.GENERATE) {
                    return false;
                }
                readImages(p, t);
            }
            case "messages" -> {
                if (shape != BodyShape.CHAT && shape != BodyShape.OPENAI_CHAT) {
                    return false;
                }
                messages.read(p, struct);
            }
            case "input" -> {
                if (shape != BodyShape.EMBED && shape != BodyShape.OPENAI_EMBED) {
                    return false;
                }
                readInput(p, t);
            }
            case "max_tokens" -> {
                if (shape != BodyShape.OPENAI_CHAT && shape != BodyShape.OPENAI_COMPLETION) {
                    return false;
                }
                maxTokens = readStrictInt(p, t, key, maxTokens);
            }
            case "max_completion_tokens" -> {
                if (shape != BodyShape.OPENAI_CHAT) {
                    return false;
                }
                // Not a field of Ollama's struct, so never an error there: read leniently.
                maxCompletionTokens = isNumber(t) ? truncate(p, t) : t == JsonToken.VALUE_NULL ? UNSET
                        : maxCompletionTokens;
                p.skipChildren();
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /** The request, or the first type error Go would have reported. */
    InferenceRequest result() throws MalformedRequestException {
        if (firstTypeError != null) {
            throw new MalformedRequestException(firstTypeError);
        }
        String resolvedModel = model;
        if (shape == BodyShape.MODEL_ONLY && (model == null || model.isEmpty()) && name != null) {
            resolvedModel = name; // Ollama's cmp.Or(req.Model, req.Name)
        }
        boolean streams = !shape.isEmbedding() && (stream == null ? shape.streamsByDefault() : stream);
        boolean chat = shape == BodyShape.CHAT || shape == BodyShape.OPENAI_CHAT;
        boolean emptyPrompt = switch (shape) {
            case GENERATE -> prompt == null || prompt.isEmpty();
            case CHAT -> messages.count() == 0;
            default -> false;
        };
        return new InferenceRequest(
                resolvedModel,
                streams,
                maxOutputTokens(),
                keepAlive,
                promptText(),
                chat ? messages.count() : 0,
                chat ? messages.prefixHash() : 0,
                runnerOptionsKey(),
                emptyPrompt,
                images + (chat ? messages.images() : 0));
    }

    private int maxOutputTokens() {
        long v = switch (shape) {
            case GENERATE, CHAT -> numPredict;
            case OPENAI_CHAT -> maxTokens != UNSET ? maxTokens : maxCompletionTokens;
            case OPENAI_COMPLETION -> maxTokens;
            default -> UNSET;
        };
        if (v == UNSET || v < 0) {
            return -1; // -1 is "until stop", -2 "fill the context": both unbounded up front
        }
        return (int) Math.min(v, Integer.MAX_VALUE);
    }

    private String promptText() {
        switch (shape) {
            case GENERATE -> {
                TextJoin j = new TextJoin();
                j.add(system);
                j.add(prompt);
                j.add(suffix);
                return j.result();
            }
            case OPENAI_COMPLETION -> {
                TextJoin j = new TextJoin();
                j.add(prompt);
                j.add(suffix);
                return j.result();
            }
            case EMBEDDINGS -> {
                return prompt == null ? "" : prompt;
            }
            case CHAT, OPENAI_CHAT -> {
                return messages.text();
            }
            case EMBED, OPENAI_EMBED -> {
                return input.result();
            }
            default -> {
                return "";
            }
        }
    }

    private String runnerOptionsKey() {
        if (runnerOptions.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : runnerOptions.entrySet()) {
            if (sb.length() > 0) {
                sb.append(';');
            }
            sb.append(e.getKey()).append('=').append(e.getValue());
        }
        return sb.toString();
    }

    private String readString(JsonParser p, JsonToken t, String field, String previous) throws IOException {
        if (t == JsonToken.VALUE_STRING) {
            return p.getText();
        }
        if (t != JsonToken.VALUE_NULL) { // null leaves a Go string unchanged
            typeError(GoTypeErrors.field(GoTypeErrors.kind(t), struct, field, "string"));
            p.skipChildren();
        }
        return previous;
    }

    private void readStream(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) {
            stream = t == JsonToken.VALUE_TRUE;
        } else if (t == JsonToken.VALUE_NULL) {
            if (!openAi) {
                stream = null; // native stream is *bool: null means "absent"; OpenAI's plain bool stays as it was
            }
        } else {
            typeError(GoTypeErrors.field(GoTypeErrors.kind(t), struct, "stream", "bool"));
            p.skipChildren();
        }
    }

    private void readKeepAlive(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_STRING || isNumber(t)) {
            keepAlive = p.getText();
        } else if (t == JsonToken.VALUE_NULL) {
            keepAlive = null;
        } else {
            // Ollama's Duration rejects other types with its own text; the backend will say it.
            p.skipChildren();
        }
    }

    private void readOptions(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            runnerOptions.clear(); // a Go map set to nil
            numPredict = UNSET;
            return;
        }
        if (t != JsonToken.START_OBJECT) {
            typeError(GoTypeErrors.field(GoTypeErrors.kind(t), struct, "options", "map[string]interface {}"));
            p.skipChildren();
            return;
        }
        // Option keys are map keys, matched exactly; a second "options" object merges into the first, as in Go.
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken v = p.nextToken();
            if (key.equals("num_predict")) {
                numPredict = isNumber(v) ? truncate(p, v) : UNSET;
            } else if (RUNNER_OPTIONS.contains(key)) {
                String canonical = canonicalOption(p, v);
                if (canonical == null) {
                    runnerOptions.remove(key);
                } else {
                    runnerOptions.put(key, canonical);
                }
            }
            p.skipChildren();
        }
    }

    private static String canonicalOption(JsonParser p, JsonToken v) throws IOException {
        return switch (v) {
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> Long.toString(truncate(p, v));
            case VALUE_TRUE -> "true";
            case VALUE_FALSE -> "false";
            case VALUE_STRING -> p.getText(); // Ollama rejects it at load time; keep it distinct meanwhile
            default -> null;
        };
    }

    private void readImages(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            images = 0;
        } else if (t == JsonToken.START_ARRAY) {
            images = ChatMessages.countImages(p, this, struct, "images");
        } else {
            typeError(GoTypeErrors.field(GoTypeErrors.kind(t), struct, "images", "[]api.ImageData"));
            p.skipChildren();
        }
    }

    private void readInput(JsonParser p, JsonToken t) throws IOException {
        input.reset();
        if (t == JsonToken.VALUE_STRING) {
            input.add(p.getText());
        } else if (t == JsonToken.START_ARRAY) {
            JsonToken e;
            while ((e = p.nextToken()) != JsonToken.END_ARRAY) {
                if (e == JsonToken.VALUE_STRING) {
                    input.add(p.getText());
                } else {
                    p.skipChildren(); // token arrays and the like: Ollama answers "invalid input type" itself
                }
            }
        } else {
            p.skipChildren();
        }
    }

    /** A Go {@code *int}: integers only; a fraction or exponent is Go's {@code number 1.5} type error. */
    private long readStrictInt(JsonParser p, JsonToken t, String field, long previous) throws IOException {
        if (t == JsonToken.VALUE_NUMBER_INT && fitsLong(p)) {
            return p.getLongValue();
        }
        if (t == JsonToken.VALUE_NULL) {
            return UNSET;
        }
        String value = isNumber(t) ? "number " + p.getText() : GoTypeErrors.kind(t);
        typeError(GoTypeErrors.field(value, struct, field, "int"));
        p.skipChildren();
        return previous;
    }

    /** Checks the length first so that a huge integer is never turned into a BigInteger. */
    private static boolean fitsLong(JsonParser p) throws IOException {
        return p.getTextLength() <= 20 && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER;
    }

    private static boolean isNumber(JsonToken t) {
        return t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT;
    }

    /** A number as Go's option decoding sees it: floats truncated toward zero, huge values clamped. */
    private static long truncate(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NUMBER_INT) {
            if (fitsLong(p)) {
                return p.getLongValue();
            }
            // Too long for a long: no need to build a BigInteger just to learn the sign.
            return p.getTextCharacters()[p.getTextOffset()] == '-' ? Long.MIN_VALUE + 1 : Long.MAX_VALUE;
        }
        double d = p.getDoubleValue();
        if (Double.isNaN(d)) {
            return 0;
        }
        return (long) d; // saturates at the long range, like the clamp above
    }
}

package io.ollamabalancer.request;

import com.fasterxml.jackson.core.JsonToken;

/**
 * Words type mismatches like Go's {@code json.UnmarshalTypeError}, naming the Go struct Ollama decodes each body
 * shape into. Go keeps decoding after a type error and reports the first one at the end; {@link RequestFields}
 * mirrors that by recording only the first. Stateless.
 */
final class GoTypeErrors {
    private GoTypeErrors() {
    }

    /** The Go request struct a shape is decoded into, without its package. */
    static String structName(BodyShape shape) {
        return switch (shape) {
            case GENERATE -> "GenerateRequest";
            case CHAT -> "ChatRequest";
            case EMBED, OPENAI_EMBED -> "EmbedRequest";
            case EMBEDDINGS -> "EmbeddingRequest";
            case OPENAI_CHAT -> "ChatCompletionRequest";
            case OPENAI_COMPLETION -> "CompletionRequest";
            // show, pull, push, delete and create share this shape; show is the most common of them.
            case MODEL_ONLY -> "ShowRequest";
        };
    }

    /** The Go package of the request structs: the OpenAI middleware decodes into its own types first. */
    static String goPackage(BodyShape shape) {
        return switch (shape) {
            case OPENAI_CHAT, OPENAI_COMPLETION, OPENAI_EMBED -> "openai";
            default -> "api";
        };
    }

    /** {@code json: cannot unmarshal number into Go value of type api.GenerateRequest}. */
    static String topLevel(String jsonKind, BodyShape shape) {
        return "json: cannot unmarshal " + jsonKind + " into Go value of type " + goPackage(shape) + "."
                + structName(shape);
    }

    /** {@code json: cannot unmarshal string into Go struct field GenerateRequest.stream of type bool}. */
    static String field(String jsonValue, String struct, String fieldPath, String goType) {
        return "json: cannot unmarshal " + jsonValue + " into Go struct field " + struct + "." + fieldPath
                + " of type " + goType;
    }

    /** How Go names a JSON value's kind in its type errors. */
    static String kind(JsonToken t) {
        return switch (t) {
            case START_OBJECT -> "object";
            case START_ARRAY -> "array";
            case VALUE_STRING -> "string";
            case VALUE_TRUE, VALUE_FALSE -> "bool";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "number";
            default -> "null";
        };
    }

    /** The kind of a top-level value from its first byte (the body is already known to be valid JSON). */
    static String kind(int firstByte) {
        return switch (firstByte) {
            case '{' -> "object";
            case '[' -> "array";
            case '"' -> "string";
            case 't', 'f' -> "bool";
            case 'n' -> "null";
            default -> "number";
        };
    }
}

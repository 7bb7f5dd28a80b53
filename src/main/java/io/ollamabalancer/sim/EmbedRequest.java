package io.ollamabalancer.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the simulator needs from {@code /api/embed}, {@code /api/embeddings} or {@code /v1/embeddings}. Immutable.
 *
 * @param route      the endpoint
 * @param model      the model as sent
 * @param inputs     the texts to embed (empty: just load the model)
 * @param dimensions requested length, 0 for the model's own
 * @param base64     /v1 {@code encoding_format:"base64"}
 * @param keepAlive  {@code keep_alive} in ns, or null
 */
record EmbedRequest(Route route, String model, List<String> inputs, int dimensions, boolean base64, Long keepAlive) {

    /** Total prompt tokens, ⌈chars / 4⌉ per input (at least 1 each). */
    int promptTokens() {
        int total = 0;
        for (String s : inputs) {
            total += Math.max(1, (s.length() + 3) / 4);
        }
        return total;
    }

    /** Parses a body; throws {@link BadRequestException} with Ollama's text. */
    static EmbedRequest parse(Route route, byte[] body) {
        switch (route) {
            case EMBED: {
                RequestFields f = new RequestFields(JsonTree.parseObject(body, "api.EmbedRequest"), "EmbedRequest");
                return new EmbedRequest(route, f.string("model"), inputs(f.raw("input"), false),
                        f.integer("dimensions", 0), false, GoDuration.keepAlive(f.raw("keep_alive")));
            }
            case EMBEDDINGS: {
                RequestFields f = new RequestFields(JsonTree.parseObject(body, "api.EmbeddingRequest"),
                        "EmbeddingRequest");
                String prompt = f.string("prompt");
                return new EmbedRequest(route, f.string("model"), prompt.isEmpty() ? List.of() : List.of(prompt), 0,
                        false, GoDuration.keepAlive(f.raw("keep_alive")));
            }
            default: {
                RequestFields f = new RequestFields(JsonTree.parseObject(body, "openai.EmbedRequest"), "EmbedRequest");
                String encoding = f.string("encoding_format");
                if (!encoding.isEmpty() && !encoding.equalsIgnoreCase("float")
                        && !encoding.equalsIgnoreCase("base64")) {
                    throw new BadRequestException("Invalid value for 'encoding_format' = " + encoding
                            + ". Supported values: ['float', 'base64'].");
                }
                Object input = f.raw("input");
                if ("".equals(input)) {
                    input = List.of("");
                }
                if (input == null || input instanceof List && ((List<?>) input).isEmpty()) {
                    throw new BadRequestException("invalid input");
                }
                return new EmbedRequest(route, f.string("model"), inputs(input, true), f.integer("dimensions", 0),
                        encoding.toLowerCase(Locale.ROOT).equals("base64"), null);
            }
        }
    }

    private static List<String> inputs(Object input, boolean keepEmptyStrings) {
        List<String> out = new ArrayList<>();
        if (input == null) {
            return out;
        }
        if (input instanceof String) {
            String s = (String) input;
            if (!s.isEmpty() || keepEmptyStrings) {
                out.add(s);
            }
            return out;
        }
        if (input instanceof List) {
            for (Object o : (List<?>) input) {
                if (!(o instanceof String)) {
                    throw new BadRequestException("invalid input type");
                }
                out.add((String) o);
            }
            return out;
        }
        throw new BadRequestException("invalid input type");
    }
}

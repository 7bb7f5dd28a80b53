package io.ollamabalancer.replay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Generates a {@link Trace}: Poisson arrivals at one request per second (stretch it with {@link Trace#atRate}),
 * a model mix, a priority mix, log-normal prompt lengths of English-like text, a share of {@code num_predict} caps,
 * and log-normal answer lengths, those the simulated fleet will produce ({@link SimAnswers}). The same seed and
 * shape give the same trace, byte for byte. Stateless; each call owns its random stream.
 */
public final class TraceGenerator {
    private static final JsonFactory JSON = new JsonFactory();
    private static final int MIN_PROMPT_TOKENS = 8;
    private static final int MAX_PROMPT_TOKENS = 6000;
    private static final String[] WORDS = {
        "the", "a", "of", "to", "and", "in", "is", "it", "that", "for", "on", "with", "as", "was", "be", "this",
        "are", "by", "from", "at", "or", "an", "have", "not", "but", "what", "all", "can", "were", "when", "your",
        "there", "use", "how", "each", "which", "their", "time", "will", "way", "about", "many", "then", "them",
        "write", "would", "like", "these", "long", "make", "thing", "see", "him", "two", "has", "look", "more",
        "day", "could", "come", "did", "number", "sound", "most", "people", "over", "know", "water", "than", "call",
        "first", "who", "may", "down", "side", "been", "now", "find", "head", "stand", "own", "page", "should",
        "country", "found", "answer", "school", "grow", "study", "still", "learn", "plant", "cover", "food", "sun",
        "four", "between", "state", "keep", "eye", "never", "last", "let", "thought", "city", "tree", "cross",
        "farm", "hard", "start", "might", "story", "saw", "far", "sea", "draw", "left", "late", "run", "while",
        "press", "close", "night", "real", "life", "few", "north", "function", "variable", "database", "request",
        "server", "latency", "summarise", "explain", "translate", "paragraph", "customer", "invoice", "report",
    };
    private static final String[] ASKS = {
        "Summarise the following notes.", "Explain this to a new colleague.", "Answer the question below.",
        "Rewrite this more clearly.", "List the key points.", "Translate the text into plain English.",
    };

    private TraceGenerator() {
    }

    /** A trace of {@code shape} at one request per second, whose answers {@code answers} predicts. */
    public static Trace generate(String name, long seed, TraceShape shape, SimAnswers answers) {
        Random rnd = new Random(seed);
        List<String> models = new ArrayList<>(shape.modelMix().keySet());
        double total = 0;
        for (double w : shape.modelMix().values()) {
            total += w;
        }
        List<TraceRequest> out = new ArrayList<>(shape.requests());
        double t = 0;
        for (int i = 0; i < shape.requests(); i++) {
            t += -Math.log(1 - rnd.nextDouble());
            String model = pick(models, shape.modelMix(), total, rnd.nextDouble());
            double u = rnd.nextDouble();
            String priority = u < shape.highShare() ? "high" : u < shape.highShare() + shape.lowShare() ? "low"
                    : "normal";
            String route = rnd.nextDouble() < shape.chatShare() ? TraceRequest.CHAT : TraceRequest.GENERATE;
            int numPredict = rnd.nextDouble() < shape.capShare()
                    ? TraceShape.CAPS[rnd.nextInt(TraceShape.CAPS.length)] : -1;
            double tokens = shape.promptMedian() * Math.exp(shape.promptSigma() * rnd.nextGaussian());
            int promptTokens = (int) Math.max(MIN_PROMPT_TOKENS, Math.min(MAX_PROMPT_TOKENS, tokens));
            String text = text(rnd, i, promptTokens * 4);
            String body = body(route, model, text, numPredict);
            out.add(new TraceRequest(i, t, route, model, priority, numPredict,
                    SimAnswers.promptTokens(route, text.length()),
                    answers.outputTokens(body.getBytes(java.nio.charset.StandardCharsets.UTF_8), numPredict), body));
        }
        return new Trace(name, seed, 1.0, out);
    }

    private static String pick(List<String> models, Map<String, Double> mix, double total, double u) {
        double acc = 0;
        for (String m : models) {
            acc += mix.get(m) / total;
            if (u < acc) {
                return m;
            }
        }
        return models.get(models.size() - 1);
    }

    /** English-like text of about {@code chars} characters; the request number keeps every prompt distinct. */
    static String text(Random rnd, int id, int chars) {
        StringBuilder sb = new StringBuilder(chars + 16);
        sb.append(ASKS[rnd.nextInt(ASKS.length)]).append(" Ticket ").append(id).append(':');
        boolean capital = true;
        while (sb.length() < chars) {
            String w = WORDS[rnd.nextInt(WORDS.length)];
            sb.append(' ');
            if (capital) {
                sb.append(Character.toUpperCase(w.charAt(0))).append(w, 1, w.length());
                capital = false;
            } else {
                sb.append(w);
            }
            int p = rnd.nextInt(100);
            if (p < 7) {
                sb.append('.');
                capital = true;
            } else if (p < 12) {
                sb.append(',');
            }
        }
        return sb.toString();
    }

    static String body(String route, String model, String text, int numPredict) {
        StringWriter w = new StringWriter(text.length() + 128);
        try (JsonGenerator g = JSON.createGenerator(w)) {
            g.writeStartObject();
            g.writeStringField("model", model);
            if (TraceRequest.CHAT.equals(route)) {
                g.writeArrayFieldStart("messages");
                g.writeStartObject();
                g.writeStringField("role", "user");
                g.writeStringField("content", text);
                g.writeEndObject();
                g.writeEndArray();
            } else {
                g.writeStringField("prompt", text);
            }
            g.writeBooleanField("stream", true);
            if (numPredict >= 0) {
                g.writeObjectFieldStart("options");
                g.writeNumberField("num_predict", numPredict);
                g.writeEndObject();
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.toString();
    }
}

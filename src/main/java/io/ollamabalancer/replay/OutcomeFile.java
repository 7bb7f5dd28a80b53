package io.ollamabalancer.replay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes the outcomes of a replay as JSON lines, one {@link Outcome} per line
 * ({@code {"id":0,"priority":"normal","backend":"fast","e2e":0.41,"ttft":0.02,"queue":0.0,"error":null,…}}).
 * Files written before {@code loadSeconds} and {@code loadsStarted} existed are read with both at -1 (unknown);
 * unknown fields are skipped, so a newer file stays readable.
 * Stateless and thread-safe.
 */
public final class OutcomeFile {
    private static final JsonFactory JSON = new JsonFactory();

    private OutcomeFile() {
    }

    public static void write(List<Outcome> outcomes, Path file) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Outcome o : outcomes) {
                try (JsonGenerator g = JSON.createGenerator(w)) {
                    g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
                    g.writeStartObject();
                    g.writeNumberField("id", o.id());
                    g.writeStringField("priority", o.priority());
                    g.writeStringField("backend", o.backend());
                    g.writeNumberField("e2e", o.e2e());
                    g.writeNumberField("ttft", o.ttft());
                    g.writeNumberField("queue", o.queue());
                    g.writeStringField("error", o.error());
                    g.writeNumberField("estimatedPromptTokens", o.estimatedPromptTokens());
                    g.writeNumberField("promptEvalCount", o.promptEvalCount());
                    g.writeNumberField("evalCount", o.evalCount());
                    g.writeNumberField("sendLag", o.sendLag());
                    g.writeNumberField("loadSeconds", o.loadSeconds());
                    g.writeNumberField("loadsStarted", o.loadsStarted());
                    g.writeEndObject();
                }
                w.write('\n');
            }
        }
    }

    public static List<Outcome> read(Path file) throws IOException {
        List<Outcome> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (!line.isBlank()) {
                    out.add(parse(line, file, n));
                }
            }
        }
        return out;
    }

    private static Outcome parse(String line, Path file, int n) throws IOException {
        int id = -1;
        String priority = "normal";
        String backend = null;
        double e2e = -1;
        double ttft = -1;
        double queue = -1;
        String error = null;
        int estimate = -1;
        int prompt = -1;
        int eval = -1;
        double lag = 0;
        double loadSeconds = -1;
        int loadsStarted = -1;
        try (JsonParser p = JSON.createParser(line)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException(file + ":" + n + ": expected an object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                String text = t == JsonToken.VALUE_NULL ? null : p.getText();
                switch (field) {
                    case "id" -> id = p.getIntValue();
                    case "priority" -> priority = text;
                    case "backend" -> backend = text;
                    case "e2e" -> e2e = p.getDoubleValue();
                    case "ttft" -> ttft = p.getDoubleValue();
                    case "queue" -> queue = p.getDoubleValue();
                    case "error" -> error = text;
                    case "estimatedPromptTokens" -> estimate = p.getIntValue();
                    case "promptEvalCount" -> prompt = p.getIntValue();
                    case "evalCount" -> eval = p.getIntValue();
                    case "sendLag" -> lag = p.getDoubleValue();
                    case "loadSeconds" -> loadSeconds = p.getDoubleValue();
                    case "loadsStarted" -> loadsStarted = p.getIntValue();
                    default -> p.skipChildren();
                }
            }
        }
        return new Outcome(id, priority, backend, e2e, ttft, queue, error, estimate, prompt, eval, lag, loadSeconds,
                loadsStarted);
    }
}

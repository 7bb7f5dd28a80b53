package io.ollamabalancer.replay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes a {@link Trace} as one JSON document:
 * <pre>
 * {"name": "3:1:1 at 70%", "seed": 42, "rate": 12.5, "warmup": 100, "requests": [
 *   {"id": 0, "at": 0.081, "route": "chat", "model": "llama3.2:1b", "priority": "normal", "numPredict": -1,
 *    "promptTokens": 262, "outputTokens": 87, "body": "{\"model\":\"llama3.2:1b\",…}"}, …]}
 * </pre>
 * Unknown fields are skipped. Stateless and thread-safe.
 */
public final class TraceFile {
    private static final JsonFactory JSON = new JsonFactory();

    private TraceFile() {
    }

    public static void write(Trace trace, Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file); JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("name", trace.name());
            g.writeNumberField("seed", trace.seed());
            g.writeNumberField("rate", trace.rate());
            g.writeNumberField("warmup", trace.warmup());
            g.writeArrayFieldStart("requests");
            for (TraceRequest r : trace.requests()) {
                g.writeRaw('\n');
                g.writeStartObject();
                g.writeNumberField("id", r.id());
                g.writeNumberField("at", r.at());
                g.writeStringField("route", r.route());
                g.writeStringField("model", r.model());
                g.writeStringField("priority", r.priority());
                g.writeNumberField("numPredict", r.numPredict());
                g.writeNumberField("promptTokens", r.promptTokens());
                g.writeNumberField("outputTokens", r.outputTokens());
                g.writeStringField("body", r.body());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
            g.writeRaw('\n');
        }
    }

    /** @throws IOException on unreadable or malformed files (the message names the file) */
    public static Trace read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file); JsonParser p = JSON.createParser(in)) {
            expect(p.nextToken() == JsonToken.START_OBJECT, file, "expected an object");
            String name = "";
            long seed = 0;
            double rate = 1;
            int warmup = 0;
            List<TraceRequest> requests = new ArrayList<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                switch (field) {
                    case "name" -> name = p.getText();
                    case "seed" -> seed = p.getLongValue();
                    case "rate" -> rate = p.getDoubleValue();
                    case "warmup" -> warmup = p.getIntValue();
                    case "requests" -> {
                        expect(p.currentToken() == JsonToken.START_ARRAY, file, "\"requests\" must be an array");
                        while (p.nextToken() == JsonToken.START_OBJECT) {
                            requests.add(request(p, file));
                        }
                    }
                    default -> p.skipChildren();
                }
            }
            return new Trace(name, seed, rate, warmup, requests);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    private static TraceRequest request(JsonParser p, Path file) throws IOException {
        int id = -1;
        double at = 0;
        String route = null;
        String model = null;
        String priority = "normal";
        int numPredict = -1;
        int promptTokens = 0;
        int outputTokens = 0;
        String body = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            p.nextToken();
            switch (field) {
                case "id" -> id = p.getIntValue();
                case "at" -> at = p.getDoubleValue();
                case "route" -> route = p.getText();
                case "model" -> model = p.getText();
                case "priority" -> priority = p.getText();
                case "numPredict" -> numPredict = p.getIntValue();
                case "promptTokens" -> promptTokens = p.getIntValue();
                case "outputTokens" -> outputTokens = p.getIntValue();
                case "body" -> body = p.getText();
                default -> p.skipChildren();
            }
        }
        expect(id >= 0 && route != null && model != null && body != null, file,
                "a request needs id, route, model and body");
        return new TraceRequest(id, at, route, model, priority, numPredict, promptTokens, outputTokens, body);
    }

    private static void expect(boolean ok, Path file, String message) throws IOException {
        if (!ok) {
            throw new IOException(file + ": " + message);
        }
    }
}

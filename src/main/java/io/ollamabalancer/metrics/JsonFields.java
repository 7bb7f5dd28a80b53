package io.ollamabalancer.metrics;

import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.util.Collection;
import java.util.Map;
import java.util.TreeSet;

/**
 * Field shapes the balancer's JSON documents share (the status document, the dashboard's data), written with
 * jackson-core's streaming generator. Stateless.
 */
public final class JsonFields {
    private JsonFields() {
    }

    /** {@code "field": [...]}, the values sorted so documents compare line by line. */
    public static void stringArray(JsonGenerator g, String field, Collection<String> values) throws IOException {
        g.writeArrayFieldStart(field);
        for (String v : new TreeSet<>(values)) {
            g.writeString(v);
        }
        g.writeEndArray();
    }

    /** {@code "field": "value"}, or {@code null} when there is no value. */
    public static void nullableString(JsonGenerator g, String field, String value) throws IOException {
        if (value == null) {
            g.writeNullField(field);
        } else {
            g.writeStringField(field, value);
        }
    }

    /** {@code "field": {"key": count, ...}} with integer keys, in the map's order. */
    public static void intCounts(JsonGenerator g, String field, Map<Integer, Integer> counts) throws IOException {
        g.writeObjectFieldStart(field);
        for (Map.Entry<Integer, Integer> e : counts.entrySet()) {
            g.writeNumberField(Integer.toString(e.getKey()), e.getValue());
        }
        g.writeEndObject();
    }
}

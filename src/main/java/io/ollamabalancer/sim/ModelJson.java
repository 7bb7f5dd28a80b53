package io.ollamabalancer.sim;

import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.util.Locale;

/** The JSON pieces that describe a model in several answers ({@code details}, parameter counts). Stateless. */
final class ModelJson {
    private ModelJson() {
    }

    /** {@code "details":{parent_model, format, family, families, parameter_size, quantization_level}}. */
    static void details(JsonGenerator g, SimModel m) throws IOException {
        g.writeObjectFieldStart("details");
        g.writeStringField("parent_model", "");
        g.writeStringField("format", "gguf");
        g.writeStringField("family", m.family());
        g.writeArrayFieldStart("families");
        g.writeString(m.family());
        g.writeEndArray();
        g.writeStringField("parameter_size", m.parameterSize());
        g.writeStringField("quantization_level", m.quantization());
        g.writeEndObject();
    }

    /** {@code 1.2B} → 1 200 000 000; unknown formats give 0. */
    static long parameterCount(String parameterSize) {
        String s = parameterSize.trim().toUpperCase(Locale.ROOT);
        if (s.isEmpty()) {
            return 0;
        }
        double scale = 1;
        char unit = s.charAt(s.length() - 1);
        if (unit == 'B') {
            scale = 1e9;
        } else if (unit == 'M') {
            scale = 1e6;
        } else if (unit == 'K') {
            scale = 1e3;
        }
        try {
            String number = scale == 1 ? s : s.substring(0, s.length() - 1);
            return Math.round(Double.parseDouble(number) * scale);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The namespace part of a model name ({@code owned_by} on /v1): {@code library} unless one is given. */
    static String namespace(String name) {
        String n = name;
        int colon = n.lastIndexOf(':');
        int slash = n.lastIndexOf('/');
        if (colon > slash) {
            n = n.substring(0, colon);
            slash = n.lastIndexOf('/');
        }
        if (slash < 0) {
            return "library";
        }
        String head = n.substring(0, slash);
        int prev = head.lastIndexOf('/');
        return prev < 0 ? head : head.substring(prev + 1);
    }
}

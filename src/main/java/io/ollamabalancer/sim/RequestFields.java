package io.ollamabalancer.sim;

import java.util.List;
import java.util.Map;

/**
 * Typed access to a parsed request object, failing with Go's unmarshal texts, e.g.
 * {@code json: cannot unmarshal number into Go struct field GenerateRequest.model of type string}. Not thread-safe;
 * one per request.
 */
final class RequestFields {
    private final Map<String, Object> fields;
    private final String struct;

    /**
     * @param fields the parsed body
     * @param struct the Go struct Ollama decodes into, e.g. {@code GenerateRequest}, named in error messages
     */
    RequestFields(Map<String, Object> fields, String struct) {
        this.fields = fields;
        this.struct = struct;
    }

    Object raw(String key) {
        return fields.get(key);
    }

    boolean has(String key) {
        return fields.get(key) != null;
    }

    /** A string field; "" when absent or null. */
    String string(String key) {
        Object v = fields.get(key);
        if (v == null) {
            return "";
        }
        if (!(v instanceof String)) {
            throw mismatch(key, v, "string");
        }
        return (String) v;
    }

    /** A bool field; {@code dflt} when absent or null. */
    boolean bool(String key, boolean dflt) {
        Object v = fields.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof Boolean)) {
            throw mismatch(key, v, "bool");
        }
        return (Boolean) v;
    }

    /** An int field; {@code dflt} when absent or null. Floats are truncated as Ollama's option parsing does. */
    int integer(String key, int dflt) {
        Object v = fields.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof Number)) {
            throw mismatch(key, v, "int");
        }
        return clampToInt(((Number) v).doubleValue());
    }

    /** An object field; empty when absent or null. */
    RequestFields object(String key, String goType) {
        Object v = fields.get(key);
        if (v == null) {
            return new RequestFields(Map.of(), struct + "." + key);
        }
        if (!(v instanceof Map)) {
            throw mismatch(key, v, goType);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) v;
        return new RequestFields(m, struct + "." + key);
    }

    /** An array field; empty when absent or null. */
    List<Object> array(String key, String goType) {
        Object v = fields.get(key);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List)) {
            throw mismatch(key, v, goType);
        }
        @SuppressWarnings("unchecked")
        List<Object> l = (List<Object>) v;
        return l;
    }

    /** Options are a loose map: a non-number {@code num_predict} is ignored as Ollama ignores bad keys it can skip. */
    static int optionInt(RequestFields options, String key, int dflt) {
        Object v = options.raw(key);
        return v instanceof Number ? clampToInt(((Number) v).doubleValue()) : dflt;
    }

    BadRequestException mismatch(String key, Object value, String goType) {
        return new BadRequestException("json: cannot unmarshal " + JsonTree.kind(value) + " into Go struct field "
                + struct + "." + key + " of type " + goType);
    }

    private static int clampToInt(double d) {
        if (d >= Integer.MAX_VALUE) {
            return Integer.MAX_VALUE;
        }
        if (d <= Integer.MIN_VALUE) {
            return Integer.MIN_VALUE;
        }
        return (int) d;
    }
}

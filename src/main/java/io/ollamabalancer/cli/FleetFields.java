package io.ollamabalancer.cli;

import io.ollamabalancer.config.ConfigException;
import io.ollamabalancer.config.ConfigJson.Node;
import io.ollamabalancer.config.Sizes;

import java.util.Map;

/**
 * Typed access to the fields of one object of a fleet file, failing with a one-line {@link ConfigException} that
 * names the object ({@code fleet.json: simulator "gpu"}) and the field when a value has the wrong type.
 * Not thread-safe; one per object being read.
 */
final class FleetFields {
    private final Map<String, Node> fields;
    private final String at;

    FleetFields(Map<String, Node> fields, String at) {
        this.fields = fields;
        this.at = at;
    }

    String string(String name) {
        Node n = fields.get(name);
        if (!n.isString()) {
            throw wrong(name, "a string", n);
        }
        return n.text();
    }

    int integer(String name) {
        long v = whole(name);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw wrong(name, "a whole number", fields.get(name));
        }
        return (int) v;
    }

    long whole(String name) {
        Node n = fields.get(name);
        if (!n.isInteger()) {
            throw wrong(name, "a whole number", n);
        }
        try {
            return Long.parseLong(n.text());
        } catch (NumberFormatException e) {
            throw wrong(name, "a whole number", n);
        }
    }

    /** A byte count: a whole number, or a string with a binary unit such as {@code "8GB"} ({@link Sizes}). */
    long bytes(String name) {
        Node n = fields.get(name);
        if (n.isString()) {
            try {
                return Sizes.parseBytes(n.text());
            } catch (ConfigException e) {
                throw new ConfigException(at + ": \"" + name + "\": " + e.getMessage());
            }
        }
        if (!n.isInteger()) {
            throw wrong(name, "a byte count (e.g. 8589934592 or \"8GB\")", n);
        }
        return whole(name);
    }

    double number(String name) {
        Node n = fields.get(name);
        if (!n.isNumber()) {
            throw wrong(name, "a number", n);
        }
        return Double.parseDouble(n.text());
    }

    boolean bool(String name) {
        Node n = fields.get(name);
        if (!n.isBoolean()) {
            throw wrong(name, "true or false", n);
        }
        return Boolean.parseBoolean(n.text());
    }

    private ConfigException wrong(String name, String expected, Node found) {
        return new ConfigException(at + ": \"" + name + "\" must be " + expected + ", found " + found.shown());
    }
}

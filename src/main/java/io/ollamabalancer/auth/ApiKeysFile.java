package io.ollamabalancer.auth;

import io.ollamabalancer.config.ConfigException;
import io.ollamabalancer.config.ConfigJson;
import io.ollamabalancer.config.ConfigJson.Node;
import io.ollamabalancer.schedule.Priority;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads and validates the keys file ({@code --api-keys}):
 * <pre>
 * {"keys": [{"name": "team-a", "key": "sk-…", "requestsPerMinute": 60, "tokensPerMinute": 200000,
 *            "maxConcurrent": 4, "models": ["llama3.2:*"], "maxPriority": "normal", "weight": 1},
 *           {"name": "batch", "key": "sha256:&lt;hex of the key&gt;", "maxPriority": "low", "weight": 0.2}]}
 * </pre>
 * Every limit is optional. A plain key is hashed as it is read; only digests are kept. An unknown field is an error
 * (a misspelt limit must not silently mean "no limit"); {@code weight} (default 1) is the key's fair share.
 * Every problem is one {@link ConfigException} line that names the file and the entry (never the key). Stateless.
 */
public final class ApiKeysFile {
    private static final Set<String> FIELDS = Set.of("name", "key", "requestsPerMinute", "tokensPerMinute",
            "maxConcurrent", "models", "maxPriority", "weight");
    private static final String SHA256 = "sha256:";

    private ApiKeysFile() {
    }

    /** Loads {@code file}; the message of any failure starts with the file's name. */
    public static List<ApiKey> load(Path file) {
        String shown = String.valueOf(file.getFileName());
        return parse(ConfigJson.readFile(file, shown), shown);
    }

    /** Validates the bytes of a keys file; {@code shown} starts every message. */
    public static List<ApiKey> parse(byte[] json, String shown) {
        Node root = ConfigJson.parse(json, shown);
        if (root == null || !root.isObject() || !root.fields().containsKey("keys")) {
            throw new ConfigException(shown + ": expected an object with a \"keys\" array");
        }
        Node keys = root.fields().get("keys");
        if (!keys.isArray()) {
            throw new ConfigException(shown + ": \"keys\" must be an array, found " + keys.describe());
        }
        List<ApiKey> out = new ArrayList<>();
        Map<String, Integer> names = new HashMap<>();
        Map<String, Integer> digests = new HashMap<>();
        for (int i = 0; i < keys.items().size(); i++) {
            String where = shown + ": key #" + (i + 1);
            ApiKey k = entry(keys.items().get(i), where);
            Integer other = names.putIfAbsent(k.name(), i + 1);
            if (other != null) {
                throw new ConfigException(where + ": duplicate name \"" + k.name() + "\" (also key #" + other + ")");
            }
            other = digests.putIfAbsent(k.digestHex(), i + 1);
            if (other != null) {
                throw new ConfigException(where + " (\"" + k.name() + "\"): the same key as key #" + other);
            }
            out.add(k);
        }
        return List.copyOf(out);
    }

    private static ApiKey entry(Node n, String where) {
        if (!n.isObject()) {
            throw new ConfigException(where + ": expected an object, found " + n.describe());
        }
        for (String f : n.fields().keySet()) {
            if (!FIELDS.contains(f)) {
                throw new ConfigException(where + ": unknown field \"" + f + "\" (known: " + String.join(", ",
                        new java.util.TreeSet<>(FIELDS)) + ")");
            }
        }
        Node name = n.fields().get("name");
        if (name == null || !name.isString() || name.text().isBlank()) {
            throw new ConfigException(where + ": \"name\" is required (a non-empty string)");
        }
        String label = name.text().trim();
        where = where + " (\"" + label + "\")";
        Node key = n.fields().get("key");
        if (key == null || !key.isString() || key.text().isBlank()) {
            throw new ConfigException(where + ": \"key\" is required (the key, or sha256:<64 hex digits>)");
        }
        long rpm = count(n, "requestsPerMinute", where);
        long tpm = count(n, "tokensPerMinute", where);
        long concurrent = count(n, "maxConcurrent", where);
        if (concurrent > Integer.MAX_VALUE) {
            throw new ConfigException(where + ": \"maxConcurrent\" is too large");
        }
        Node weight = n.fields().get("weight");
        if (weight != null && (!weight.isNumber() || Double.parseDouble(weight.text()) <= 0)) {
            throw new ConfigException(where + ": \"weight\" must be a positive number, found " + weight.shown());
        }
        return new ApiKey(label, digest(key.text(), where), rpm, tpm, (int) concurrent, models(n, where),
                priority(n, where), weight == null ? 1.0 : Double.parseDouble(weight.text()));
    }

    private static long count(Node n, String field, String where) {
        Node v = n.fields().get(field);
        if (v == null || v.isNull()) {
            return 0;
        }
        if (!v.isInteger() || v.text().startsWith("-") || v.text().equals("0") || v.text().length() > 15) {
            throw new ConfigException(where + ": \"" + field + "\" must be a positive whole number, found "
                    + v.shown());
        }
        return Long.parseLong(v.text());
    }

    private static List<ModelGlob> models(Node n, String where) {
        Node v = n.fields().get("models");
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (!v.isArray()) {
            throw new ConfigException(where + ": \"models\" must be an array of names or globs (* and ?)");
        }
        List<ModelGlob> out = new ArrayList<>();
        for (Node m : v.items()) {
            if (!m.isString() || m.text().isBlank()) {
                throw new ConfigException(where + ": \"models\" holds " + m.shown() + ", expected a model name or "
                        + "glob");
            }
            out.add(new ModelGlob(m.text()));
        }
        return out;
    }

    private static Integer priority(Node n, String where) {
        Node v = n.fields().get("maxPriority");
        if (v == null || v.isNull()) {
            return null;
        }
        String t = v.text() == null ? "" : v.text().trim().toLowerCase(Locale.ROOT);
        switch (t) {
            case "high":
                return Priority.HIGH;
            case "normal":
                return Priority.NORMAL;
            case "low":
                return Priority.LOW;
            default:
                break;
        }
        if ((v.isInteger() || v.isString()) && t.matches("[+-]?\\d{1,3}")) {
            int p = Integer.parseInt(t);
            if (p >= Priority.MIN && p <= Priority.MAX) {
                return p;
            }
        }
        throw new ConfigException(where + ": \"maxPriority\" must be high, normal, low or a whole number from "
                + Priority.MIN + " to " + Priority.MAX + ", found " + v.shown());
    }

    private static String digest(String key, String where) {
        if (key.regionMatches(true, 0, SHA256, 0, SHA256.length())) {
            String hex = key.substring(SHA256.length()).trim().toLowerCase(Locale.ROOT);
            if (!hex.matches("[0-9a-f]{64}")) {
                throw new ConfigException(where + ": a \"sha256:\" key needs 64 hex digits after the prefix");
            }
            return hex;
        }
        return HexFormat.of().formatHex(sha256(key));
    }

    /** A log line's summary of a reload: the names added, removed and changed (names only, never keys). */
    public static String describeChange(List<ApiKey> before, List<ApiKey> after) {
        Map<String, ApiKey> old = new HashMap<>();
        before.forEach(k -> old.put(k.name(), k));
        List<String> added = new ArrayList<>();
        List<String> changed = new ArrayList<>();
        for (ApiKey k : after) {
            ApiKey o = old.remove(k.name());
            if (o == null) {
                added.add(k.name());
            } else if (!o.equals(k)) {
                changed.add(k.name());
            }
        }
        return after.size() + " key(s); added " + added + ", removed " + new java.util.TreeSet<>(old.keySet())
                + ", changed " + changed;
    }

    /** The SHA-256 of a key's UTF-8 bytes. */
    static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}

package io.ollamabalancer.config;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.ollamabalancer.config.ConfigJson.Node;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Loads and validates {@code containers.config.json}, the list of Ollama backends. Two shapes are accepted:
 * <pre>
 * [ {"name": "gpu-1", "url": "http://10.0.0.5:11434"}, ... ]                  (the original format)
 * {"backends": [ {"name": "gpu-1", "url": "http://10.0.0.5:11434", "maxConcurrency": 4,
 *                 "models": ["llama3.2:1b"], "enabled": true, "maxLoadedModels": 3, "vram": "24GB"}, ... ]}
 * </pre>
 * Per backend, {@code name} and {@code url} are required; {@code maxConcurrency} (whole number, at least 1,
 * default from settings), {@code models} (static list instead of asking {@code /api/tags}), {@code enabled}
 * (default true), {@code maxLoadedModels} (whole number, at least 1) and {@code vram} (a size such as
 * {@code "24GB"}, or a whole number of bytes) are optional; the last two override what the balancer learns from
 * {@code /api/ps} about how many models fit; {@code null} counts as absent. Unknown fields are ignored with a warning so that
 * newer files still load. Names must be unique; the URL must be {@code http[s]://host[:port][/prefix]} (https
 * backends are reached over TLS). Every mistake is a {@link ConfigException} with one line that
 * starts with the file name. Stateless and thread-safe.
 */
public final class BackendsFile {

    /**
     * The validated backends in file order, warnings worth logging (unknown fields, duplicate URLs...), and what the
     * object form declares about models ({@link FleetDeclarations#NONE} for the array form).
     */
    public record Loaded(List<BackendConfig> backends, List<String> warnings, FleetDeclarations declarations) {
        public Loaded {
            backends = List.copyOf(backends);
            warnings = List.copyOf(warnings);
        }

        public Loaded(List<BackendConfig> backends, List<String> warnings) {
            this(backends, warnings, FleetDeclarations.NONE);
        }
    }

    private static final Set<String> FIELDS = Set.of("name", "url", "maxConcurrency", "models", "enabled",
            "maxLoadedModels", "vram", "ensureModels");
    private static final Set<String> TOP_FIELDS = Set.of("backends", "ensureModels", "aliases");

    private BackendsFile() {
    }

    /**
     * @param file                  where to read
     * @param shownName             how the file is named in messages (usually the path the operator gave)
     * @param defaultMaxConcurrency slots of a backend without {@code maxConcurrency}
     */
    public static Loaded load(Path file, String shownName, int defaultMaxConcurrency) {
        return parse(ConfigJson.readFile(file, shownName), shownName, defaultMaxConcurrency);
    }

    /**
     * Writes backends in the object format, e.g. for the simulators {@code simulate --write-backends} started.
     * Static model lists, {@code enabled: false} and memory limits are written only when set.
     */
    public static void write(List<BackendConfig> backends, Path file) throws IOException {
        try (OutputStream os = Files.newOutputStream(file);
             JsonGenerator g = new JsonFactory().createGenerator(os).useDefaultPrettyPrinter()) {
            g.writeStartObject();
            g.writeArrayFieldStart("backends");
            for (BackendConfig b : backends) {
                g.writeStartObject();
                g.writeStringField("name", b.name());
                g.writeStringField("url", b.url().toString());
                g.writeNumberField("maxConcurrency", b.maxConcurrency());
                if (b.models() != null) {
                    g.writeArrayFieldStart("models");
                    for (String m : b.models()) {
                        g.writeString(m);
                    }
                    g.writeEndArray();
                }
                if (!b.enabled()) {
                    g.writeBooleanField("enabled", false);
                }
                if (b.maxLoadedModels() > 0) {
                    g.writeNumberField("maxLoadedModels", b.maxLoadedModels());
                }
                if (b.vramBytes() > 0) {
                    g.writeStringField("vram", Sizes.format(b.vramBytes()));
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
            g.writeRaw('\n');
        }
    }

    /** Validates the bytes of a backends file; {@code shownName} starts every message. */
    public static Loaded parse(byte[] json, String shownName, int defaultMaxConcurrency) {
        List<String> warnings = new ArrayList<>();
        Node root = ConfigJson.parse(json, shownName);
        List<Node> entries = entries(root, shownName, warnings);
        if (entries.isEmpty()) {
            throw new ConfigException(shownName + ": no backends defined");
        }
        List<BackendConfig> out = new ArrayList<>();
        Map<String, Integer> names = new HashMap<>();
        Map<String, String> urls = new HashMap<>();
        for (int i = 0; i < entries.size(); i++) {
            int number = i + 1;
            BackendConfig b = backend(entries.get(i), number, shownName, defaultMaxConcurrency, warnings);
            if (names.putIfAbsent(b.name(), number) != null) {
                throw new ConfigException(shownName + ": backend #" + number + ": duplicate name \"" + b.name()
                        + "\" (also backend #" + names.get(b.name()) + ")");
            }
            String key = b.url().getHost().toLowerCase(Locale.ROOT) + ":" + b.port() + b.pathPrefix();
            String other = urls.putIfAbsent(key, b.name());
            if (other != null) {
                warnings.add(shownName + ": backends \"" + other + "\" and \"" + b.name() + "\" have the same url "
                        + b.url());
            }
            out.add(b);
        }
        if (out.stream().noneMatch(BackendConfig::enabled)) {
            warnings.add(shownName + ": every backend is disabled");
        }
        return new Loaded(out, warnings, declarations(root, entries, out, shownName));
    }

    /** The backends array, from either accepted shape. */
    private static List<Node> entries(Node root, String file, List<String> warnings) {
        if (root == null) {
            throw new ConfigException(file + ": no backends defined (the file is empty)");
        }
        if (root.isArray()) {
            return root.items();
        }
        if (!root.isObject()) {
            throw new ConfigException(file + ": expected an array of backends or an object with a \"backends\""
                    + " array, found " + root.describe());
        }
        for (String field : root.fields().keySet()) {
            if (!TOP_FIELDS.contains(field)) {
                warnings.add(file + ": unknown field \"" + field + "\" ignored");
            }
        }
        Node backends = root.fields().get("backends");
        if (backends == null) {
            throw new ConfigException(file + ": no backends defined (expected a \"backends\" array)");
        }
        if (!backends.isArray()) {
            throw new ConfigException(file + ": \"backends\" must be an array, found " + backends.describe());
        }
        return backends.items();
    }

    private static BackendConfig backend(Node e, int number, String file, int defaultMaxConcurrency,
                                         List<String> warnings) {
        String at = file + ": backend #" + number;
        if (!e.isObject()) {
            throw new ConfigException(at + ": expected an object with \"name\" and \"url\", found " + e.describe());
        }
        Map<String, Node> f = e.fields();
        String name = name(f.get("name"), at);
        String label = file + ": backend \"" + name + "\"";
        URI url = url(f.get("url"), label, warnings);
        int slots = maxConcurrency(f.get("maxConcurrency"), label, defaultMaxConcurrency);
        List<String> models = models(f.get("models"), label, warnings);
        boolean enabled = enabled(f.get("enabled"), label);
        int maxLoaded = maxLoadedModels(f.get("maxLoadedModels"), label);
        long vram = vram(f.get("vram"), label);
        for (String field : f.keySet()) {
            if (!FIELDS.contains(field)) {
                warnings.add(label + ": unknown field \"" + field + "\" ignored");
            }
        }
        return new BackendConfig(name, url, slots, models, enabled, maxLoaded, vram);
    }

    private static String name(Node raw, String at) {
        if (raw == null || raw.isNull()) {
            throw new ConfigException(at + ": missing \"name\"");
        }
        if (!raw.isString()) {
            throw new ConfigException(at + ": \"name\" must be a string, found " + raw.describe());
        }
        String name = raw.text();
        if (name.isBlank()) {
            throw new ConfigException(at + ": \"name\" must not be empty");
        }
        if (!name.equals(name.strip()) || name.chars().anyMatch(Character::isISOControl)) {
            throw new ConfigException(at + ": name \"" + name.strip() + "\" must not have surrounding spaces or"
                    + " control characters");
        }
        return name;
    }

    private static URI url(Node raw, String label, List<String> warnings) {
        if (raw == null || raw.isNull()) {
            throw new ConfigException(label + ": missing \"url\"");
        }
        if (!raw.isString()) {
            throw new ConfigException(label + ": \"url\" must be a string, found " + raw.describe());
        }
        String text = raw.text().strip();
        String wrong = label + ": url \"" + text + "\" must be http://host:port or https://host:port";
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException ex) {
            throw new ConfigException(wrong);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        // https: reached over TLS, trusting the system's CAs or --backend-ca.
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.isOpaque()) {
            throw new ConfigException(wrong);
        }
        if (uri.getHost() == null) {
            if (uri.getRawAuthority() != null && uri.getRawAuthority().contains("_")) {
                throw new ConfigException(label + ": url \"" + text + "\" has a host name with '_', which is not a"
                        + " valid host name; use '-' or an IP address");
            }
            throw new ConfigException(wrong);
        }
        if (uri.getRawUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new ConfigException(wrong + " (no user, query or fragment)");
        }
        if (uri.getPort() == 0 || uri.getPort() > 65535) {
            throw new ConfigException(label + ": url \"" + text + "\" has port " + uri.getPort()
                    + " (expected 1-65535)");
        }
        if (uri.getPort() < 0) {
            warnings.add(label + ": url \"" + text + "\" has no port, using 80 (Ollama listens on 11434)");
        }
        return uri;
    }

    private static int maxConcurrency(Node raw, String label, int fallback) {
        return positiveInt(raw, label, "maxConcurrency", fallback);
    }

    /** A whole number of at least 1, {@code fallback} when absent; anything else stops start-up with one line. */
    private static int positiveInt(Node raw, String label, String field, int fallback) {
        if (raw == null || raw.isNull()) {
            return fallback;
        }
        if (raw.isInteger()) {
            try {
                int n = Integer.parseInt(raw.text());
                if (n >= 1) {
                    return n;
                }
            } catch (NumberFormatException ignored) {
                // too large for an int: reported below like any other bad value
            }
        }
        throw new ConfigException(label + ": \"" + field + "\" must be a whole number of at least 1, found "
                + raw.shown());
    }

    private static List<String> models(Node raw, String label, List<String> warnings) {
        if (raw == null || raw.isNull()) {
            return null;
        }
        List<String> out = modelNames(raw, label + ": \"models\"");
        if (out.isEmpty()) {
            warnings.add(label + ": \"models\" is empty, so it gets no model requests (omit it to ask /api/tags)");
        }
        return out;
    }

    /** {@code ensureModels} (fleet-wide and per backend) and {@code aliases} of the object form. */
    private static FleetDeclarations declarations(Node root, List<Node> entries, List<BackendConfig> backends,
                                                  String file) {
        if (!root.isObject()) {
            return FleetDeclarations.NONE;
        }
        List<String> fleetWide = modelNames(root.fields().get("ensureModels"), file + ": \"ensureModels\"");
        Set<String> known = new HashSet<>();
        fleetWide.forEach(m -> known.add(nameKey(m)));
        Map<String, List<String>> perBackend = new LinkedHashMap<>();
        for (int i = 0; i < backends.size(); i++) {
            BackendConfig b = backends.get(i);
            List<String> own = modelNames(entries.get(i).fields().get("ensureModels"),
                    file + ": backend \"" + b.name() + "\": \"ensureModels\"");
            if (!own.isEmpty()) {
                perBackend.put(b.name(), own);
            }
            own.forEach(m -> known.add(nameKey(m)));
            if (b.models() != null) {
                b.models().forEach(m -> known.add(nameKey(m)));
            }
        }
        return new FleetDeclarations(fleetWide, perBackend, aliases(root.fields().get("aliases"), known, file));
    }

    /** An optional array of model names ({@code null} counts as absent), without duplicates. */
    private static List<String> modelNames(Node raw, String label) {
        if (raw == null || raw.isNull()) {
            return List.of();
        }
        String wrong = label + " must be an array of model names";
        if (!raw.isArray()) {
            throw new ConfigException(wrong + ", found " + raw.describe());
        }
        Set<String> out = new LinkedHashSet<>();
        for (Node item : raw.items()) {
            if (!item.isString() || item.text().isBlank()) {
                throw new ConfigException(wrong + ", found " + (item.isString() ? "an empty name" : item.describe()));
            }
            out.add(item.text().strip());
        }
        return List.copyOf(out);
    }

    /**
     * {@code "aliases": {"chat": "llama3.2:3b"}}: each target must be a model the file itself declares (an
     * {@code ensureModels} entry or a backend's static {@code models}), so that an alias cannot silently point at
     * nothing; an alias may not name another alias, nor shadow a declared model.
     */
    private static Map<String, String> aliases(Node raw, Set<String> known, String file) {
        if (raw == null || raw.isNull()) {
            return Map.of();
        }
        if (!raw.isObject()) {
            throw new ConfigException(file + ": \"aliases\" must be an object of alias → model, found "
                    + raw.describe());
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, Node> e : raw.fields().entrySet()) {
            String alias = e.getKey().strip();
            Node target = e.getValue();
            String at = file + ": alias \"" + alias + "\"";
            if (alias.isEmpty()) {
                throw new ConfigException(file + ": \"aliases\" has an empty alias name");
            }
            if (target == null || !target.isString() || target.text().isBlank()) {
                throw new ConfigException(at + " must name a model, found "
                        + (target == null ? "nothing" : target.isString() ? "an empty name" : target.describe()));
            }
            String model = target.text().strip();
            if (raw.fields().keySet().stream().anyMatch(a -> nameKey(a).equals(
                    nameKey(model)))) {
                throw new ConfigException(at + " points at \"" + model + "\", another alias (aliases do not chain)");
            }
            if (!known.contains(nameKey(model))) {
                throw new ConfigException(at + " points at unknown model \"" + model + "\" (declare it in"
                        + " \"ensureModels\" or a backend's \"models\")");
            }
            if (known.contains(nameKey(alias))) {
                throw new ConfigException(at + " has the name of a declared model; pick another alias name");
            }
            out.put(alias, model);
        }
        return out;
    }

    /**
     * A model name compared as Ollama compares names (case-insensitive, {@code :latest} implied); enough to check
     * aliases against declared names. (backend.ModelNames does the full job at run time; config sits below it.)
     */
    private static String nameKey(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        return n.lastIndexOf(':') > n.lastIndexOf('/') ? n : n + ":latest";
    }

    private static boolean enabled(Node raw, String label) {
        if (raw == null || raw.isNull()) {
            return true;
        }
        if (raw.isBoolean()) {
            return Boolean.parseBoolean(raw.text());
        }
        throw new ConfigException(label + ": \"enabled\" must be true or false, found " + raw.shown());
    }

    /** {@code maxLoadedModels}: 0 when absent (learned), else a whole number of at least 1. */
    private static int maxLoadedModels(Node raw, String label) {
        return positiveInt(raw, label, "maxLoadedModels", 0);
    }

    /** {@code vram}: 0 when absent (learned), else a size string ({@code "24GB"}) or a whole number of bytes. */
    private static long vram(Node raw, String label) {
        if (raw == null || raw.isNull()) {
            return 0;
        }
        String wrong = label + ": \"vram\" must be a size such as \"24GB\" or a whole number of bytes, found "
                + raw.shown();
        if (!raw.isString() && !raw.isInteger()) {
            throw new ConfigException(wrong);
        }
        long bytes;
        try {
            bytes = Sizes.parseBytes(raw.text());
        } catch (ConfigException e) {
            throw new ConfigException(wrong);
        }
        if (bytes < 1) {
            throw new ConfigException(wrong);
        }
        return bytes;
    }
}

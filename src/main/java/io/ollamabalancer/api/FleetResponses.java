package io.ollamabalancer.api;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Merges the fleet's answers to the aggregate endpoints into the one answer a single Ollama would give, and reads
 * the fields the balancer itself needs from them. Pure functions of byte arrays (jackson-core streaming only):
 * stateless and thread-safe; inputs are never modified and every result is a fresh array the caller owns.
 *
 * <p>Each model object is passed through as the exact bytes its backend sent. Merge rules:
 * <ul>
 *   <li>{@code /api/tags}: union by {@code name} (case-insensitive, as Ollama matches names); when several backends
 *       have a model, the entry with the newest {@code modified_at} wins (ties: the earlier body). The list is
 *       ordered newest first, as Ollama orders it.</li>
 *   <li>{@code /api/ps}: every entry is kept, one per backend that has the model loaded, because each is a real
 *       runner holding real memory; {@code ollama ps} then shows one line per copy. Ordered by {@code expires_at},
 *       latest first, as Ollama orders it.</li>
 *   <li>{@code /v1/models}: union by {@code id} (case-insensitive), newest {@code created} first and winning;
 *       {@code "data":null} when empty, as Ollama writes it.</li>
 *   <li>{@code /api/version}: the lowest semantic version in the fleet, the safe promise for clients.</li>
 * </ul>
 * A body that is not the expected JSON is skipped whole (logged at DEBUG) and never breaks the merge.
 */
public final class FleetResponses {
    private static final Logger LOG = LoggerFactory.getLogger(FleetResponses.class);
    /** What {@link #lowestVersion} answers when no backend gave a usable version: Ollama's own dev-build version. */
    public static final String UNKNOWN_VERSION = "0.0.0";

    private static final byte[] MODELS_OPEN = "{\"models\":[".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] MODELS_CLOSE = "]}".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DATA_OPEN = "{\"object\":\"list\",\"data\":[".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DATA_CLOSE = "]}".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DATA_NULL = "{\"object\":\"list\",\"data\":null}".getBytes(StandardCharsets.US_ASCII);

    private FleetResponses() {
    }

    /** {@code {"models":[…]}}: the union of every backend's {@code /api/tags} models. */
    public static byte[] mergeTags(List<byte[]> bodies) {
        List<Ranked> all = new ArrayList<>();
        for (int b = 0; b < bodies.size(); b++) {
            for (ModelListReader.Entry e : entries(bodies.get(b), b, "models", "name", "model", "modified_at")) {
                all.add(Ranked.at(e, firstNonEmpty(e.value(0), e.value(1)), e.value(2)));
            }
        }
        return join(MODELS_OPEN, newestFirstUnique(all), MODELS_CLOSE);
    }

    /** {@code {"models":[…]}}: every backend's loaded models, latest {@code expires_at} first. */
    public static byte[] mergePs(List<byte[]> bodies) {
        List<Ranked> all = new ArrayList<>();
        for (int b = 0; b < bodies.size(); b++) {
            for (ModelListReader.Entry e : entries(bodies.get(b), b, "models", "expires_at")) {
                all.add(Ranked.at(e, null, e.value(0)));
            }
        }
        all.sort(NEWEST_FIRST);
        return join(MODELS_OPEN, all, MODELS_CLOSE);
    }

    /** {@code {"object":"list","data":[…]}} (or {@code "data":null}): the union of every backend's {@code /v1/models}. */
    public static byte[] mergeV1Models(List<byte[]> bodies) {
        List<Ranked> all = new ArrayList<>();
        for (int b = 0; b < bodies.size(); b++) {
            for (ModelListReader.Entry e : entries(bodies.get(b), b, "data", "id", "created")) {
                all.add(new Ranked(e, e.value(0), parseLong(e.value(1), Long.MIN_VALUE), 0));
            }
        }
        List<Ranked> merged = newestFirstUnique(all);
        return merged.isEmpty() ? DATA_NULL.clone() : join(DATA_OPEN, merged, DATA_CLOSE);
    }

    /**
     * {@code {"version":"…"}} with the lowest semantic version among the bodies, spelled as its backend spelled
     * it; unparsable bodies and versions are ignored, and with none left the answer is {@link #UNKNOWN_VERSION}.
     */
    public static byte[] lowestVersion(List<byte[]> versionBodies) {
        OllamaVersion lowest = null;
        for (int b = 0; b < versionBodies.size(); b++) {
            OllamaVersion v;
            try {
                v = OllamaVersion.parse(parseVersion(versionBodies.get(b)));
            } catch (MalformedResponseException e) {
                LOG.debug("skipping /api/version body {}: {}", b, e.getMessage());
                continue;
            }
            if (v != null && (lowest == null || v.compareTo(lowest) < 0)) {
                lowest = v;
            }
        }
        return versionBody(lowest == null ? UNKNOWN_VERSION : lowest.text());
    }

    /** {@code {"version":"<version>"}}, escaped like Go. */
    public static byte[] versionBody(String version) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(32);
        try (JsonGenerator g = GoJsonEscapes.FACTORY.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("version", version);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The {@code version} of an {@code /api/version} body, {@code null} if it has none. */
    public static String parseVersion(byte[] versionBody) {
        return ModelListReader.topLevelString(versionBody, "version");
    }

    /** The model names of an {@code /api/tags} body ({@code name}, else {@code model}), in the backend's order. */
    public static List<String> parseModelNames(byte[] tagsBody) {
        List<String> names = new ArrayList<>();
        for (ModelListReader.Entry e : ModelListReader.read(tagsBody, "models", "name", "model")) {
            String name = firstNonEmpty(e.value(0), e.value(1));
            if (name != null) {
                names.add(name);
            }
        }
        return names;
    }

    /**
     * The file size of each model of an {@code /api/tags} body by name ({@code name}, else {@code model}); models
     * without a usable {@code size} are left out.
     */
    public static Map<String, Long> parseModelSizes(byte[] tagsBody) {
        Map<String, Long> sizes = new LinkedHashMap<>();
        for (ModelListReader.Entry e : ModelListReader.read(tagsBody, "models", "name", "model", "size")) {
            String name = firstNonEmpty(e.value(0), e.value(1));
            long size = parseLong(e.value(2), 0);
            if (name != null && size > 0) {
                sizes.put(name, size);
            }
        }
        return sizes;
    }

    /** The loaded models of an {@code /api/ps} body, in the backend's order; entries without a name are dropped. */
    public static List<LoadedModel> parseLoadedModels(byte[] psBody) {
        List<LoadedModel> models = new ArrayList<>();
        for (ModelListReader.Entry e : ModelListReader.read(psBody, "models", "name", "model", "size_vram",
                "expires_at", "context_length", "size")) {
            String name = firstNonEmpty(e.value(0), e.value(1));
            if (name != null) {
                long contextLength = parseLong(e.value(4), 0);
                models.add(new LoadedModel(name, Math.max(0, parseLong(e.value(2), 0)), e.value(3),
                        (int) Math.max(0, Math.min(contextLength, Integer.MAX_VALUE)),
                        Math.max(0, parseLong(e.value(5), 0))));
            }
        }
        return models;
    }

    /**
     * An entry with its merge key (lower-cased) and its time as epoch seconds plus nanos; seconds are
     * {@code Long.MIN_VALUE} when the time is missing or unparsable, which sorts it last. Seconds rather than
     * nanos because "keep forever" lies in the year 2318, past the range of epoch nanos in a long.
     */
    private record Ranked(ModelListReader.Entry entry, String key, long seconds, int nanos) {
        Ranked {
            key = key == null ? null : key.toLowerCase(Locale.ROOT);
        }

        static Ranked at(ModelListReader.Entry entry, String key, String rfc3339) {
            if (rfc3339 != null) {
                try {
                    OffsetDateTime t = OffsetDateTime.parse(rfc3339);
                    return new Ranked(entry, key, t.toEpochSecond(), t.getNano());
                } catch (DateTimeParseException e) {
                    // sorts last, below every parsable time
                }
            }
            return new Ranked(entry, key, Long.MIN_VALUE, 0);
        }
    }

    private static final Comparator<Ranked> NEWEST_FIRST =
            Comparator.comparingLong(Ranked::seconds).thenComparingInt(Ranked::nanos).reversed();

    private static List<ModelListReader.Entry> entries(byte[] body, int index, String listField, String... fields) {
        try {
            return ModelListReader.read(body, listField, fields);
        } catch (MalformedResponseException e) {
            LOG.debug("skipping malformed body {} while merging \"{}\": {}", index, listField, e.getMessage());
            return List.of();
        }
    }

    /** Sorted newest first (a stable sort, so ties keep body order), keeping the first entry of each key. */
    private static List<Ranked> newestFirstUnique(List<Ranked> all) {
        all.sort(NEWEST_FIRST);
        Set<String> seen = new HashSet<>();
        List<Ranked> unique = new ArrayList<>(all.size());
        for (Ranked r : all) {
            if (r.key() == null || seen.add(r.key())) {
                unique.add(r);
            }
        }
        return unique;
    }

    private static byte[] join(byte[] open, List<Ranked> entries, byte[] close) {
        int size = open.length + close.length + entries.size();
        for (Ranked r : entries) {
            size += r.entry().end() - r.entry().start();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(size);
        out.writeBytes(open);
        for (int i = 0; i < entries.size(); i++) {
            if (i > 0) {
                out.write(',');
            }
            ModelListReader.Entry e = entries.get(i).entry();
            out.write(e.source(), e.start(), e.end() - e.start());
        }
        out.writeBytes(close);
        return out.toByteArray();
    }

    private static long parseLong(String number, long fallback) {
        if (number == null) {
            return fallback;
        }
        try {
            return Long.parseLong(number);
        } catch (NumberFormatException e) {
            try {
                return (long) Double.parseDouble(number);
            } catch (NumberFormatException e2) {
                return fallback;
            }
        }
    }

    private static String firstNonEmpty(String a, String b) {
        if (a != null && !a.isEmpty()) {
            return a;
        }
        return b != null && !b.isEmpty() ? b : null;
    }
}

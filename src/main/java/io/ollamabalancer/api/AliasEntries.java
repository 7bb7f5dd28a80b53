package io.ollamabalancer.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.ollamabalancer.request.ModelFieldRewrite;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Lists model aliases in the model lists ({@code /api/tags}, {@code /v1/models}): for each alias whose target some
 * backend listed, a copy of the target's entry with its name fields ({@code name} and {@code model}, or {@code id})
 * set to the alias, and every other field (size, digest, details) the target's. The copies come as one more body of
 * the backends' shape, to be merged with theirs by {@link FleetResponses}.
 *
 * <p>Pure functions of byte arrays: stateless and thread-safe; the result is a fresh array the caller owns.
 */
public final class AliasEntries {
    private AliasEntries() {
    }

    /** Alias entries for an {@code /api/tags} answer, or {@code null} when no alias has a listed target. */
    public static byte[] forTags(List<byte[]> bodies, Map<String, String> aliases, UnaryOperator<String> key) {
        return build(bodies, aliases, key, "models", Set.of("name", "model"), "{\"models\":[");
    }

    /** Alias entries for a {@code /v1/models} answer, or {@code null} when no alias has a listed target. */
    public static byte[] forV1Models(List<byte[]> bodies, Map<String, String> aliases, UnaryOperator<String> key) {
        return build(bodies, aliases, key, "data", Set.of("id"), "{\"object\":\"list\",\"data\":[");
    }

    private static byte[] build(List<byte[]> bodies, Map<String, String> aliases, UnaryOperator<String> key,
                                String listField, Set<String> nameFields, String open) {
        if (aliases.isEmpty()) {
            return null;
        }
        String nameField = nameFields.contains("id") ? "id" : "name";
        List<byte[]> copies = new ArrayList<>();
        for (Map.Entry<String, String> alias : aliases.entrySet()) {
            String target = key.apply(alias.getValue());
            byte[] found = null;
            for (byte[] body : bodies) {
                for (ModelListReader.Entry e : readable(body, listField, nameField)) {
                    if (e.value(0) != null && key.apply(e.value(0)).equals(target)) {
                        found = Arrays.copyOfRange(e.source(), e.start(), e.end());
                    }
                }
            }
            if (found != null) {
                copies.add(renamed(found, nameFields, alias.getKey()));
            }
        }
        if (copies.isEmpty()) {
            return null;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(open.getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < copies.size(); i++) {
            if (i > 0) {
                out.write(',');
            }
            out.writeBytes(copies.get(i));
        }
        out.writeBytes("]}".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    private static List<ModelListReader.Entry> readable(byte[] body, String listField, String nameField) {
        try {
            return ModelListReader.read(body, listField, nameField);
        } catch (MalformedResponseException e) {
            return List.of(); // the merge skips (and logs) such a body too
        }
    }

    /** {@code object} with the string values of its top-level {@code fields} replaced by {@code value}. */
    private static byte[] renamed(byte[] object, Set<String> fields, String value) {
        byte[] quoted = ModelFieldRewrite.jsonString(value);
        ByteArrayOutputStream out = new ByteArrayOutputStream(object.length + 2 * quoted.length);
        int copied = 0;
        try (JsonParser p = ModelListReader.FACTORY.createParser(object)) {
            p.nextToken();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (t == JsonToken.VALUE_STRING && fields.contains(field)) {
                    int start = (int) p.currentTokenLocation().getByteOffset();
                    p.getText(); // finishes the token, so the location is past its closing quote
                    int end = (int) p.currentLocation().getByteOffset();
                    out.write(object, copied, start - copied);
                    out.writeBytes(quoted);
                    copied = end;
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("an entry read once already", e);
        }
        out.write(object, copied, object.length - copied);
        return out.toByteArray();
    }
}

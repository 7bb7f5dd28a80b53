package io.ollamabalancer.request;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The blob digests an {@code /api/create} body names: the string values of its top-level {@code files} and
 * {@code adapters} objects (file name → {@code sha256:…}), read in one streaming pass with jackson-core; every other
 * field is skipped as tokens. Field names match case-insensitively, as Go's decoder matches them. Only routing uses
 * this: a body it cannot read names no digests, and the backend answers for it. Stateless and thread-safe; the
 * caller's stream is read, not closed.
 */
public final class BlobReferences {
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxStringLength(Integer.MAX_VALUE)
                    .maxNameLength(Integer.MAX_VALUE)
                    .maxNumberLength(Integer.MAX_VALUE)
                    .maxNestingDepth(GoJsonSyntax.MAX_DEPTH)
                    .build())
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
            .build();

    private BlobReferences() {
    }

    /** The digests in order of appearance; empty when there are none or the body is not a readable JSON object. */
    public static List<String> in(InputStream body) {
        try (JsonParser p = FACTORY.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return List.of();
            }
            List<String> digests = new ArrayList<>(2);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (value == JsonToken.START_OBJECT
                        && (name.equalsIgnoreCase("files") || name.equalsIgnoreCase("adapters"))) {
                    readValues(p, digests);
                } else {
                    p.skipChildren();
                }
            }
            return digests;
        } catch (IOException malformed) {
            return List.of();
        }
    }

    private static void readValues(JsonParser p, List<String> into) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            if (p.nextToken() == JsonToken.VALUE_STRING) {
                into.add(p.getText());
            } else {
                p.skipChildren();
            }
        }
    }
}

package io.ollamabalancer.request;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Replaces the model a request body names (the value of its top-level {@code model} field, else of {@code name},
 * matched case-insensitively and the last one winning, as {@link RequestFields} reads it) with another model name,
 * leaving every other byte as the client sent it. Used for aliases: the body says {@code "chat"}, the backend must
 * see {@code "llama3.2:3b"}. The value's byte range comes from jackson-core's streaming parser, so escapes in the old
 * value and anything around it are handled by the parser, not guessed.
 *
 * <p>Stateless and thread-safe. Buffers: {@code body} is only read (its indexes are untouched) and stays owned by the
 * caller; the result is a new buffer from {@code body}'s allocator that the caller owns.
 */
public final class ModelFieldRewrite {
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE)
                    .maxNestingDepth(GoJsonSyntax.MAX_DEPTH).build())
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .build();

    private ModelFieldRewrite() {
    }

    /**
     * A copy of {@code body} whose model value is {@code model}, or {@code null} when the body names no model as a
     * string (nothing to rewrite; the caller forwards it as it is). The body was already parsed, so it is valid JSON.
     */
    public static ByteBuf rewrite(ByteBuf body, String model) {
        long[] range = valueRange(body);
        if (range == null) {
            return null;
        }
        int start = (int) range[0];
        int end = (int) range[1];
        byte[] quoted = jsonString(model);
        int from = body.readerIndex();
        ByteBuf out = body.alloc().buffer(body.readableBytes() - (end - start) + quoted.length);
        out.writeBytes(body, from, start);
        out.writeBytes(quoted);
        out.writeBytes(body, from + end, body.readableBytes() - end);
        return out;
    }

    /** {@code [start, end)} of the model string value (quotes included), relative to the reader index. */
    private static long[] valueRange(ByteBuf body) {
        long[] model = null;
        long[] name = null;
        try (JsonParser p = FACTORY.createParser((InputStream) new ByteBufInputStream(body.duplicate()))) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (t == JsonToken.VALUE_STRING && (field.equalsIgnoreCase("model") || field.equalsIgnoreCase("name"))) {
                    long start = p.currentTokenLocation().getByteOffset();
                    p.getText(); // finishes the token: the location below is then just past its closing quote
                    long[] range = {start, p.currentLocation().getByteOffset()};
                    if (field.equalsIgnoreCase("model")) {
                        model = range;
                    } else {
                        name = range;
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("body was parsed once already", e);
        }
        return model != null ? model : name;
    }

    /** {@code value} as a JSON string: quoted and escaped, in UTF-8. */
    public static byte[] jsonString(String value) {
        byte[] inner = JsonStringEncoder.getInstance().quoteAsUTF8(value);
        byte[] out = new byte[inner.length + 2];
        out[0] = '"';
        System.arraycopy(inner, 0, out, 1, inner.length);
        out[out.length - 1] = '"';
        return out;
    }
}

package io.ollamabalancer.request;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Turns a request body into an {@link InferenceRequest} in one streaming pass with jackson-core, reading only the
 * fields routing and cost estimation need. Large values nobody reads (base64 images, tool schemas, formats) are
 * skipped as tokens and never become strings.
 *
 * <p>Bodies Ollama would refuse with 400 raise {@link MalformedRequestException} carrying Ollama's own text:
 * {@code missing request body} for an empty body ({@code EOF} on {@code /v1}), Go's {@code encoding/json}
 * wording for syntax errors and for type errors in the fields read here ({@code json: cannot unmarshal string
 * into Go struct field GenerateRequest.stream of type bool}). A top-level {@code null} decodes like {@code {}},
 * as in Go. The texts are those of Go's {@code json.Unmarshal}: truncation reads
 * {@code unexpected end of JSON input} and anything after the top-level value is an error. (Ollama reads bodies
 * with a {@code json.Decoder}, which says {@code unexpected EOF} and ignores trailing bytes; a proxy that refuses
 * such bodies is the safer choice.) Semantic checks Ollama makes after decoding (an empty model, a bad
 * {@code keep_alive} duration, wrong option types, invalid base64 images) are left to the backend, which words
 * them itself.
 *
 * <p>Thread-safe: one instance, with its one {@link JsonFactory}, serves every event loop. The parser never
 * keeps, releases or moves the caller's buffer; positions and limits are left as they were.
 */
public final class RequestJsonParser {
    static final String MISSING_BODY = "missing request body";
    /** Direct bodies up to this size are parsed from a heap copy. */
    static final int COPIED_BODY = 16 * 1024;

    private final JsonFactory factory;

    public RequestJsonParser() {
        // The body is already bounded by the server's size limit; inside it Go has no string, name or number
        // limits, so neither may we. Nesting matches Go's own limit so that both refuse the same bodies.
        StreamReadConstraints constraints = StreamReadConstraints.builder()
                .maxStringLength(Integer.MAX_VALUE)
                .maxNameLength(Integer.MAX_VALUE)
                .maxNumberLength(Integer.MAX_VALUE)
                .maxNestingDepth(GoJsonSyntax.MAX_DEPTH)
                .build();
        this.factory = JsonFactory.builder()
                .streamReadConstraints(constraints)
                // Field names come from clients: do not grow the JVM's string pool with them.
                .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
                .build();
    }

    /** Parses {@code body[offset, offset+length)}. */
    public InferenceRequest parse(byte[] body, int offset, int length, BodyShape shape)
            throws MalformedRequestException {
        return parse(new ArrayBody(body, offset, length), shape);
    }

    /**
     * Parses the buffer's remaining bytes (heap or direct) without changing its position. A small direct body is
     * copied to the heap first: jackson then reads the array itself, which costs less than setting up a stream
     * parser for a body of a few hundred bytes; a large one (images) is streamed, not copied.
     */
    public InferenceRequest parse(ByteBuffer body, BodyShape shape) throws MalformedRequestException {
        if (body.hasArray()) {
            return parse(body.array(), body.arrayOffset() + body.position(), body.remaining(), shape);
        }
        if (body.remaining() <= COPIED_BODY) {
            byte[] copy = new byte[body.remaining()];
            body.duplicate().get(copy);
            return parse(copy, 0, copy.length, shape);
        }
        return parse(new BufferBody(body.slice()), shape);
    }

    private InferenceRequest parse(Body body, BodyShape shape) throws MalformedRequestException {
        int first = body.firstNonSpace();
        if (first < 0) {
            // The OpenAI middleware decodes the body itself and reports Go's io.EOF as it is.
            boolean openAi = GoTypeErrors.goPackage(shape).equals("openai");
            throw new MalformedRequestException(openAi ? "EOF" : MISSING_BODY);
        }
        if (first != '{') {
            return parseNonObject(body, first, shape);
        }
        try {
            try (JsonParser p = body.open(factory)) {
                return read(p, shape, body);
            } catch (JsonProcessingException refused) {
                String goError = body.syntaxError();
                if (goError != null) {
                    throw new MalformedRequestException(goError);
                }
                // Go accepted what jackson refused: invalid UTF-8 inside a string, which Go turns into U+FFFD.
                // Decoding with replacement does the same; this is the rare path, so the copy is fine.
                try (JsonParser p = factory.createParser(body.decodeReplacingMalformed())) {
                    return read(p, shape, body);
                } catch (JsonProcessingException stillRefused) {
                    throw new MalformedRequestException(stillRefused.getOriginalMessage());
                }
            }
        } catch (JsonProcessingException e) {
            throw new MalformedRequestException(e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("in-memory body cannot fail to read", e);
        }
    }

    private static InferenceRequest read(JsonParser p, BodyShape shape, Body body)
            throws IOException, MalformedRequestException {
        p.nextToken(); // START_OBJECT, checked by the caller
        RequestFields fields = new RequestFields(shape);
        fields.readObject(p);
        JsonToken after = p.nextToken();
        if (after != null) { // a second top-level value, which jackson allows and Go does not
            String goError = body.syntaxError();
            throw new MalformedRequestException(goError != null ? goError : "invalid character after top-level value");
        }
        return fields.result();
    }

    /** {@code null} is an empty request; another valid non-object is Go's top-level type error. */
    private static InferenceRequest parseNonObject(Body body, int first, BodyShape shape)
            throws MalformedRequestException {
        String goError = body.syntaxError();
        if (goError != null) {
            throw new MalformedRequestException(goError);
        }
        if (first == 'n') {
            return new RequestFields(shape).result();
        }
        throw new MalformedRequestException(GoTypeErrors.topLevel(GoTypeErrors.kind(first), shape));
    }

    /** The two kinds of memory a body arrives in. */
    private abstract static class Body {
        abstract int length();

        abstract int byteAt(int i);

        abstract JsonParser open(JsonFactory f) throws IOException;

        abstract String syntaxError();

        abstract String decodeReplacingMalformed();

        /** The first byte that is not JSON whitespace, or -1 if there is none. */
        final int firstNonSpace() {
            for (int i = 0, n = length(); i < n; i++) {
                int c = byteAt(i);
                if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
                    return c;
                }
            }
            return -1;
        }
    }

    private static final class ArrayBody extends Body {
        private final byte[] bytes;
        private final int offset;
        private final int length;

        ArrayBody(byte[] bytes, int offset, int length) {
            if (offset < 0 || length < 0 || offset + length > bytes.length) {
                throw new IndexOutOfBoundsException("offset " + offset + ", length " + length + ", array "
                        + bytes.length);
            }
            this.bytes = bytes;
            this.offset = offset;
            this.length = length;
        }

        @Override
        int length() {
            return length;
        }

        @Override
        int byteAt(int i) {
            return bytes[offset + i] & 0xFF;
        }

        @Override
        JsonParser open(JsonFactory f) throws IOException {
            return f.createParser(bytes, offset, length);
        }

        @Override
        String syntaxError() {
            return GoJsonSyntax.firstError(bytes, offset, length);
        }

        @Override
        String decodeReplacingMalformed() {
            return new String(bytes, offset, length, StandardCharsets.UTF_8);
        }
    }

    /** A direct buffer: streamed to jackson through a tiny InputStream rather than copied. */
    private static final class BufferBody extends Body {
        private final ByteBuffer buffer; // a private slice: position 0, limit = body length

        BufferBody(ByteBuffer buffer) {
            this.buffer = buffer;
        }

        @Override
        int length() {
            return buffer.limit();
        }

        @Override
        int byteAt(int i) {
            return buffer.get(i) & 0xFF;
        }

        @Override
        JsonParser open(JsonFactory f) throws IOException {
            return f.createParser(new BufferInputStream(buffer.duplicate()));
        }

        @Override
        String syntaxError() {
            byte[] copy = copy();
            return GoJsonSyntax.firstError(copy, 0, copy.length);
        }

        @Override
        String decodeReplacingMalformed() {
            return new String(copy(), StandardCharsets.UTF_8);
        }

        private byte[] copy() {
            byte[] copy = new byte[buffer.limit()];
            buffer.duplicate().get(copy);
            return copy;
        }
    }

    private static final class BufferInputStream extends InputStream {
        private final ByteBuffer buffer;

        BufferInputStream(ByteBuffer buffer) {
            this.buffer = buffer;
        }

        @Override
        public int read() {
            return buffer.hasRemaining() ? buffer.get() & 0xFF : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            if (!buffer.hasRemaining()) {
                return -1;
            }
            int n = Math.min(len, buffer.remaining());
            buffer.get(b, off, n);
            return n;
        }

        @Override
        public int available() {
            return buffer.remaining();
        }
    }
}

package io.ollamabalancer.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.json.JsonWriteFeature;

/**
 * Escapes strings the way Go's {@code encoding/json} does, so JSON the balancer writes itself reads byte for byte
 * like Ollama's: {@code <}, {@code >} and {@code &} as {@code \u003c}, {@code \u003e}, {@code \u0026}, and the
 * line and paragraph separators U+2028/U+2029 escaped, all with lower-case hex. Immutable and thread-safe.
 */
final class GoJsonEscapes extends CharacterEscapes {
    private static final long serialVersionUID = 1L;

    /** A generator factory writing Go-style escapes; thread-safe and shared. */
    static final JsonFactory FACTORY = new JsonFactoryBuilder()
            .characterEscapes(new GoJsonEscapes())
            .disable(JsonWriteFeature.WRITE_HEX_UPPER_CASE)
            .build();

    private static final SerializedString LINE_SEPARATOR = new SerializedString("\\u2028");
    private static final SerializedString PARAGRAPH_SEPARATOR = new SerializedString("\\u2029");

    private final int[] ascii;

    private GoJsonEscapes() {
        ascii = standardAsciiEscapesForJSON();
        ascii['<'] = ESCAPE_STANDARD;
        ascii['>'] = ESCAPE_STANDARD;
        ascii['&'] = ESCAPE_STANDARD;
    }

    @Override
    public int[] getEscapeCodesForAscii() {
        return ascii;
    }

    @Override
    public SerializableString getEscapeSequence(int ch) {
        if (ch == 0x2028) {
            return LINE_SEPARATOR;
        }
        if (ch == 0x2029) {
            return PARAGRAPH_SEPARATOR;
        }
        return null;
    }
}

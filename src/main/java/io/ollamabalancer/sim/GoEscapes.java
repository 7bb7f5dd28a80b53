package io.ollamabalancer.sim;

import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;

import java.util.Locale;

/**
 * String escaping exactly as Go's {@code encoding/json} writes it: {@code <}, {@code >} and {@code &} as
 * backslash-u003c, -u003e and -u0026; U+2028/U+2029 escaped; other control characters as lower-case
 * backslash-u00xx (Jackson would write upper-case hex). Stateless, shared.
 */
final class GoEscapes extends CharacterEscapes {
    static final GoEscapes INSTANCE = new GoEscapes();
    private static final long serialVersionUID = 1L;

    private final int[] asciiEscapes;

    private GoEscapes() {
        int[] esc = CharacterEscapes.standardAsciiEscapesForJSON();
        for (int c = 0; c < 0x20; c++) {
            if (c != '\n' && c != '\r' && c != '\t' && c != '\b' && c != '\f') {
                esc[c] = CharacterEscapes.ESCAPE_CUSTOM;
            }
        }
        esc['<'] = CharacterEscapes.ESCAPE_CUSTOM;
        esc['>'] = CharacterEscapes.ESCAPE_CUSTOM;
        esc['&'] = CharacterEscapes.ESCAPE_CUSTOM;
        asciiEscapes = esc;
    }

    @Override
    public int[] getEscapeCodesForAscii() {
        return asciiEscapes.clone();
    }

    @Override
    public SerializableString getEscapeSequence(int ch) {
        if (ch < 0x20 || ch == '<' || ch == '>' || ch == '&' || ch == 0x2028 || ch == 0x2029) {
            return new SerializedString(String.format(Locale.ROOT, "\\u%04x", ch));
        }
        return null;
    }
}

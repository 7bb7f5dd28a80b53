package io.ollamabalancer.estimate;

/**
 * A one-pass character census of a prompt: how much is ASCII, how much is CJK-like (about one token per character
 * or more), how much is other non-ASCII script (Cyrillic, Greek, accented Latin: two to four characters per
 * token). It drives both the length-based token estimate and the choice of tokenizer. Immutable.
 *
 * @param ascii characters below U+0080
 * @param dense CJK ideographs, kana, Hangul, full-width forms and surrogate halves (emoji and rare ideographs)
 * @param other every other character
 */
public record TextProfile(int ascii, int dense, int other) {

    public static final TextProfile EMPTY = new TextProfile(0, 0, 0);

    /** Counts the text's characters by class; O(length), no allocation. */
    public static TextProfile of(CharSequence text) {
        if (text == null || text.length() == 0) {
            return EMPTY;
        }
        int ascii = 0;
        int dense = 0;
        int other = 0;
        for (int i = 0, n = text.length(); i < n; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                ascii++;
            } else if (isDense(c)) {
                dense++;
            } else {
                other++;
            }
        }
        return new TextProfile(ascii, dense, other);
    }

    public int length() {
        return ascii + dense + other;
    }

    /** Mostly non-Latin text, where o200k counts closer to modern multilingual vocabularies than cl100k. */
    public boolean mostlyNonLatin() {
        int n = length();
        return n > 0 && (dense + other) * 10 > n * 3;
    }

    private static boolean isDense(char c) {
        return (c >= 0x2E80 && c <= 0x9FFF)       // CJK radicals, kana, CJK unified ideographs
                || (c >= 0xAC00 && c <= 0xD7AF)    // Hangul syllables
                || (c >= 0xD800 && c <= 0xDFFF)    // surrogates: emoji, CJK extensions
                || (c >= 0xF900 && c <= 0xFAFF)    // CJK compatibility ideographs
                || (c >= 0xFF00 && c <= 0xFFEF);   // full-width forms
    }
}

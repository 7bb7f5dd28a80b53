package io.ollamabalancer.request;

/**
 * Joins non-empty texts with {@code '\n'}, copying nothing while there is only one (the common case of a single
 * prompt or message). Not thread-safe; one per parse.
 */
final class TextJoin {
    private String first;
    private StringBuilder joined;

    void add(String text) {
        if (text == null || text.isEmpty()) {
            return;
        }
        if (joined != null) {
            joined.append('\n').append(text);
        } else if (first == null) {
            first = text;
        } else {
            joined = new StringBuilder(first.length() + 1 + text.length()).append(first).append('\n').append(text);
            first = null;
        }
    }

    void reset() {
        first = null;
        joined = null;
    }

    String result() {
        if (joined != null) {
            return joined.toString();
        }
        return first == null ? "" : first;
    }
}

package io.ollamabalancer.auth;

/**
 * A model-name pattern from the keys file: {@code *} matches any run of characters (none included), {@code ?} any
 * one character, everything else itself, case-insensitively (model names are normalised to lower case). Immutable.
 */
public final class ModelGlob {
    private final String pattern;

    public ModelGlob(String pattern) {
        this.pattern = pattern.trim().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * Whether {@code model} (a normalised model name such as {@code llama3.2:latest}) matches. A pattern without a
     * tag also matches the {@code :latest} tag, as Ollama reads a name without one.
     */
    public boolean matches(String model) {
        if (model == null) {
            return false;
        }
        if (match(pattern, model)) {
            return true;
        }
        return pattern.indexOf(':') < 0 && match(pattern + ":latest", model);
    }

    /** Iterative wildcard match with one backtrack point: linear in practice, never exponential. */
    static boolean match(String p, String s) {
        int pi = 0;
        int si = 0;
        int star = -1;
        int mark = 0;
        while (si < s.length()) {
            if (pi < p.length() && (p.charAt(pi) == '?' || p.charAt(pi) == s.charAt(si))) {
                pi++;
                si++;
            } else if (pi < p.length() && p.charAt(pi) == '*') {
                star = pi++;
                mark = si;
            } else if (star >= 0) {
                pi = star + 1;
                si = ++mark;
            } else {
                return false;
            }
        }
        while (pi < p.length() && p.charAt(pi) == '*') {
            pi++;
        }
        return pi == p.length();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelGlob g && g.pattern.equals(pattern);
    }

    @Override
    public int hashCode() {
        return pattern.hashCode();
    }

    @Override
    public String toString() {
        return pattern;
    }
}

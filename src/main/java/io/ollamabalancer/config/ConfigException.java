package io.ollamabalancer.config;

/**
 * A configuration mistake the operator must fix: a bad flag, environment value, {@code .env} line, property or
 * backends file. The message is one readable line that already names where the mistake is (file, line and column,
 * backend, variable), so the CLI prints it as is and exits with status 2, without a stack trace.
 * Immutable; thrown on the thread that reads the configuration.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(oneLine(message), null, false, false);
    }

    /** The same mistake, with where it came from put in front ({@code "--port: "}, {@code ".env: PORT: "}). */
    public ConfigException prefixed(String where) {
        return new ConfigException(where + ": " + getMessage());
    }

    /** Keeps only the first line: operators read these in a terminal or a container log, one error per line. */
    static String oneLine(String s) {
        if (s == null) {
            return "unknown configuration error";
        }
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl);
        return line.strip();
    }
}

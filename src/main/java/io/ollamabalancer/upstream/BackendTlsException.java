package io.ollamabalancer.upstream;

import java.net.ConnectException;

/**
 * The TLS handshake with an {@code https://} backend failed: its certificate is not trusted or not for its host, or
 * the two sides share no protocol. A connection failure (the backend could not be reached), with a message an
 * operator can act on, shown as the backend's health error. Immutable.
 */
public final class BackendTlsException extends ConnectException {
    private static final long serialVersionUID = 1L;

    public BackendTlsException(String backend, Throwable cause) {
        super("TLS handshake with " + backend + " failed: " + describe(cause));
        initCause(cause);
    }

    private static String describe(Throwable cause) {
        StringBuilder all = new StringBuilder();
        String deepest = cause.getClass().getSimpleName();
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage();
            if (m != null && !m.isBlank()) {
                all.append(m).append(' ');
                deepest = m.replace('\n', ' ');
            }
        }
        // The JDK's engine says PKIX in its own message; OpenSSL's says "General OpenSslEngine problem" and
        // carries the JDK trust manager's verdict as its cause.
        String text = all.toString();
        if (text.contains("PKIX") || text.contains("certification path")) {
            return "its certificate is not trusted (" + deepest + "); give its CA with --backend-ca";
        }
        if (text.contains("No subject alternative") || text.contains("No name matching")) {
            return "its certificate is not for this host (" + deepest + ")";
        }
        return deepest;
    }
}

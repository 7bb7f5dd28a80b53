package io.ollamabalancer.upstream;

import java.net.ConnectException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLHandshakeException;

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
        String why = innermost(cause);
        if (has(cause, CertPathValidatorException.class) || why.contains("PKIX")
                || why.contains("unable to find valid certification path")) {
            return "its certificate is not trusted (" + why + "); give its CA with --backend-ca";
        }
        if (has(cause, CertificateException.class) && why.contains("No subject alternative")) {
            return "its certificate is not for this host (" + why + ")";
        }
        return why;
    }

    private static boolean has(Throwable cause, Class<? extends Throwable> type) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static String innermost(Throwable cause) {
        Throwable t = cause;
        while (t.getCause() != null && t.getCause() != t && !(t instanceof SSLHandshakeException
                && t.getMessage() != null && !t.getMessage().contains("Exception"))) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return (m == null || m.isBlank() ? t.getClass().getSimpleName() : m).replace('\n', ' ');
    }
}

package io.ollamabalancer.backend;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Classifies and describes failures talking to a backend, for the health policy. Stateless. */
public final class Failures {

    private Failures() {
    }

    /**
     * Whether a failure means nobody is listening at all — a refused connection, no route to the host, or a host
     * name that does not resolve — as opposed to a timeout or a reset, which may be load and only count.
     */
    public static boolean isConnectionRefused(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof NoRouteToHostException || t instanceof UnknownHostException) {
                return true;
            }
            // Timeouts are ConnectExceptions too (in Netty); only the kernel's "refused" is certain.
            if (t instanceof ConnectException && t.getMessage() != null
                    && t.getMessage().toLowerCase(Locale.ROOT).contains("refused")) {
                return true;
            }
        }
        return false;
    }

    /** Whether the failure is the balancer's own limit ({@link LocalFailure}), not the backend's. */
    public static boolean isLocal(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof LocalFailure) {
                return true;
            }
        }
        return false;
    }

    /** A one-line reason for a failure, without the future's wrapper exceptions. */
    public static String describe(Throwable cause) {
        Throwable t = cause;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t == null) {
            return "unknown failure";
        }
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m.replace('\n', ' ');
    }
}

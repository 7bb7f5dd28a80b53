package io.ollamabalancer.logging;

import ch.qos.logback.classic.LoggerContext;
import org.slf4j.LoggerFactory;

/**
 * Ends logging when the process ends: stops logback's context, so each {@link NonBlockingAppender} writes out what is
 * still queued (waiting a bounded time, since the output may be stalled) and the console appenders flush. Called
 * last on the way out ({@code Main}, and after a shutdown hook's own work); a line logged after it is lost.
 * Thread-safe; a no-op when SLF4J is not bound to logback.
 */
public final class Logs {
    private Logs() {
    }

    public static void stop() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.stop();
        }
    }
}
